//go:build cgo && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

// See shim.h. Constants are OpenSSL 3.0's, as <openssl/*.h> of 3.0 define
// them; the comment beside each names the macro.

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "shim.h"
#include "_cgo_export.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct ssl_st SSL;
typedef struct ssl_method_st SSL_METHOD;
typedef struct ssl_cipher_st SSL_CIPHER;
typedef struct ssl_conf_ctx_st SSL_CONF_CTX;
typedef struct bio_st BIO;
typedef struct bio_method_st BIO_METHOD;
typedef struct x509_st X509;
typedef struct x509_store_ctx_st X509_STORE_CTX;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_md_st EVP_MD;
typedef struct evp_cipher_st EVP_CIPHER;
typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;
typedef struct engine_st ENGINE;

// <openssl/core.h>: OSSL_PARAM, built with OSSL_PARAM_construct_*.
typedef struct ossl_param_st {
	const char *key;
	unsigned int data_type;
	void *data;
	size_t data_size;
	size_t return_size;
} OSSL_PARAM;

// <openssl/ssl.h>, <openssl/tls1.h>, <openssl/bio.h>, <openssl/x509_vfy.h>
#define SSL_ERROR_NONE 0                        // SSL_ERROR_NONE
#define SSL_RECEIVED_SHUTDOWN 2                 // SSL_RECEIVED_SHUTDOWN
#define SSL_ERROR_SSL 1                         // SSL_ERROR_SSL
#define SSL_ERROR_WANT_WRITE 3                  // SSL_ERROR_WANT_WRITE
#define SSL_ERROR_SYSCALL 5                     // SSL_ERROR_SYSCALL
#define SSL_CTRL_MODE 33                        // SSL_CTRL_MODE: SSL_CTX_set_mode
#define SSL_CTRL_SET_SESS_CACHE_SIZE 42         // SSL_CTX_sess_set_cache_size
#define SSL_CTRL_SET_SESS_CACHE_MODE 44         // SSL_CTX_set_session_cache_mode
#define SSL_CTRL_SET_TLSEXT_HOSTNAME 55         // SSL_set_tlsext_host_name
#define SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB 63    // SSL_CTX_set_tlsext_status_cb
#define SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE 65  // SSL_set_tlsext_status_type
#define SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP 70 // SSL_get_tlsext_status_ocsp_resp
#define SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP 71 // SSL_set_tlsext_status_ocsp_resp
#define SSL_CTRL_CHAIN_CERT 89                  // SSL_CTX_add1_chain_cert (larg 1) / add0 (larg 0)
#define SSL_CTRL_SET_GROUPS 91                  // SSL_CTX_set1_groups
#define SSL_CTRL_GET_PEER_TMP_KEY 109           // SSL_get_peer_tmp_key
#define SSL_CTRL_SET_MIN_PROTO_VERSION 123      // SSL_CTX_set_min_proto_version
#define SSL_CTRL_SET_MAX_PROTO_VERSION 124      // SSL_CTX_set_max_proto_version
#define SSL_CTRL_GET_NEGOTIATED_GROUP 134       // SSL_get_negotiated_group
#define SSL_CTRL_SET_RETRY_VERIFY 136           // SSL_set_retry_verify
#define TLSEXT_NAMETYPE_host_name 0             // TLSEXT_NAMETYPE_host_name
#define TLSEXT_STATUSTYPE_ocsp 1                // TLSEXT_STATUSTYPE_ocsp
#define SSL_TLSEXT_ERR_OK 0                     // SSL_TLSEXT_ERR_OK
#define SSL_TLSEXT_ERR_ALERT_FATAL 2            // SSL_TLSEXT_ERR_ALERT_FATAL
#define SSL_TLSEXT_ERR_NOACK 3                  // SSL_TLSEXT_ERR_NOACK
#define SSL_SESS_CACHE_CLIENT 0x0001            // SSL_SESS_CACHE_CLIENT
#define SSL_SESS_CACHE_SERVER 0x0002            // SSL_SESS_CACHE_SERVER
#define SSL_SESS_CACHE_NO_INTERNAL_STORE 0x0200 // SSL_SESS_CACHE_NO_INTERNAL_STORE
#define SSL_MODE_AUTO_RETRY 0x00000004U         // SSL_MODE_AUTO_RETRY
#define SSL_CB_WRITE 0x08                       // SSL_CB_WRITE
#define SSL_CB_ALERT 0x4000                     // SSL_CB_ALERT
#define TLS_ST_CW_CLNT_HELLO 12                 // OSSL_HANDSHAKE_STATE TLS_ST_CW_CLNT_HELLO
#define TLS1_3_VERSION 0x0304                   // TLS1_3_VERSION
#define SSL_CONF_FLAG_FILE 0x2                  // SSL_CONF_FLAG_FILE
#define SSL_CONF_FLAG_CLIENT 0x4                // SSL_CONF_FLAG_CLIENT
#define SSL_CONF_FLAG_SERVER 0x8                // SSL_CONF_FLAG_SERVER
#define SSL_CONF_FLAG_SHOW_ERRORS 0x10          // SSL_CONF_FLAG_SHOW_ERRORS
#define BIO_CTRL_RESET 1                        // BIO_reset
#define BIO_CTRL_PENDING 10                     // BIO_ctrl_pending
#define BIO_CTRL_FLUSH 11                       // BIO_flush
#define BIO_TYPE_SOURCE_SINK 0x0400             // BIO_TYPE_SOURCE_SINK
#define BIO_FLAGS_READ 0x01                     // BIO_FLAGS_READ
#define BIO_FLAGS_RWS 0x07                      // BIO_FLAGS_RWS
#define BIO_FLAGS_SHOULD_RETRY 0x08             // BIO_FLAGS_SHOULD_RETRY
#define CRYPTO_EX_INDEX_SSL 0                   // CRYPTO_EX_INDEX_SSL: SSL_get_ex_new_index
#define OPENSSL_VERSION 0                       // OpenSSL_version(OPENSSL_VERSION)
#define EVP_PKEY_DH 28                          // EVP_PKEY_DH (NID_dhKeyAgreement)
#define ERR_REASON_MASK 0x7FFFFF                // ERR_REASON_MASK
#define ERR_SYSTEM_FLAG ((unsigned long)1 << 31) // ERR_SYSTEM_FLAG
#define PSK_MAX_IDENTITY_LEN 256                // PSK_MAX_IDENTITY_LEN
#define PSK_MAX_PSK_LEN 512                     // PSK_MAX_PSK_LEN

typedef int (*cert_verify_cb)(X509_STORE_CTX *, void *);
typedef void (*info_cb)(const SSL *, int, int);
typedef int (*alpn_select_cb)(SSL *, const unsigned char **, unsigned char *, const unsigned char *, unsigned int, void *);
typedef unsigned int (*psk_client_cb)(SSL *, const char *, char *, unsigned int, unsigned char *, unsigned int);
typedef unsigned int (*psk_server_cb)(SSL *, const char *, unsigned char *, unsigned int);
typedef int (*psk_use_session_cb)(SSL *, const EVP_MD *, const unsigned char **, size_t *, SSL_SESSION **);
typedef int (*psk_find_session_cb)(SSL *, const unsigned char *, size_t, SSL_SESSION **);
typedef int (*new_session_cb)(SSL *, SSL_SESSION *);
typedef int (*status_cb)(SSL *, void *);
typedef int (*ticket_key_evp_cb)(SSL *, unsigned char *, unsigned char *, EVP_CIPHER_CTX *, EVP_MAC_CTX *, int);

