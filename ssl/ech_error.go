package ssl

import "fmt"

// ECHRejectedError is the cause of a client handshake that failed because
// the server did not accept its Encrypted Client Hello: the server opened
// the clear outer ClientHello (the public name) instead, proved that name
// with its certificate, and the client ended the handshake with the
// ech_required alert — it never continues without ECH. The Socket reports
// it as Qt reports a failed handshake (SslHandshakeFailedError, errorString
// "Error during SSL handshake: …"); errors.As on the error a wait returns
// finds it. It wraps crypto/tls's *tls.ECHRejectionError.
//
// With RetryConfigList set the server offered current configurations
// (authenticated by its certificate for PublicName): connect again with
// them (Configuration.SetEncryptedClientHelloConfigList). Without, the
// server has ECH switched off; connecting without ECH is then the
// application's choice, never made silently.
type ECHRejectedError struct {
	// PublicName is the name the outer ClientHello carried in clear.
	PublicName string
	// RetryConfigList is the ECHConfigList the server offered for a retry
	// (empty when it offered none).
	RetryConfigList []byte
	// Err is crypto/tls's error.
	Err error
}

// Error says what happened and what to do.
func (e *ECHRejectedError) Error() string {
	if len(e.RetryConfigList) == 0 {
		return fmt.Sprintf("the server (public name %q) rejected Encrypted Client Hello and offered no retry configuration (ECH is off there)", e.PublicName)
	}
	return fmt.Sprintf("the server (public name %q) rejected Encrypted Client Hello; it offered a retry configuration list (%d bytes) to connect again with", e.PublicName, len(e.RetryConfigList))
}

// Unwrap returns crypto/tls's *tls.ECHRejectionError.
func (e *ECHRejectedError) Unwrap() error { return e.Err }
