package ssl

// AlertType is the TLS alert a refused verification sends to the peer:
// the one OpenSSL's ssl_x509err2alert picks for the first problem its
// verify callback meets (Qt on OpenSSL, measured: an expired leaf sends
// certificate_expired, a self-signed one unknown_ca). Backends that can
// choose the alert honour it (openssl); crypto/tls always sends
// bad_certificate.
func (e *VerificationError) AlertType() AlertType {
	errs := peerVerifyErrorOrder(e.Errors)
	if len(errs) == 0 {
		return AlertBadCertificate
	}
	switch errs[0].Code {
	case CertificateExpired:
		return AlertCertificateExpired
	case CertificateRevoked:
		return AlertCertificateRevoked
	case SelfSignedCertificate, SelfSignedCertificateInChain, UnableToGetLocalIssuerCertificate,
		UnableToGetIssuerCertificate, UnableToVerifyFirstCertificate:
		return AlertUnknownCa
	case InvalidPurpose:
		return AlertUnsupportedCertificate
	case CertificateSignatureFailed:
		return AlertDecryptError
	case HostNameMismatch:
		return AlertHandshakeFailure
	}
	return AlertBadCertificate
}