// The entry points, filled by shim_load.
typedef struct {
	// libcrypto
	unsigned long (*OpenSSL_version_num)(void);
	const char *(*OpenSSL_version)(int);
	unsigned long (*ERR_get_error)(void);
	unsigned long (*ERR_peek_error)(void);
	void (*ERR_clear_error)(void);
	void (*ERR_error_string_n)(unsigned long, char *, size_t);
	BIO *(*BIO_new)(const BIO_METHOD *);
	int (*BIO_free)(BIO *);
	int (*BIO_get_new_index)(void);
	BIO_METHOD *(*BIO_meth_new)(int, const char *);
	int (*BIO_meth_set_write)(BIO_METHOD *, int (*)(BIO *, const char *, int));
	int (*BIO_meth_set_read)(BIO_METHOD *, int (*)(BIO *, char *, int));
	int (*BIO_meth_set_ctrl)(BIO_METHOD *, long (*)(BIO *, int, long, void *));
	void (*BIO_set_data)(BIO *, void *);
	void *(*BIO_get_data)(BIO *);
	void (*BIO_set_init)(BIO *, int);
	void (*BIO_set_flags)(BIO *, int);
	void (*BIO_clear_flags)(BIO *, int);
	X509 *(*d2i_X509)(X509 **, const unsigned char **, long);
	int (*i2d_X509)(X509 *, unsigned char **);
	void (*X509_free)(X509 *);
	EVP_PKEY *(*d2i_AutoPrivateKey)(EVP_PKEY **, const unsigned char **, long);
	EVP_PKEY *(*d2i_KeyParams)(int, EVP_PKEY **, const unsigned char **, long);
	size_t (*EVP_PKEY_get1_encoded_public_key)(EVP_PKEY *, unsigned char **);
	int (*i2d_PUBKEY)(EVP_PKEY *, unsigned char **);
	int (*EVP_PKEY_get_base_id)(const EVP_PKEY *);
	int (*EVP_PKEY_get_bits)(const EVP_PKEY *);
	void (*CRYPTO_free)(void *, const char *, int);
	void (*EVP_PKEY_free)(EVP_PKEY *);
	int (*EVP_MD_get_type)(const EVP_MD *);
	void *(*X509_STORE_CTX_get_ex_data)(const X509_STORE_CTX *, int);
	OPENSSL_STACK *(*X509_STORE_CTX_get0_untrusted)(const X509_STORE_CTX *);
	void (*X509_STORE_CTX_set_error)(X509_STORE_CTX *, int);
	int (*OPENSSL_sk_num)(const OPENSSL_STACK *);
	void *(*OPENSSL_sk_value)(const OPENSSL_STACK *, int);
	void *(*CRYPTO_malloc)(size_t, const char *, int);
	void (*OPENSSL_cleanse)(void *, size_t);
	int (*CRYPTO_get_ex_new_index)(int, long, void *, void *, void *, void *);
	const EVP_CIPHER *(*EVP_aes_128_cbc)(void);
	const EVP_CIPHER *(*EVP_aes_256_cbc)(void);
	int (*EVP_EncryptInit_ex)(EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, const unsigned char *, const unsigned char *);
	int (*EVP_DecryptInit_ex)(EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, const unsigned char *, const unsigned char *);
	int (*EVP_MAC_CTX_set_params)(EVP_MAC_CTX *, const OSSL_PARAM *);
	OSSL_PARAM (*OSSL_PARAM_construct_utf8_string)(const char *, char *, size_t);
	OSSL_PARAM (*OSSL_PARAM_construct_octet_string)(const char *, void *, size_t);
	OSSL_PARAM (*OSSL_PARAM_construct_end)(void);
	int (*RAND_bytes)(unsigned char *, int);
	// libssl
	const SSL_METHOD *(*TLS_method)(void);
	SSL_CTX *(*SSL_CTX_new)(const SSL_METHOD *);
	void (*SSL_CTX_free)(SSL_CTX *);
	int (*SSL_CTX_up_ref)(SSL_CTX *);
	long (*SSL_CTX_ctrl)(SSL_CTX *, int, long, void *);
	long (*SSL_CTX_callback_ctrl)(SSL_CTX *, int, void (*)(void));
	uint64_t (*SSL_CTX_set_options)(SSL_CTX *, uint64_t);
	uint64_t (*SSL_CTX_clear_options)(SSL_CTX *, uint64_t);
	int (*SSL_CTX_set_cipher_list)(SSL_CTX *, const char *);
	int (*SSL_CTX_set_ciphersuites)(SSL_CTX *, const char *);
	int (*SSL_CTX_use_certificate)(SSL_CTX *, X509 *);
	int (*SSL_CTX_use_PrivateKey)(SSL_CTX *, EVP_PKEY *);
	int (*SSL_CTX_check_private_key)(const SSL_CTX *);
	int (*SSL_CTX_set0_tmp_dh_pkey)(SSL_CTX *, EVP_PKEY *);
	void (*SSL_CTX_set_cert_verify_callback)(SSL_CTX *, cert_verify_cb, void *);
	void (*SSL_CTX_set_info_callback)(SSL_CTX *, info_cb);
	void (*SSL_CTX_set_alpn_select_cb)(SSL_CTX *, alpn_select_cb, void *);
	void (*SSL_CTX_set_psk_client_callback)(SSL_CTX *, psk_client_cb);
	void (*SSL_CTX_set_psk_server_callback)(SSL_CTX *, psk_server_cb);
	int (*SSL_CTX_use_psk_identity_hint)(SSL_CTX *, const char *);
	void (*SSL_CTX_set_psk_use_session_callback)(SSL_CTX *, psk_use_session_cb);
	void (*SSL_CTX_set_psk_find_session_callback)(SSL_CTX *, psk_find_session_cb);
	void (*SSL_CTX_sess_set_new_cb)(SSL_CTX *, new_session_cb);
	int (*SSL_CTX_set_session_id_context)(SSL_CTX *, const unsigned char *, unsigned int);
	int (*SSL_CTX_get_security_level)(const SSL_CTX *);
	SSL_CONF_CTX *(*SSL_CONF_CTX_new)(void);
	unsigned int (*SSL_CONF_CTX_set_flags)(SSL_CONF_CTX *, unsigned int);
	void (*SSL_CONF_CTX_set_ssl_ctx)(SSL_CONF_CTX *, SSL_CTX *);
	int (*SSL_CONF_cmd)(SSL_CONF_CTX *, const char *, const char *);
	int (*SSL_CONF_CTX_finish)(SSL_CONF_CTX *);
	void (*SSL_CONF_CTX_free)(SSL_CONF_CTX *);
	SSL *(*SSL_new)(SSL_CTX *);
	void (*SSL_free)(SSL *);
	long (*SSL_ctrl)(SSL *, int, long, void *);
	void (*SSL_set_bio)(SSL *, BIO *, BIO *);
	void (*SSL_set_connect_state)(SSL *);
	void (*SSL_set_accept_state)(SSL *);
	int (*SSL_set_ex_data)(SSL *, int, void *);
	void *(*SSL_get_ex_data)(const SSL *, int);
	int (*SSL_get_ex_data_X509_STORE_CTX_idx)(void);
	void (*SSL_set_verify)(SSL *, int, void *);
	int (*SSL_do_handshake)(SSL *);
	int (*SSL_read_ex)(SSL *, void *, size_t, size_t *);
	int (*SSL_write_ex)(SSL *, const void *, size_t, size_t *);
	int (*SSL_shutdown)(SSL *);
	int (*SSL_get_error)(const SSL *, int);
	int (*SSL_is_init_finished)(const SSL *);
	int (*SSL_has_pending)(const SSL *);
	int (*SSL_get_shutdown)(const SSL *);
	int (*SSL_is_server)(const SSL *);
	int (*SSL_version)(const SSL *);
	int (*SSL_get_state)(const SSL *);
	const SSL_CIPHER *(*SSL_get_current_cipher)(const SSL *);
	const char *(*SSL_CIPHER_get_name)(const SSL_CIPHER *);
	char *(*SSL_CIPHER_description)(const SSL_CIPHER *, char *, int);
	int (*SSL_CIPHER_get_bits)(const SSL_CIPHER *, int *);
	uint32_t (*SSL_CIPHER_get_protocol_id)(const SSL_CIPHER *);
	const SSL_CIPHER *(*SSL_CIPHER_find)(SSL *, const unsigned char *);
	const EVP_MD *(*SSL_CIPHER_get_handshake_digest)(const SSL_CIPHER *);
	OPENSSL_STACK *(*SSL_get_ciphers)(const SSL *);
	int (*SSL_set_alpn_protos)(SSL *, const unsigned char *, unsigned int);
	void (*SSL_get0_alpn_selected)(const SSL *, const unsigned char **, unsigned int *);
	int (*SSL_session_reused)(const SSL *);
	X509 *(*SSL_get0_peer_certificate)(const SSL *);
	OPENSSL_STACK *(*SSL_get_peer_cert_chain)(const SSL *);
	const char *(*SSL_get_servername)(const SSL *, int);
	const char *(*SSL_alert_desc_string_long)(int);
	int (*SSL_set_session)(SSL *, SSL_SESSION *);
	SSL_SESSION *(*SSL_SESSION_new)(void);
	void (*SSL_SESSION_free)(SSL_SESSION *);
	int (*SSL_SESSION_set1_master_key)(SSL_SESSION *, const unsigned char *, size_t);
	int (*SSL_SESSION_set_cipher)(SSL_SESSION *, const SSL_CIPHER *);
	int (*SSL_SESSION_set_protocol_version)(SSL_SESSION *, int);
	int (*SSL_SESSION_is_resumable)(const SSL_SESSION *);
	unsigned long (*SSL_SESSION_get_ticket_lifetime_hint)(const SSL_SESSION *);
	int (*i2d_SSL_SESSION)(SSL_SESSION *, unsigned char **);
	SSL_SESSION *(*d2i_SSL_SESSION)(SSL_SESSION **, const unsigned char **, long);
	int (*SSL_CTX_set_tlsext_ticket_key_evp_cb)(SSL_CTX *, ticket_key_evp_cb);
	void (*SSL_SESSION_get0_ticket)(const SSL_SESSION *, const unsigned char **, size_t *);
} functions;

