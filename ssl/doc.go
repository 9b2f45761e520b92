// Package ssl is Qt's QSslSocket family for Go: TLS sockets for clients and
// servers with Qt's observable behaviour and Go's idioms.
//
// # Where to start
//
//   - A client in one call: Dial (or a Dialer, for another name to verify,
//     tls.Config.ServerName's role, an address family or a timeout; its
//     DialContext fits net/http's Transport.DialTLSContext).
//   - A server in one call: Listen (or NewServer over your own
//     net.Listener) returns a Server, a net.Listener whose Accept returns
//     encrypted *Socket connections.
//   - Qt's way, with events: NewSocket, then OnEncrypted, OnSslErrors,
//     OnReadyRead, … and ConnectToHostEncrypted; or NewSocketFromConn and
//     StartServerEncryption for a connection accepted elsewhere.
//   - HTTP: ServeHTTP serves an http.Server (HTTP/1.1 and HTTP/2) on a
//     Server; NewHTTPTransport is an http.RoundTripper over Sockets.
//   - No socket at all: Engine (NewClientEngine, NewServerEngine) is TLS
//     without I/O, OpenSSL's SSL_connect over a BIO pair — feed it bytes,
//     take bytes out, and handle ErrWantRead / ErrWantWrite.
//   - The OpenSSL backend: import _ "github.com/sslsocket/sslsocket/ssl/openssl"
//     and Configuration.SetBackend("openssl") (libssl 3 loaded at run
//     time; PSK, every alert, DHE). Without the import, everything runs on
//     the "go" backend (crypto/tls).
//
// Each of these has a runnable example below.
//
// # The pieces, by their Qt names
//
//   - Socket (QSslSocket): a net.Conn that encrypts as a client
//     (ConnectToHostEncrypted, or Dial for one blocking call) or a server
//     (StartServerEncryption), also later on a plain connection (STARTTLS).
//     Qt's signals are events (OnEncrypted, OnSslErrors, OnReadyRead, …),
//     its states and modes are kept, and Qt's buffered view (BytesAvailable,
//     ReadLine, WaitForReadyRead, …) sits beside plain Read and Write.
//   - Server (QSslServer): a net.Listener whose Accept returns encrypted Sockets.
//   - Configuration (QSslConfiguration), with the process-wide default
//     (DefaultConfiguration, SetDefaultConfiguration).
//   - Certificate, Key, Cipher, EllipticCurve, DiffieHellmanParameters,
//     PreSharedKeyAuthenticator (PSK; a PSK client usually sets
//     SetPeerVerifyMode(VerifyNone), as in Qt, because a PSK server has no
//     certificate), OcspResponse, Proxy.
//   - Error (QSslError) and ErrorCode (QSslError::SslError).
//
// Verification is on by default and reports every problem with a chain —
// each as an Error naming the certificate it concerns, in the order Qt's
// OpenSSL backend lists them — not just the first one crypto/x509 finds.
// A handshake with problems fails unless the application ignored exactly
// those problems (IgnoreSslErrorList) or all of them (IgnoreSslErrors); the
// verifier never accepts a chain that crypto/x509 rejects (VerifyChain).
//
// # Backends
//
// TLS engines are backends ("go", on crypto/tls, is built in; "openssl"
// comes with package ssl/openssl); what each can do is reported by
// SupportedFeatures and friends. docs/qt-mapping.md in the repository maps
// every Qt member to its Go name.
//
// Backend authors only: Backend, StreamBackend, EngineCore, Stream,
// SessionParams, SessionHooks, SessionState, MaxPendingOutput and
// RegisterBackend are the contract a TLS engine implements (Qt's
// QTlsBackend); applications never need them. They live in this package
// because they speak its value types (Configuration, Certificate, Error).
package ssl
