//go:build cgo && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

// The C side of the openssl backend: a thin layer over libssl 3 and
// libcrypto 3, which it loads with dlopen at run time. No OpenSSL header is
// included: the few opaque types, prototypes and constants the shim needs
// are declared in shim.c, each constant with the macro it stands for.
//
// Every operation that can fail is one C call that clears the thread's
// OpenSSL error queue first and drains it into the caller's shim_err
// before returning, so a goroutine moving between OS threads between two
// calls never sees another call's errors.

#ifndef SSLSOCK_SHIM_H
#define SSLSOCK_SHIM_H

#include <stddef.h>
#include <stdint.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_session_st SSL_SESSION;
typedef struct stack_st OPENSSL_STACK;

// shim_err receives the OpenSSL errors of one failed operation.
typedef struct shim_err {
	unsigned long code;  // the first error's packed code, 0 when none
	int reason;          // ERR_GET_REASON of code
	char text[512];      // every queued error, ERR_error_string_n format, ", "-separated
} shim_err;

// shim_conn is one SSL object over a pair of BIOs reading and writing
// two shim_bufs.
typedef struct shim_conn shim_conn;

// shim_buf is a byte buffer in C memory: bytes [r, w) of p[0:cap] are
// queued. libssl's BIOs read the input one and append to the output one
// during C calls; between calls Go appends to the input and takes from the
// output directly (one goroutine at a time, as the engine's contract says),
// calling shim_buf_reserve only to make room.
typedef struct shim_buf {
	unsigned char *p;
	size_t cap, r, w;
} shim_buf;

// shim_buf_reserve makes room for n more bytes after w (moving the queued
// bytes to the front, else growing p); 0 when out of memory.
int shim_buf_reserve(shim_buf *b, size_t n);

// Loading.
int shim_load(const char *crypto_name, const char *ssl_name, char *why, size_t why_len);
unsigned long shim_version_num(void);
const char *shim_version_string(void);

// Contexts. Every setter returns 1 on success, 0 with e filled.
SSL_CTX *shim_ctx_new(int server, shim_err *e);
void shim_ctx_free(SSL_CTX *ctx);
void shim_ctx_up_ref(SSL_CTX *ctx);
int shim_ctx_set_versions(SSL_CTX *ctx, int min, int max, shim_err *e);
int shim_ctx_set_cipher_list(SSL_CTX *ctx, const char *list, shim_err *e);
int shim_ctx_set_ciphersuites(SSL_CTX *ctx, const char *list, shim_err *e);
int shim_ctx_set_groups(SSL_CTX *ctx, const int *nids, int n, shim_err *e);
int shim_ctx_use_certificate(SSL_CTX *ctx, const unsigned char *der, int len, shim_err *e);
int shim_ctx_add_chain_certificate(SSL_CTX *ctx, const unsigned char *der, int len, shim_err *e);
int shim_ctx_use_private_key(SSL_CTX *ctx, const unsigned char *der, int len, shim_err *e);
int shim_ctx_set_dh_params(SSL_CTX *ctx, const unsigned char *der, int len, shim_err *e);
int shim_ctx_set_psk_identity_hint(SSL_CTX *ctx, const char *hint, shim_err *e);
void shim_ctx_set_options(SSL_CTX *ctx, uint64_t set, uint64_t clear);
int shim_ctx_conf_cmd(SSL_CTX *ctx, int server, const char *cmd, const char *value, shim_err *e);
int shim_ctx_security_level(SSL_CTX *ctx);
// shim_ctx_set_ticket_keys_cb makes a server context ask the connection's
// engine for its session ticket keys (sslsockTicketKey).
int shim_ctx_set_ticket_keys_cb(SSL_CTX *ctx, shim_err *e);

