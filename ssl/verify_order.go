package ssl

// The order in which Qt emits peerVerifyError differs from the order of the
// sslErrors list (measured on Qt 6.4.2 / OpenSSL 3.0, see
// docs/qt-measured-verification.md):
//
//   - the list is Qt's own checks first — CertificateBlacklisted, the OCSP
//     errors, HostNameMismatch (or NoPeerCertificate) — then the chain errors
//     in the order OpenSSL's verify callback met them;
//   - peerVerifyError is emitted for the chain errors first, from inside the
//     verify callback during the handshake, and for Qt's own checks after it,
//     in the list's order: blacklist, OCSP, host name.
//
// The lists VerifyChain and the OCSP check build are in Qt's list order, so
// the emission order is the stable partition "chain errors, then the rest".

// fromVerifyCallback reports whether e is a chain error, one that Qt's
// OpenSSL backend receives from OpenSSL's certificate verify callback, as
// opposed to one Qt's own checks add once the chain has been verified: the
// blacklist, the stapled OCSP response (including CertificateRevoked, which
// only OCSP reports here since CRLs are not consulted), the host name and a
// missing peer certificate. Only chain errors interrupt a handshake under
// HandshakeMustInterruptOnError; the others are still emitted as
// peerVerifyError.
func fromVerifyCallback(e Error) bool {
	switch e.Code {
	case CertificateBlacklisted, HostNameMismatch, NoPeerCertificate, CertificateRevoked:
		return false
	}
	return e.Code < OcspNoResponseFound || e.Code > OcspStatusUnknown
}

// peerVerifyErrorOrder returns errs (an sslErrors list in Qt's order) in the
// order Qt emits peerVerifyError for them: the chain errors first, in list
// order, then Qt's own checks in list order. The list itself is not changed.
func peerVerifyErrorOrder(errs []Error) []Error {
	out := make([]Error, 0, len(errs))
	for _, e := range errs {
		if fromVerifyCallback(e) {
			out = append(out, e)
		}
	}
	for _, e := range errs {
		if !fromVerifyCallback(e) {
			out = append(out, e)
		}
	}
	return out
}
