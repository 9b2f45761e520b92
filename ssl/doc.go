// Package ssl is Qt's QSslSocket family for Go: TLS sockets for clients and
// servers with Qt's observable behaviour and Go's idioms.
//
// The pieces, by their Qt names:
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
//     PreSharedKeyAuthenticator, OcspResponse, Proxy.
//   - Error (QSslError) and ErrorCode (QSslError::SslError).
//
// Verification is on by default and reports every problem with a chain —
// each as an Error naming the certificate it concerns, in the order Qt's
// OpenSSL backend lists them — not just the first one crypto/x509 finds.
// A handshake with problems fails unless the application ignored exactly
// those problems (IgnoreSslErrorList) or all of them (IgnoreSslErrors); the
// verifier never accepts a chain that crypto/x509 rejects (VerifyChain).
//
// TLS engines are backends ("go", on crypto/tls, is built in); what each
// can do is reported by SupportedFeatures and friends. docs/qt-mapping.md
// in the repository maps every Qt member to its Go name.
package ssl