// Connections.
shim_conn *shim_conn_new(SSL_CTX *ctx, int server, uintptr_t handle, size_t max_pending, shim_err *e);
void shim_conn_free(shim_conn *c);
void shim_conn_set_verify(shim_conn *c, int mode);
int shim_conn_set_server_name(shim_conn *c, const char *name, shim_err *e);
int shim_conn_set_alpn_client(shim_conn *c, const unsigned char *wire, int len, shim_err *e);
int shim_conn_set_alpn_server(shim_conn *c, const unsigned char *wire, int len);
int shim_conn_set_staple(shim_conn *c, const unsigned char *der, int len);
int shim_conn_request_ocsp(shim_conn *c, shim_err *e);
int shim_conn_set_session(shim_conn *c, const unsigned char *der, int len, shim_err *e);
void shim_conn_set_psk13(shim_conn *c, int on);
void shim_conn_set_x509_error(shim_conn *c, int err);
int shim_conn_set_psk(shim_conn *c, const unsigned char *id, int idlen, const unsigned char *key, int keylen);

// The sans-IO operations return SSL_get_error's value (0 on success) and
// the bytes read or written, and whether a read would now want more input
// for sure (read_idle): the handshake is done, libssl holds no record data
// (processed or not), no close_notify was received and the read BIO's
// buffer is empty. libssl's read state then changes only with new input.
enum { SHIM_HANDSHAKE = 0, SHIM_READ = 1, SHIM_WRITE = 2, SHIM_SHUTDOWN = 3 };
typedef struct shim_result {
	int code;
	int read_idle;
	size_t n;
} shim_result;
shim_result shim_do(shim_conn *c, int op, unsigned char *buf, size_t len);
shim_err *shim_conn_err(shim_conn *c);
shim_buf *shim_conn_in(shim_conn *c);
shim_buf *shim_conn_out(shim_conn *c);

// Session facts.
int shim_conn_version(shim_conn *c);
int shim_conn_handshake_done(shim_conn *c);
int shim_conn_cipher_id(shim_conn *c);
const char *shim_conn_cipher_name(shim_conn *c);
int shim_conn_alpn_selected(shim_conn *c, const unsigned char **p);
int shim_conn_alpn_no_overlap(shim_conn *c);
int shim_conn_session_reused(shim_conn *c);
int shim_conn_ocsp_response(shim_conn *c, const unsigned char **p);
int shim_conn_peer_tmp_key(shim_conn *c, int *group, unsigned char *buf, int len);
// The peer's temporary key as SubjectPublicKeyInfo DER (i2d_PUBKEY), with
// EVP_PKEY_get_base_id and EVP_PKEY_get_bits: the DER's length (written to
// buf only when it fits), 0 when there is no key.
int shim_conn_peer_tmp_key_spki(shim_conn *c, int *type, int *bits, unsigned char *buf, int len);
const char *shim_conn_server_name(shim_conn *c);
// SSL_get_negotiated_group: the group's NID, TLSEXT_nid_unknown|id for
// groups without one, 0 for none or before the handshake is done.
int shim_conn_negotiated_group(shim_conn *c);
int shim_conn_peer_chain(shim_conn *c, OPENSSL_STACK **stack, void **leaf);

// Certificates in a stack (or the extra leaf), as DER.
int shim_stack_num(OPENSSL_STACK *st);
int shim_stack_der(OPENSSL_STACK *st, int i, unsigned char *buf, int len);
int shim_x509_der(void *x509, unsigned char *buf, int len);

// Sessions.
int shim_session_der(SSL_SESSION *s, unsigned char *buf, int len);
long shim_session_lifetime_hint(SSL_SESSION *s);
int shim_session_resumable(SSL_SESSION *s);
// shim_session_ticket_name copies the first 16 bytes of a serialized
// session's ticket (the key name, in RFC 5077's layout) to name: 1 when
// the session has a ticket that long, else 0.
int shim_session_ticket_name(const unsigned char *der, int len, unsigned char *name);

// Cipher list of a fresh SSL for the context: IANA ids.
int shim_ctx_cipher_ids(SSL_CTX *ctx, int *ids, int max);
int shim_ctx_group_supported(int nid);
// The i-th suite of a fresh SSL for the context: its IANA id, bits
// (SSL_CIPHER_get_bits: used, returned, and algorithm) and
// SSL_CIPHER_description; -1 when i is out of range.
int shim_ctx_cipher_describe(SSL_CTX *ctx, int i, int *id, int *alg_bits, char *desc, int len);

#endif