static functions F;
static int loaded;
static BIO_METHOD *buf_method; // the BIOs over shim_buf, made once by shim_load

static int ex_index = -1;

struct shim_conn {
	SSL *ssl;
	shim_buf in;  // ciphertext received, read by libssl through rbio
	shim_buf out; // ciphertext to send, written by libssl through wbio
	uintptr_t handle; // the Go engine's cgo.Handle; 0 once released
	int server;
	size_t max_pending; // bound on ciphertext waiting in wbio before a write stops
	int psk13;        // TLS 1.3 external PSK offered (client) / looked up (server)
	int x509_error;   // the verification error a failing verify callback reports
	unsigned char *alpn; // server: the accepted protocols, wire format
	int alpn_len;
	int alpn_no_overlap;
	unsigned char *staple; // server: the OCSP response to staple
	int staple_len;
	int psk_have;     // the credentials below came from the application
	unsigned char psk_id[PSK_MAX_IDENTITY_LEN + 1];
	int psk_id_len;
	unsigned char psk_key[PSK_MAX_PSK_LEN];
	int psk_key_len;
	shim_err err;
};

// ---- loading ----

#define SYM(lib, name)                                                                 \
	do {                                                                               \
		*(void **)(&f->name) = dlsym(lib, #name);                                      \
		if (f->name == NULL) {                                                         \
			snprintf(why, why_len, "symbol %s missing from the library", #name);       \
			return 0;                                                                  \
		}                                                                              \
	} while (0)

static int load_symbols(functions *f, void *crypto_lib, void *ssl_lib, char *why, size_t why_len) {
	SYM(crypto_lib, OpenSSL_version_num);
	SYM(crypto_lib, OpenSSL_version);
	unsigned long v = f->OpenSSL_version_num();
	if ((v >> 28) != 3) {
		snprintf(why, why_len, "the library is %s, not OpenSSL 3", f->OpenSSL_version(OPENSSL_VERSION));
		return 0;
	}
	SYM(crypto_lib, ERR_get_error);
	SYM(crypto_lib, ERR_peek_error);
	SYM(crypto_lib, ERR_clear_error);
	SYM(crypto_lib, ERR_error_string_n);
	SYM(crypto_lib, BIO_new);
	SYM(crypto_lib, BIO_free);
	SYM(crypto_lib, BIO_get_new_index);
	SYM(crypto_lib, BIO_meth_new);
	SYM(crypto_lib, BIO_meth_set_write);
	SYM(crypto_lib, BIO_meth_set_read);
	SYM(crypto_lib, BIO_meth_set_ctrl);
	SYM(crypto_lib, BIO_set_data);
	SYM(crypto_lib, BIO_get_data);
	SYM(crypto_lib, BIO_set_init);
	SYM(crypto_lib, BIO_set_flags);
	SYM(crypto_lib, BIO_clear_flags);
	SYM(crypto_lib, d2i_X509);
	SYM(crypto_lib, i2d_X509);
	SYM(crypto_lib, X509_free);
	SYM(crypto_lib, d2i_AutoPrivateKey);
	SYM(crypto_lib, d2i_KeyParams);
	SYM(crypto_lib, EVP_PKEY_get1_encoded_public_key);
	SYM(crypto_lib, i2d_PUBKEY);
	SYM(crypto_lib, EVP_PKEY_get_base_id);
	SYM(crypto_lib, EVP_PKEY_get_bits);
	SYM(crypto_lib, CRYPTO_free);
	SYM(crypto_lib, EVP_PKEY_free);
	SYM(crypto_lib, EVP_MD_get_type);
	SYM(crypto_lib, X509_STORE_CTX_get_ex_data);
	SYM(crypto_lib, X509_STORE_CTX_get0_untrusted);
	SYM(crypto_lib, X509_STORE_CTX_set_error);
	SYM(crypto_lib, OPENSSL_sk_num);
	SYM(crypto_lib, OPENSSL_sk_value);
	SYM(crypto_lib, CRYPTO_malloc);
	SYM(crypto_lib, OPENSSL_cleanse);
	SYM(crypto_lib, CRYPTO_get_ex_new_index);
	SYM(crypto_lib, EVP_aes_128_cbc);
	SYM(crypto_lib, EVP_aes_256_cbc);
	SYM(crypto_lib, EVP_EncryptInit_ex);
	SYM(crypto_lib, EVP_DecryptInit_ex);
	SYM(crypto_lib, EVP_MAC_CTX_set_params);
	SYM(crypto_lib, OSSL_PARAM_construct_utf8_string);
	SYM(crypto_lib, OSSL_PARAM_construct_octet_string);
	SYM(crypto_lib, OSSL_PARAM_construct_end);
	SYM(crypto_lib, RAND_bytes);
	SYM(ssl_lib, TLS_method);
	SYM(ssl_lib, SSL_CTX_new);
	SYM(ssl_lib, SSL_CTX_free);
	SYM(ssl_lib, SSL_CTX_up_ref);
	SYM(ssl_lib, SSL_CTX_ctrl);
	SYM(ssl_lib, SSL_CTX_callback_ctrl);
	SYM(ssl_lib, SSL_CTX_set_options);
	SYM(ssl_lib, SSL_CTX_clear_options);
	SYM(ssl_lib, SSL_CTX_set_cipher_list);
	SYM(ssl_lib, SSL_CTX_set_ciphersuites);
	SYM(ssl_lib, SSL_CTX_use_certificate);
	SYM(ssl_lib, SSL_CTX_use_PrivateKey);
	SYM(ssl_lib, SSL_CTX_check_private_key);
	SYM(ssl_lib, SSL_CTX_set0_tmp_dh_pkey);
	SYM(ssl_lib, SSL_CTX_set_cert_verify_callback);
	SYM(ssl_lib, SSL_CTX_set_info_callback);
	SYM(ssl_lib, SSL_CTX_set_alpn_select_cb);
	SYM(ssl_lib, SSL_CTX_set_psk_client_callback);
	SYM(ssl_lib, SSL_CTX_set_psk_server_callback);
	SYM(ssl_lib, SSL_CTX_use_psk_identity_hint);
	SYM(ssl_lib, SSL_CTX_set_psk_use_session_callback);
	SYM(ssl_lib, SSL_CTX_set_psk_find_session_callback);
	SYM(ssl_lib, SSL_CTX_sess_set_new_cb);
	SYM(ssl_lib, SSL_CTX_set_session_id_context);
	SYM(ssl_lib, SSL_CTX_get_security_level);
	SYM(ssl_lib, SSL_CONF_CTX_new);
	SYM(ssl_lib, SSL_CONF_CTX_set_flags);
	SYM(ssl_lib, SSL_CONF_CTX_set_ssl_ctx);
	SYM(ssl_lib, SSL_CONF_cmd);
	SYM(ssl_lib, SSL_CONF_CTX_finish);
	SYM(ssl_lib, SSL_CONF_CTX_free);
	SYM(ssl_lib, SSL_new);
	SYM(ssl_lib, SSL_free);
	SYM(ssl_lib, SSL_ctrl);
	SYM(ssl_lib, SSL_set_bio);
	SYM(ssl_lib, SSL_set_connect_state);
	SYM(ssl_lib, SSL_set_accept_state);
	SYM(ssl_lib, SSL_set_ex_data);
	SYM(ssl_lib, SSL_get_ex_data);
	SYM(ssl_lib, SSL_get_ex_data_X509_STORE_CTX_idx);
	SYM(ssl_lib, SSL_set_verify);
	SYM(ssl_lib, SSL_do_handshake);
	SYM(ssl_lib, SSL_read_ex);
	SYM(ssl_lib, SSL_write_ex);
	SYM(ssl_lib, SSL_shutdown);
	SYM(ssl_lib, SSL_get_error);
	SYM(ssl_lib, SSL_is_init_finished);
	SYM(ssl_lib, SSL_has_pending);
	SYM(ssl_lib, SSL_get_shutdown);
	SYM(ssl_lib, SSL_is_server);
	SYM(ssl_lib, SSL_version);
	SYM(ssl_lib, SSL_get_state);
	SYM(ssl_lib, SSL_get_current_cipher);
	SYM(ssl_lib, SSL_CIPHER_get_name);
	SYM(ssl_lib, SSL_CIPHER_description);
	SYM(ssl_lib, SSL_CIPHER_get_bits);
	SYM(ssl_lib, SSL_CIPHER_get_protocol_id);
	SYM(ssl_lib, SSL_CIPHER_find);
	SYM(ssl_lib, SSL_CIPHER_get_handshake_digest);
	SYM(ssl_lib, SSL_get_ciphers);
	SYM(ssl_lib, SSL_set_alpn_protos);
	SYM(ssl_lib, SSL_get0_alpn_selected);
	SYM(ssl_lib, SSL_session_reused);
	SYM(ssl_lib, SSL_get0_peer_certificate);
	SYM(ssl_lib, SSL_get_peer_cert_chain);
	SYM(ssl_lib, SSL_get_servername);
	SYM(ssl_lib, SSL_alert_desc_string_long);
	SYM(ssl_lib, SSL_set_session);
	SYM(ssl_lib, SSL_SESSION_new);
	SYM(ssl_lib, SSL_SESSION_free);
	SYM(ssl_lib, SSL_SESSION_set1_master_key);
	SYM(ssl_lib, SSL_SESSION_set_cipher);
	SYM(ssl_lib, SSL_SESSION_set_protocol_version);
	SYM(ssl_lib, SSL_SESSION_is_resumable);
	SYM(ssl_lib, SSL_SESSION_get_ticket_lifetime_hint);
	SYM(ssl_lib, i2d_SSL_SESSION);
	SYM(ssl_lib, d2i_SSL_SESSION);
	SYM(ssl_lib, SSL_CTX_set_tlsext_ticket_key_evp_cb);
	SYM(ssl_lib, SSL_SESSION_get0_ticket);
	return 1;
}

// ---- the buffers under the BIOs ----
//
// Each connection's BIOs are plain byte buffers (shim_buf) instead of
// memory BIOs: a memory BIO zeroes every region it grows into
// (BUF_MEM_grow_clean) and needs a C call to fill or drain, while Go reads
// and writes a shim_buf directly (engine.Feed, engine.TakeOutput) and calls
// C only to grow one. The read BIO answers "retry" when its buffer is
// empty: the end of the input is the engine's business (engine.FeedEOF).

int shim_buf_reserve(shim_buf *b, size_t n) {
	if (b->cap - b->w >= n)
		return 1;
	if (b->r > 0) { // move the unread bytes to the front
		memmove(b->p, b->p + b->r, b->w - b->r);
		b->w -= b->r;
		b->r = 0;
		if (b->cap - b->w >= n)
			return 1;
	}
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->w < n) {
		if (cap > ((size_t)1 << 40))
			return 0;
		cap *= 2;
	}
	unsigned char *p = realloc(b->p, cap);
	if (p == NULL)
		return 0;
	b->p = p;
	b->cap = cap;
	return 1;
}

// buf_copy copies n bytes between a buffer and libssl's. For large
// blocks glibc's memcpy uses `rep movsb`, which was measured (AMD EPYC,
// glibc 2.36) to run at half speed when source and destination are not
// equally aligned — here the usual case, a record's body following its
// 5-byte header — and the copy into libssl's read buffer then cost 5 % of
// a bulk transfer instead of 2.5 %. Unaligned 16-byte loads and stores do
// not care.
static void buf_copy(unsigned char *dst, const unsigned char *src, size_t n) {
#if defined(__SSE2__)
	for (; n >= 64; n -= 64, src += 64, dst += 64) {
		__m128i a = _mm_loadu_si128((const __m128i *)src);
		__m128i b = _mm_loadu_si128((const __m128i *)(src + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(src + 32));
		__m128i d = _mm_loadu_si128((const __m128i *)(src + 48));
		_mm_storeu_si128((__m128i *)dst, a);
		_mm_storeu_si128((__m128i *)(dst + 16), b);
		_mm_storeu_si128((__m128i *)(dst + 32), c);
		_mm_storeu_si128((__m128i *)(dst + 48), d);
	}
#endif
	memcpy(dst, src, n);
}

static int buf_bio_write(BIO *bio, const char *in, int len) {
	shim_buf *b = F.BIO_get_data(bio);
	F.BIO_clear_flags(bio, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
	if (len <= 0)
		return 0;
	if (!shim_buf_reserve(b, (size_t)len))
		return -1; // out of memory: an error, not a retry
	buf_copy(b->p + b->w, (const unsigned char *)in, (size_t)len);
	b->w += (size_t)len;
	return len;
}

static int buf_bio_read(BIO *bio, char *out, int len) {
	shim_buf *b = F.BIO_get_data(bio);
	F.BIO_clear_flags(bio, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
	if (len <= 0)
		return 0;
	size_t n = b->w - b->r;
	if (n == 0) {
		F.BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY);
		return -1;
	}
	if (n > (size_t)len)
		n = (size_t)len;
	buf_copy((unsigned char *)out, b->p + b->r, n);
	b->r += n;
	if (b->r == b->w)
		b->r = b->w = 0;
	return (int)n;
}

static long buf_bio_ctrl(BIO *bio, int cmd, long num, void *ptr) {
	shim_buf *b = F.BIO_get_data(bio);
	switch (cmd) {
	case BIO_CTRL_PENDING:
		return (long)(b->w - b->r);
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_RESET:
		b->r = b->w = 0;
		return 1;
	}
	return 0; // BIO_CTRL_EOF (not at the end), BIO_CTRL_WPENDING, kTLS queries, …
}

// shim_load opens the two libraries and resolves every entry point. A
// failed attempt changes nothing; once one succeeded, the libraries stay
// loaded for the life of the process and later calls only check that the
// named libraries load too.
int shim_load(const char *crypto_name, const char *ssl_name, char *why, size_t why_len) {
	void *crypto_lib = dlopen(crypto_name, RTLD_NOW | RTLD_LOCAL);
	if (crypto_lib == NULL) {
		snprintf(why, why_len, "%s", dlerror());
		return 0;
	}
	void *ssl_lib = dlopen(ssl_name, RTLD_NOW | RTLD_LOCAL);
	if (ssl_lib == NULL) {
		snprintf(why, why_len, "%s", dlerror());
		dlclose(crypto_lib);
		return 0;
	}
	functions f;
	memset(&f, 0, sizeof f);
	if (!load_symbols(&f, crypto_lib, ssl_lib, why, why_len)) {
		dlclose(ssl_lib);
		dlclose(crypto_lib);
		return 0;
	}
	if (loaded) {
		dlclose(ssl_lib); // drop the extra references
		dlclose(crypto_lib);
		return 1;
	}
	// SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL)
	int idx = f.CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, NULL, NULL, NULL, NULL);
	if (idx < 0) {
		snprintf(why, why_len, "SSL_get_ex_new_index failed");
		dlclose(ssl_lib);
		dlclose(crypto_lib);
		return 0;
	}
	// The BIO method over shim_buf: made once, never freed (the
	// libraries stay loaded for the life of the process).
	BIO_METHOD *m = f.BIO_meth_new(f.BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sslsocket buffer");
	if (m == NULL || f.BIO_meth_set_write(m, buf_bio_write) != 1 || f.BIO_meth_set_read(m, buf_bio_read) != 1 ||
	    f.BIO_meth_set_ctrl(m, buf_bio_ctrl) != 1) {
		snprintf(why, why_len, "BIO_meth_new failed");
		dlclose(ssl_lib);
		dlclose(crypto_lib);
		return 0;
	}
	F = f;
	ex_index = idx;
	buf_method = m;
	loaded = 1;
	return 1;
}

unsigned long shim_version_num(void) { return F.OpenSSL_version_num(); }
const char *shim_version_string(void) { return F.OpenSSL_version(OPENSSL_VERSION); }

// ---- errors ----

static void err_clear(shim_err *e) {
	e->code = 0;
	e->reason = 0;
	e->text[0] = 0;
}

// err_collect drains the thread's error queue into e.
static void err_collect(shim_err *e) {
	unsigned long code;
	size_t used = strlen(e->text);
	while ((code = F.ERR_get_error()) != 0) {
		if (e->code == 0) {
			e->code = code;
			e->reason = (code & ERR_SYSTEM_FLAG) ? 0 : (int)(code & ERR_REASON_MASK);
		}
		if (used + 4 >= sizeof e->text)
			continue;
		if (used > 0) {
			memcpy(e->text + used, ", ", 3);
			used += 2;
		}
		F.ERR_error_string_n(code, e->text + used, sizeof e->text - used);
		used += strlen(e->text + used);
	}
}

static void err_begin(shim_err *e) {
	F.ERR_clear_error();
	if (e)
		err_clear(e);
}

static int err_end(int ok, shim_err *e) {
	if (!ok)
		err_collect(e);
	F.ERR_clear_error();
	return ok;
}

static void err_text(shim_err *e, const char *msg) {
	if (e->text[0] == 0)
		snprintf(e->text, sizeof e->text, "%s", msg);
}

// ---- callbacks ----

static shim_conn *conn_of(const SSL *ssl) {
	shim_conn *c = ex_index >= 0 ? F.SSL_get_ex_data(ssl, ex_index) : NULL;
	if (c == NULL || c->handle == 0)
		return NULL;
	return c;
}

static int verify_callback(X509_STORE_CTX *x, void *arg) {
	(void)arg;
	SSL *ssl = F.X509_STORE_CTX_get_ex_data(x, F.SSL_get_ex_data_X509_STORE_CTX_idx());
	shim_conn *c = ssl ? conn_of(ssl) : NULL;
	if (c == NULL)
		return 0;
	c->x509_error = 0;
	int r = sslsockVerify(c->handle, F.X509_STORE_CTX_get0_untrusted(x));
	if (r < 0) {
		// Pause: SSL_set_retry_verify, then success (OpenSSL 3.0.3 and
		// later; the handshake returns SSL_ERROR_WANT_RETRY_VERIFY and
		// calls back again when resumed). Clients only.
		if (c->server)
			return 0;
		return F.SSL_ctrl(ssl, SSL_CTRL_SET_RETRY_VERIFY, 0, NULL) > 0;
	}
	if (r == 0) {
		// The alert OpenSSL sends follows from this code (ssl_x509err2alert).
		F.X509_STORE_CTX_set_error(x, c->x509_error ? c->x509_error : 28 /* X509_V_ERR_CERT_REJECTED */);
		return 0;
	}
	return 1;
}

static int status_callback(SSL *ssl, void *arg) {
	(void)arg;
	shim_conn *c = conn_of(ssl);
	if (c == NULL)
		return F.SSL_is_server(ssl) ? SSL_TLSEXT_ERR_NOACK : 0;
	if (c->server) {
		if (c->staple_len <= 0)
			return SSL_TLSEXT_ERR_NOACK;
		// OpenSSL takes ownership of the buffer: OPENSSL_malloc it.
		unsigned char *p = F.CRYPTO_malloc((size_t)c->staple_len, __FILE__, __LINE__);
		if (p == NULL)
			return SSL_TLSEXT_ERR_NOACK;
		memcpy(p, c->staple, (size_t)c->staple_len);
		F.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_STATUS_REQ_OCSP_RESP, c->staple_len, p);
		return SSL_TLSEXT_ERR_OK;
	}
	return sslsockStatus(c->handle);
}

static void info_callback(const SSL *ssl, int where, int ret) {
	if ((where & SSL_CB_ALERT) == 0)
		return;
	shim_conn *c = conn_of(ssl);
	if (c == NULL)
		return;
	sslsockAlert(c->handle, (where & SSL_CB_WRITE) ? 1 : 0, (ret >> 8) & 0xff, ret & 0xff,
	             (char *)F.SSL_alert_desc_string_long(ret));
}

// alpn_select picks, among the protocols the client offered, the first in
// the client's order that the server accepts (what Qt does on OpenSSL).
// Without overlap the handshake ends with no_application_protocol (RFC
// 7301 §3.2), as the go backend does.
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
	(void)arg;
	shim_conn *c = conn_of(ssl);
	if (c == NULL || c->alpn_len == 0)
		return SSL_TLSEXT_ERR_NOACK;
	unsigned int i = 0;
	while (i < inlen) {
		unsigned int l = in[i];
		if (l == 0 || i + 1 + l > inlen)
			break;
		int j = 0;
		while (j < c->alpn_len) {
			int m = c->alpn[j];
			if ((unsigned int)m == l && memcmp(c->alpn + j + 1, in + i + 1, l) == 0) {
				*out = in + i + 1;
				*outlen = (unsigned char)l;
				return SSL_TLSEXT_ERR_OK;
			}
			j += 1 + m;
		}
		i += 1 + l;
	}
	c->alpn_no_overlap = 1;
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static int new_session_callback(SSL *ssl, SSL_SESSION *sess) {
	shim_conn *c = conn_of(ssl);
	if (c != NULL)
		sslsockNewSession(c->handle, sess);
	return 0; // no reference kept
}

static unsigned int psk_client_callback(SSL *ssl, const char *hint, char *identity, unsigned int max_identity_len,
                                        unsigned char *psk, unsigned int max_psk_len) {
	shim_conn *c = conn_of(ssl);
	if (c == NULL)
		return 0;
	// OpenSSL also asks here while writing a TLS 1.3 ClientHello; TLS 1.3
	// external PSKs go through psk_use_session_callback instead.
	if (F.SSL_get_state(ssl) == TLS_ST_CW_CLNT_HELLO)
		return 0;
	if (!c->psk_have && !sslsockPskClient(c->handle, (char *)hint, (int)max_identity_len, (int)max_psk_len))
		return 0;
	if (c->psk_key_len <= 0 || (unsigned int)c->psk_id_len > max_identity_len ||
	    (unsigned int)c->psk_key_len > max_psk_len)
		return 0;
	memcpy(identity, c->psk_id, (size_t)c->psk_id_len);
	identity[c->psk_id_len] = 0;
	memcpy(psk, c->psk_key, (size_t)c->psk_key_len);
	return (unsigned int)c->psk_key_len;
}

static unsigned int psk_server_callback(SSL *ssl, const char *identity, unsigned char *psk, unsigned int max_psk_len) {
	shim_conn *c = conn_of(ssl);
	if (c == NULL || F.SSL_version(ssl) == TLS1_3_VERSION) // TLS 1.3: psk_find_session_callback
		return 0;
	if (!sslsockPskServer(c->handle, (char *)identity, (int)strlen(identity), (int)max_psk_len))
		return 0;
	if (c->psk_key_len <= 0 || (unsigned int)c->psk_key_len > max_psk_len)
		return 0;
	memcpy(psk, c->psk_key, (size_t)c->psk_key_len);
	return (unsigned int)c->psk_key_len;
}

// psk_session builds the TLS 1.3 session of an external PSK: the key as
// master key, TLS_AES_128_GCM_SHA256 (the suite OpenSSL's own PSK callbacks
// use, so openssl s_client/s_server -psk interoperate).
static SSL_SESSION *psk_session(SSL *ssl, shim_conn *c, const EVP_MD *md) {
	static const unsigned char aes128gcm_sha256[2] = {0x13, 0x01};
	const SSL_CIPHER *cipher = F.SSL_CIPHER_find(ssl, aes128gcm_sha256);
	if (cipher == NULL)
		return NULL;
	if (md != NULL && F.EVP_MD_get_type(md) != F.EVP_MD_get_type(F.SSL_CIPHER_get_handshake_digest(cipher)))
		return NULL;
	SSL_SESSION *s = F.SSL_SESSION_new();
	if (s == NULL)
		return NULL;
	if (!F.SSL_SESSION_set1_master_key(s, c->psk_key, (size_t)c->psk_key_len) || !F.SSL_SESSION_set_cipher(s, cipher) ||
	    !F.SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
		F.SSL_SESSION_free(s);
		return NULL;
	}
	return s;
}

static int psk_use_session_callback(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                                    SSL_SESSION **sess) {
	*sess = NULL;
	shim_conn *c = conn_of(ssl);
	if (c == NULL || !c->psk13)
		return 1;
	if (!c->psk_have) {
		int r = sslsockPsk13Client(c->handle);
		if (r < 0)
			return 0; // the application failed the handshake
		if (r == 0) {
			c->psk13 = 0; // no key: offer nothing (now and after a HelloRetryRequest), certificates go on
			return 1;
		}
	}
	if (c->psk_key_len <= 0)
		return 0;
	*sess = psk_session(ssl, c, md);
	if (*sess == NULL)
		return md != NULL; // after a HelloRetryRequest for another hash: offer nothing
	*id = c->psk_id;
	*idlen = (size_t)c->psk_id_len;
	return 1;
}

static int psk_find_session_callback(SSL *ssl, const unsigned char *identity, size_t identity_len, SSL_SESSION **sess) {
	*sess = NULL;
	shim_conn *c = conn_of(ssl);
	if (c == NULL || !c->psk13 || identity_len > PSK_MAX_IDENTITY_LEN)
		return 1;
	int r = sslsockPsk13Server(c->handle, (unsigned char *)identity, (int)identity_len);
	if (r < 0)
		return 0; // the application failed the handshake
	if (r == 0 || c->psk_key_len <= 0)
		return 1; // no key for this identity: OpenSSL goes on with tickets, then certificates
	*sess = psk_session(ssl, c, NULL);
	return *sess != NULL;
}

// ticket_key_callback is libssl's session ticket key callback
// (SSL_CTX_set_tlsext_ticket_key_evp_cb) for a server with the
// application's keys: Go picks the key (the first to encrypt, the one
// named in the ticket to decrypt) and hands its AES and HMAC keys over;
// libcrypto does the cryptography (AES-CBC, HMAC-SHA256), as with
// libssl's own keys. Returns, as libssl asks: encrypting, 1 (0 issues no
// ticket); decrypting, 0 for a ticket no key opens (a full handshake
// follows), 1 for the encrypting key, 2 for an older one or any TLS 1.3
// ticket (renew the ticket); -1 on an error.
static int ticket_key_callback(SSL *ssl, unsigned char *key_name, unsigned char *iv, EVP_CIPHER_CTX *cctx,
                               EVP_MAC_CTX *hctx, int enc) {
	shim_conn *c = conn_of(ssl);
	if (c == NULL)
		return enc ? -1 : 0;
	unsigned char aes[32], hmac[32];
	int aes_len = 0, hmac_len = 0;
	int r = sslsockTicketKey(c->handle, enc, key_name, aes, &aes_len, hmac, &hmac_len);
	if (r <= 0 || (aes_len != 16 && aes_len != 32) || hmac_len <= 0 || hmac_len > 32) {
		F.OPENSSL_cleanse(aes, sizeof aes);
		F.OPENSSL_cleanse(hmac, sizeof hmac);
		return r < 0 ? -1 : 0;
	}
	int ok = 1;
	if (enc && F.RAND_bytes(iv, 16) != 1) // EVP_MAX_IV_LENGTH, AES's block
		ok = 0;
	if (ok) {
		static char sha256[] = "SHA256";
		OSSL_PARAM params[3];
		params[0] = F.OSSL_PARAM_construct_octet_string("key", hmac, (size_t)hmac_len); // OSSL_MAC_PARAM_KEY
		params[1] = F.OSSL_PARAM_construct_utf8_string("digest", sha256, 0);            // OSSL_MAC_PARAM_DIGEST
		params[2] = F.OSSL_PARAM_construct_end();
		const EVP_CIPHER *cipher = aes_len == 32 ? F.EVP_aes_256_cbc() : F.EVP_aes_128_cbc();
		ok = F.EVP_MAC_CTX_set_params(hctx, params) == 1 &&
		     (enc ? F.EVP_EncryptInit_ex(cctx, cipher, NULL, aes, iv) : F.EVP_DecryptInit_ex(cctx, cipher, NULL, aes, iv)) == 1;
	}
	F.OPENSSL_cleanse(aes, sizeof aes);
	F.OPENSSL_cleanse(hmac, sizeof hmac);
	if (!ok)
		return -1;
	// TLS 1.3: a new ticket after every resumption, as crypto/tls sends
	// (libssl sends one only when asked to renew), so that a client uses
	// each ticket once (RFC 8446 C.4).
	if (!enc && r == 1 && F.SSL_version(ssl) == TLS1_3_VERSION)
		r = 2;
	return r;
}

int shim_ctx_set_ticket_keys_cb(SSL_CTX *ctx, shim_err *e) {
	err_begin(e);
	return err_end(F.SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_callback) == 1, e);
}

// ---- contexts ----

SSL_CTX *shim_ctx_new(int server, shim_err *e) {
	err_begin(e);
	SSL_CTX *ctx = F.SSL_CTX_new(F.TLS_method());
	if (ctx == NULL) {
		err_end(0, e);
		return NULL;
	}
	F.SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, SSL_MODE_AUTO_RETRY, NULL);
	F.SSL_CTX_set_cert_verify_callback(ctx, verify_callback, NULL);
	F.SSL_CTX_set_info_callback(ctx, info_callback);
	F.SSL_CTX_callback_ctrl(ctx, SSL_CTRL_SET_TLSEXT_STATUS_REQ_CB, (void (*)(void))status_callback);
	if (server) {
		static const unsigned char sid_ctx[] = "sslsocket";
		F.SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
		F.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, SSL_SESS_CACHE_SERVER, NULL);
		F.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_SIZE, 1024, NULL);
		F.SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
		F.SSL_CTX_set_psk_server_callback(ctx, psk_server_callback);
		F.SSL_CTX_set_psk_find_session_callback(ctx, psk_find_session_callback);
	} else {
		F.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_SESS_CACHE_MODE, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE, NULL);
		F.SSL_CTX_sess_set_new_cb(ctx, new_session_callback);
		F.SSL_CTX_set_psk_client_callback(ctx, psk_client_callback);
		F.SSL_CTX_set_psk_use_session_callback(ctx, psk_use_session_callback);
	}
	err_end(1, e);
	return ctx;
}

