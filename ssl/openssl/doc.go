// Package openssl is the "openssl" backend of package ssl: TLS by the
// system's libssl 3, loaded at run time with dlopen (no OpenSSL headers or
// -dev packages are needed to build it), as Qt's own default backend.
//
// Importing the package registers the backend with ssl.RegisterBackend when
// OpenSSL 3's libssl and libcrypto load (libssl.so.3 on Linux; on macOS,
// FreeBSD and NetBSD the names docs/openssl-backend.md lists; anywhere, the
// paths in SSLSOCKET_LIBCRYPTO and SSLSOCKET_LIBSSL); the "go" backend
// stays the default active backend, and a Configuration chooses "openssl"
// with SetBackend.
//
//	import _ "github.com/sslsocket/sslsocket/ssl/openssl"
//
// Built with CGO_ENABLED=0, on a system other than Linux, macOS or a BSD,
// or run where the libraries are missing or are not version 3, the backend
// is absent:
// Available reports false and LoadError says why, and everything else in
// the module builds and works.
//
// Each connection is one SSL object over a pair of in-memory BIOs (plain C
// buffers that Go fills and drains directly) in non-blocking mode, driven as the SSL_connect manual describes:
// SSL_do_handshake, SSL_read and SSL_write report SSL_ERROR_WANT_READ /
// SSL_ERROR_WANT_WRITE, which the engine returns as ssl.ErrWantRead /
// ssl.ErrWantWrite, and the caller moves the ciphertext. Certificate
// verification is not OpenSSL's: the certificate-verify callback hands the
// peer's chain (and stapled OCSP response) to package ssl's verifier
// through the session hooks, so both backends report identical errors.
// PSK (TLS 1.2 suites and TLS 1.3 external keys), alerts sent and received,
// session tickets, ALPN, OCSP stapling and DHE come from libssl.
//
// The security level is the system's (OpenSSL's default configuration
// file; Debian and Ubuntu set level 2): RSA and DH groups under 2048 bits,
// SHA-1 signatures and TLS 1.0/1.1 are refused unless a configuration
// lowers it, for example with the backend option "CipherString" set to
// "DEFAULT:@SECLEVEL=0".
package openssl