void shim_ctx_free(SSL_CTX *ctx) { F.SSL_CTX_free(ctx); }
void shim_ctx_up_ref(SSL_CTX *ctx) { F.SSL_CTX_up_ref(ctx); }

int shim_ctx_set_versions(SSL_CTX *ctx, int min, int max, shim_err *e) {
	err_begin(e);
	int ok = F.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, min, NULL) == 1 &&
	         F.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, max, NULL) == 1;
	return err_end(ok, e);
}

int shim_ctx_set_cipher_list(SSL_CTX *ctx, const char *list, shim_err *e) {
	err_begin(e);
	return err_end(F.SSL_CTX_set_cipher_list(ctx, list) == 1, e);
}

int shim_ctx_set_ciphersuites(SSL_CTX *ctx, const char *list, shim_err *e) {
	err_begin(e);
	return err_end(F.SSL_CTX_set_ciphersuites(ctx, list) == 1, e);
}

int shim_ctx_set_groups(SSL_CTX *ctx, const int *nids, int n, shim_err *e) {
	err_begin(e);
	return err_end(F.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_GROUPS, n, (void *)nids) == 1, e);
}

// ctx_certificate parses der and gives it to ctx as its certificate or,
// with chain, as one more chain certificate (SSL_CTX_add1_chain_cert);
// both take their own reference, ours is released.
static int ctx_certificate(SSL_CTX *ctx, const unsigned char *der, int len, int chain, shim_err *e) {
	err_begin(e);
	const unsigned char *p = der;
	X509 *x = F.d2i_X509(NULL, &p, len);
	if (x == NULL)
		return err_end(0, e);
	int ok = chain ? F.SSL_CTX_ctrl(ctx, SSL_CTRL_CHAIN_CERT, 1, x) == 1 : F.SSL_CTX_use_certificate(ctx, x) == 1;
	F.X509_free(x);
	return err_end(ok, e);
}

int shim_ctx_use_certificate(SSL_CTX *ctx, const unsigned char *der, int len, shim_err *e) {
	return ctx_certificate(ctx, der, len, 0, e);
}

int shim_ctx_add_chain_certificate(SSL_CTX *ctx, const unsigned char *der, int len, shim_err *e) {
	return ctx_certificate(ctx, der, len, 1, e);
}

int shim_ctx_use_private_key(SSL_CTX *ctx, const unsigned char *der, int len, shim_err *e) {
	err_begin(e);
	const unsigned char *p = der;
	EVP_PKEY *k = F.d2i_AutoPrivateKey(NULL, &p, len);
	if (k == NULL)
		return err_end(0, e);
	int ok = F.SSL_CTX_use_PrivateKey(ctx, k) == 1;
	F.EVP_PKEY_free(k);
	if (ok && F.SSL_CTX_check_private_key(ctx) != 1)
		ok = 0;
	return err_end(ok, e);
}

int shim_ctx_set_dh_params(SSL_CTX *ctx, const unsigned char *der, int len, shim_err *e) {
	err_begin(e);
	const unsigned char *p = der;
	EVP_PKEY *k = F.d2i_KeyParams(EVP_PKEY_DH, NULL, &p, len);
	if (k == NULL)
		return err_end(0, e);
	// On success the context owns k; the security level decides whether
	// the group is large enough (SSL_R_DH_KEY_TOO_SMALL).
	if (F.SSL_CTX_set0_tmp_dh_pkey(ctx, k) != 1) {
		F.EVP_PKEY_free(k);
		return err_end(0, e);
	}
	return err_end(1, e);
}

int shim_ctx_set_psk_identity_hint(SSL_CTX *ctx, const char *hint, shim_err *e) {
	err_begin(e);
	return err_end(F.SSL_CTX_use_psk_identity_hint(ctx, hint) == 1, e);
}

void shim_ctx_set_options(SSL_CTX *ctx, uint64_t set, uint64_t clear) {
	F.SSL_CTX_clear_options(ctx, clear);
	F.SSL_CTX_set_options(ctx, set);
}

int shim_ctx_conf_cmd(SSL_CTX *ctx, int server, const char *cmd, const char *value, shim_err *e) {
	err_begin(e);
	SSL_CONF_CTX *cc = F.SSL_CONF_CTX_new();
	if (cc == NULL)
		return err_end(0, e);
	F.SSL_CONF_CTX_set_flags(cc, SSL_CONF_FLAG_FILE | SSL_CONF_FLAG_SHOW_ERRORS |
	                                 (server ? SSL_CONF_FLAG_SERVER : SSL_CONF_FLAG_CLIENT));
	F.SSL_CONF_CTX_set_ssl_ctx(cc, ctx);
	int r = F.SSL_CONF_cmd(cc, cmd, value);
	int ok = r > 0 && F.SSL_CONF_CTX_finish(cc) == 1;
	F.SSL_CONF_CTX_free(cc);
	if (!ok) {
		err_collect(e);
		if (r == -2)
			snprintf(e->text, sizeof e->text, "unknown command");
		else if (r == -3)
			snprintf(e->text, sizeof e->text, "missing value");
		err_text(e, "invalid value");
	}
	return err_end(ok, e);
}

int shim_ctx_security_level(SSL_CTX *ctx) { return F.SSL_CTX_get_security_level(ctx); }

int shim_ctx_cipher_ids(SSL_CTX *ctx, int *ids, int max) {
	F.ERR_clear_error();
	SSL *ssl = F.SSL_new(ctx);
	if (ssl == NULL) {
		F.ERR_clear_error();
		return 0;
	}
	OPENSSL_STACK *st = F.SSL_get_ciphers(ssl);
	int n = st ? F.OPENSSL_sk_num(st) : 0, k = 0;
	for (int i = 0; i < n && k < max; i++)
		ids[k++] = (int)(F.SSL_CIPHER_get_protocol_id(F.OPENSSL_sk_value(st, i)) & 0xffff);
	F.SSL_free(ssl);
	F.ERR_clear_error();
	return k;
}

int shim_ctx_cipher_describe(SSL_CTX *ctx, int i, int *id, int *alg_bits, char *desc, int len) {
	F.ERR_clear_error();
	SSL *ssl = F.SSL_new(ctx);
	if (ssl == NULL) {
		F.ERR_clear_error();
		return -1;
	}
	OPENSSL_STACK *st = F.SSL_get_ciphers(ssl);
	int used = -1;
	if (st != NULL && i >= 0 && i < F.OPENSSL_sk_num(st) && len >= 128) {
		const SSL_CIPHER *ci = F.OPENSSL_sk_value(st, i);
		*id = (int)(F.SSL_CIPHER_get_protocol_id(ci) & 0xffff);
		used = F.SSL_CIPHER_get_bits(ci, alg_bits);
		if (F.SSL_CIPHER_description(ci, desc, len) == NULL)
			desc[0] = 0;
	}
	F.SSL_free(ssl);
	F.ERR_clear_error();
	return used;
}

int shim_ctx_group_supported(int nid) {
	F.ERR_clear_error();
	SSL_CTX *ctx = F.SSL_CTX_new(F.TLS_method());
	if (ctx == NULL) {
		F.ERR_clear_error();
		return 0;
	}
	int ok = F.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_GROUPS, 1, &nid) == 1;
	F.SSL_CTX_free(ctx);
	F.ERR_clear_error();
	return ok;
}

// ---- connections ----

shim_conn *shim_conn_new(SSL_CTX *ctx, int server, uintptr_t handle, size_t max_pending, shim_err *e) {
	err_begin(e);
	shim_conn *c = calloc(1, sizeof *c);
	if (c == NULL) {
		err_text(e, "out of memory");
		return NULL;
	}
	c->server = server;
	c->max_pending = max_pending;
	c->ssl = F.SSL_new(ctx);
	BIO *rbio = F.BIO_new(buf_method);
	BIO *wbio = F.BIO_new(buf_method);
	if (c->ssl == NULL || rbio == NULL || wbio == NULL) {
		err_end(0, e);
		if (rbio)
			F.BIO_free(rbio);
		if (wbio)
			F.BIO_free(wbio);
		if (c->ssl)
			F.SSL_free(c->ssl);
		free(c);
		return NULL;
	}
	F.BIO_set_data(rbio, &c->in);
	F.BIO_set_init(rbio, 1);
	F.BIO_set_data(wbio, &c->out);
	F.BIO_set_init(wbio, 1);
	F.SSL_set_bio(c->ssl, rbio, wbio); // the SSL owns both BIOs now
	F.SSL_set_ex_data(c->ssl, ex_index, c);
	if (server)
		F.SSL_set_accept_state(c->ssl);
	else
		F.SSL_set_connect_state(c->ssl);
	c->handle = handle;
	err_end(1, e);
	return c;
}

void shim_conn_free(shim_conn *c) {
	if (c == NULL)
		return;
	c->handle = 0;
	F.ERR_clear_error();
	F.SSL_set_ex_data(c->ssl, ex_index, NULL);
	F.SSL_free(c->ssl); // frees both BIOs
	F.ERR_clear_error();
	free(c->in.p);
	free(c->out.p);
	free(c->alpn);
	free(c->staple);
	F.OPENSSL_cleanse(c->psk_key, sizeof c->psk_key);
	F.OPENSSL_cleanse(c->psk_id, sizeof c->psk_id);
	free(c);
}

void shim_conn_set_verify(shim_conn *c, int mode) { F.SSL_set_verify(c->ssl, mode, NULL); }

int shim_conn_set_server_name(shim_conn *c, const char *name, shim_err *e) {
	err_begin(e);
	return err_end(F.SSL_ctrl(c->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, (void *)name) == 1, e);
}

int shim_conn_set_alpn_client(shim_conn *c, const unsigned char *wire, int len, shim_err *e) {
	err_begin(e);
	// SSL_set_alpn_protos returns 0 on success.
	return err_end(F.SSL_set_alpn_protos(c->ssl, wire, (unsigned int)len) == 0, e);
}

static int copy_bytes(unsigned char **dst, int *dst_len, const unsigned char *src, int len) {
	free(*dst);
	*dst = NULL;
	*dst_len = 0;
	if (len <= 0)
		return 1;
	*dst = malloc((size_t)len);
	if (*dst == NULL)
		return 0;
	memcpy(*dst, src, (size_t)len);
	*dst_len = len;
	return 1;
}

int shim_conn_set_alpn_server(shim_conn *c, const unsigned char *wire, int len) {
	return copy_bytes(&c->alpn, &c->alpn_len, wire, len);
}

int shim_conn_set_staple(shim_conn *c, const unsigned char *der, int len) {
	return copy_bytes(&c->staple, &c->staple_len, der, len);
}

int shim_conn_request_ocsp(shim_conn *c, shim_err *e) {
	err_begin(e);
	return err_end(F.SSL_ctrl(c->ssl, SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE, TLSEXT_STATUSTYPE_ocsp, NULL) == 1, e);
}

int shim_conn_set_session(shim_conn *c, const unsigned char *der, int len, shim_err *e) {
	err_begin(e);
	const unsigned char *p = der;
	SSL_SESSION *s = F.d2i_SSL_SESSION(NULL, &p, len);
	if (s == NULL)
		return err_end(0, e);
	int ok = p == der + len && F.SSL_set_session(c->ssl, s) == 1;
	if (!ok)
		err_text(e, "trailing data after the session");
	F.SSL_SESSION_free(s); // SSL_set_session took its own reference
	return err_end(ok, e);
}

void shim_conn_set_psk13(shim_conn *c, int on) { c->psk13 = on; }

void shim_conn_set_x509_error(shim_conn *c, int err) { c->x509_error = err; }

int shim_conn_set_psk(shim_conn *c, const unsigned char *id, int idlen, const unsigned char *key, int keylen) {
	if (idlen < 0 || idlen > PSK_MAX_IDENTITY_LEN || keylen < 0 || keylen > PSK_MAX_PSK_LEN)
		return 0;
	if (idlen > 0)
		memcpy(c->psk_id, id, (size_t)idlen);
	c->psk_id[idlen] = 0;
	c->psk_id_len = idlen;
	if (keylen > 0)
		memcpy(c->psk_key, key, (size_t)keylen);
	c->psk_key_len = keylen;
	c->psk_have = 1;
	return 1;
}

shim_result shim_do(shim_conn *c, int op, unsigned char *buf, size_t len) {
	int ret = 0;
	size_t done = 0, *n = &done;
	shim_result res = {0, 0, 0};
	// SSL_get_error needs an empty error queue on this thread. Every shim
	// call leaves it empty, so peeking (cheap) is enough; ERR_clear_error
	// is costly in OpenSSL 3 and would run twice per record otherwise.
	if (F.ERR_peek_error() != 0)
		F.ERR_clear_error();
	err_clear(&c->err);
	switch (op) {
	case SHIM_HANDSHAKE:
		ret = F.SSL_do_handshake(c->ssl);
		break;
	case SHIM_READ:
		ret = F.SSL_read_ex(c->ssl, buf, len, n);
		break;
	case SHIM_WRITE:
		// Records of at most 16 KiB, while the pending output stays within
		// max_pending (room for one more record and its overhead).
		ret = 1;
		while (*n < len) {
			size_t chunk = len - *n, w = 0;
			if (chunk > 16384)
				chunk = 16384;
			if (c->out.w - c->out.r + chunk + 1024 > c->max_pending) {
				res.code = SSL_ERROR_WANT_WRITE;
				res.n = done;
				return res;
			}
			ret = F.SSL_write_ex(c->ssl, buf + *n, chunk, &w);
			if (ret <= 0)
				break;
			*n += w;
		}
		break;
	case SHIM_SHUTDOWN:
		ret = F.SSL_shutdown(c->ssl);
		if (ret == 0)
			ret = 1; // close_notify queued, the peer's not seen yet
		break;
	}
	res.code = ret > 0 ? SSL_ERROR_NONE : F.SSL_get_error(c->ssl, ret);
	res.n = done;
	if (res.code == SSL_ERROR_SSL || res.code == SSL_ERROR_SYSCALL)
		err_collect(&c->err);
	else if ((op == SHIM_READ || op == SHIM_WRITE) && c->in.r == c->in.w && F.SSL_is_init_finished(c->ssl) == 1 &&
	         !F.SSL_has_pending(c->ssl) && !(F.SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN))
		res.read_idle = 1;
	if (F.ERR_peek_error() != 0)
		F.ERR_clear_error();
	return res;
}

shim_err *shim_conn_err(shim_conn *c) { return &c->err; }

shim_buf *shim_conn_in(shim_conn *c) { return &c->in; }
shim_buf *shim_conn_out(shim_conn *c) { return &c->out; }

// ---- session facts ----

int shim_conn_version(shim_conn *c) { return F.SSL_version(c->ssl); }
int shim_conn_handshake_done(shim_conn *c) { return F.SSL_is_init_finished(c->ssl); }

int shim_conn_cipher_id(shim_conn *c) {
	const SSL_CIPHER *ci = F.SSL_get_current_cipher(c->ssl);
	return ci ? (int)(F.SSL_CIPHER_get_protocol_id(ci) & 0xffff) : 0;
}

const char *shim_conn_cipher_name(shim_conn *c) {
	const SSL_CIPHER *ci = F.SSL_get_current_cipher(c->ssl);
	return ci ? F.SSL_CIPHER_get_name(ci) : NULL;
}

int shim_conn_alpn_selected(shim_conn *c, const unsigned char **p) {
	unsigned int len = 0;
	*p = NULL;
	F.SSL_get0_alpn_selected(c->ssl, p, &len);
	return (int)len;
}

int shim_conn_alpn_no_overlap(shim_conn *c) { return c->alpn_no_overlap; }
int shim_conn_session_reused(shim_conn *c) { return F.SSL_session_reused(c->ssl); }

int shim_conn_ocsp_response(shim_conn *c, const unsigned char **p) {
	*p = NULL;
	long n = F.SSL_ctrl(c->ssl, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, (void *)p);
	return (n > 0 && *p != NULL) ? (int)n : 0;
}

int shim_conn_peer_tmp_key(shim_conn *c, int *group, unsigned char *buf, int len) {
	EVP_PKEY *k = NULL;
	*group = 0;
	F.ERR_clear_error();
	if (F.SSL_ctrl(c->ssl, SSL_CTRL_GET_PEER_TMP_KEY, 0, &k) != 1 || k == NULL) {
		F.ERR_clear_error();
		return 0;
	}
	*group = (int)F.SSL_ctrl(c->ssl, SSL_CTRL_GET_NEGOTIATED_GROUP, 0, NULL);
	// The encoded point (EC) or raw key (X25519, X448): cheap, unlike
	// i2d_PUBKEY, which goes through OpenSSL 3's encoder lookup.
	unsigned char *pub = NULL;
	size_t n = F.EVP_PKEY_get1_encoded_public_key(k, &pub);
	int r = 0;
	if (pub != NULL && n > 0 && n <= (size_t)len) {
		memcpy(buf, pub, n);
		r = (int)n;
	}
	F.CRYPTO_free(pub, __FILE__, __LINE__);
	F.EVP_PKEY_free(k);
	F.ERR_clear_error();
	return r;
}

int shim_conn_peer_tmp_key_spki(shim_conn *c, int *type, int *bits, unsigned char *buf, int len) {
	EVP_PKEY *k = NULL;
	*type = 0;
	*bits = 0;
	F.ERR_clear_error();
	if (F.SSL_ctrl(c->ssl, SSL_CTRL_GET_PEER_TMP_KEY, 0, &k) != 1 || k == NULL) {
		F.ERR_clear_error();
		return 0;
	}
	*type = F.EVP_PKEY_get_base_id(k);
	*bits = F.EVP_PKEY_get_bits(k);
	// i2d_PUBKEY goes through OpenSSL 3's encoder lookup (slow): only for
	// the keys Go has no type for.
	int n = F.i2d_PUBKEY(k, NULL);
	if (n > 0 && buf != NULL && n <= len) {
		unsigned char *p = buf;
		n = F.i2d_PUBKEY(k, &p);
	}
	F.EVP_PKEY_free(k);
	F.ERR_clear_error();
	return n > 0 ? n : 0;
}

const char *shim_conn_server_name(shim_conn *c) { return F.SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name); }

int shim_conn_negotiated_group(shim_conn *c) {
	// Only once the handshake is done: before, libssl 3.0 may read a
	// session that does not exist yet (a crash the fuzzer found).
	if (F.SSL_is_init_finished(c->ssl) != 1)
		return 0;
	long n = F.SSL_ctrl(c->ssl, SSL_CTRL_GET_NEGOTIATED_GROUP, 0, NULL);
	F.ERR_clear_error();
	return n > 0 ? (int)n : 0;
}

int shim_conn_peer_chain(shim_conn *c, OPENSSL_STACK **stack, void **leaf) {
	*stack = F.SSL_get_peer_cert_chain(c->ssl);
	// On a server the stack leaves out the client's own certificate.
	*leaf = c->server ? (void *)F.SSL_get0_peer_certificate(c->ssl) : NULL;
	return *stack ? F.OPENSSL_sk_num(*stack) : 0;
}

// ---- certificates and sessions ----

int shim_stack_num(OPENSSL_STACK *st) { return st ? F.OPENSSL_sk_num(st) : 0; }

int shim_x509_der(void *x509, unsigned char *buf, int len) {
	if (x509 == NULL)
		return 0;
	int n = F.i2d_X509((X509 *)x509, NULL);
	if (buf == NULL || n <= 0 || n > len)
		return n > 0 ? n : 0;
	unsigned char *p = buf;
	return F.i2d_X509((X509 *)x509, &p);
}

int shim_stack_der(OPENSSL_STACK *st, int i, unsigned char *buf, int len) {
	if (st == NULL || i < 0 || i >= F.OPENSSL_sk_num(st))
		return 0;
	return shim_x509_der(F.OPENSSL_sk_value(st, i), buf, len);
}

int shim_session_der(SSL_SESSION *s, unsigned char *buf, int len) {
	int n = F.i2d_SSL_SESSION(s, NULL);
	if (buf == NULL || n <= 0 || n > len)
		return n > 0 ? n : 0;
	unsigned char *p = buf;
	return F.i2d_SSL_SESSION(s, &p);
}

long shim_session_lifetime_hint(SSL_SESSION *s) { return (long)F.SSL_SESSION_get_ticket_lifetime_hint(s); }
int shim_session_resumable(SSL_SESSION *s) { return F.SSL_SESSION_is_resumable(s); }

int shim_session_ticket_name(const unsigned char *der, int len, unsigned char *name) {
	const unsigned char *p = der;
	SSL_SESSION *s = F.d2i_SSL_SESSION(NULL, &p, len);
	F.ERR_clear_error();
	if (s == NULL)
		return 0;
	const unsigned char *tick = NULL;
	size_t n = 0;
	F.SSL_SESSION_get0_ticket(s, &tick, &n);
	int ok = tick != NULL && n >= 16;
	if (ok)
		memcpy(name, tick, 16);
	F.SSL_SESSION_free(s);
	return ok;
}
