package ssl

// tlsSignals is QSslSocket's TLS signals and the verification policy's
// methods, shared by Socket and Engine: one implementation (embedded in
// both), so the two cannot drift. Socket adds the connection's signals
// (events.go); Engine has no connection.
type tlsSignals struct {
	ep *endpoint // the owner's policy; its owner has the subscribers
}

// OnEncrypted subscribes to encrypted: the handshake completed and data
// now flows encrypted. The returned function unsubscribes.
func (t tlsSignals) OnEncrypted(fn func()) (remove func()) {
	return t.ep.owner.hubFor().ev.encrypted.add(fn)
}

// OnSslErrors subscribes to sslErrors: the verification problems of the
// handshake, emitted once before encrypted (or the failure). Call
// IgnoreSslErrors or IgnoreSslErrorList inside the handler to continue, or
// SetPauseMode(PauseOnSslErrors) to decide later and Resume. The handler
// runs with no lock of the TLS engine held.
func (t tlsSignals) OnSslErrors(fn func([]Error)) (remove func()) {
	return t.ep.owner.hubFor().ev.sslErrors.add(fn)
}

// OnPeerVerifyError subscribes to peerVerifyError: each problem as it is
// found, before sslErrors. Abort (or Close) inside the handler stops the
// handshake.
func (t tlsSignals) OnPeerVerifyError(fn func(Error)) (remove func()) {
	return t.ep.owner.hubFor().ev.peerVerifyError.add(fn)
}

// OnHandshakeInterruptedOnError subscribes to handshakeInterruptedOnError
// (with Configuration.SetHandshakeMustInterruptOnError): call
// ContinueInterruptedHandshake inside the handler to go on.
func (t tlsSignals) OnHandshakeInterruptedOnError(fn func(Error)) (remove func()) {
	return t.ep.owner.hubFor().ev.handshakeInterruptedOnError.add(fn)
}

// OnNewSessionTicketReceived subscribes to newSessionTicketReceived: a
// client got a session after the handshake (SslConfiguration().SessionTicket()
// has it).
func (t tlsSignals) OnNewSessionTicketReceived(fn func()) (remove func()) {
	return t.ep.owner.subscribeLoopEvent(t.ep.owner.hubFor().ev.newSessionTicketReceived.add(fn))
}

// OnAlertSent subscribes to alertSent: a TLS alert this side sent
// (backends with FeatureAlerts).
func (t tlsSignals) OnAlertSent(fn func(level AlertLevel, typ AlertType, description string)) (remove func()) {
	return t.ep.owner.hubFor().ev.alertSent.add(fn)
}

// OnAlertReceived subscribes to alertReceived: a TLS alert from the peer.
// The go backend reports the fatal alerts it receives; warnings need a
// backend with FeatureAlerts.
func (t tlsSignals) OnAlertReceived(fn func(level AlertLevel, typ AlertType, description string)) (remove func()) {
	return t.ep.owner.subscribeLoopEvent(t.ep.owner.hubFor().ev.alertReceived.add(fn))
}

// OnPreSharedKeyAuthenticationRequired subscribes to
// preSharedKeyAuthenticationRequired: fill the authenticator in the
// handler. PSK needs a backend with FeaturePsk (the "openssl" backend:
// crypto/tls has no PSK) and SetPeerVerifyMode(VerifyNone) on a client (the
// server presents no certificate), as in Qt: without it the handshake fails
// with "The peer did not present any certificate". In TLS 1.3 a handler
// that sets no key leaves the handshake to certificates. Package
// ssl/openssl's Example_preSharedKey is a runnable client and server.
func (t tlsSignals) OnPreSharedKeyAuthenticationRequired(fn func(*PreSharedKeyAuthenticator)) (remove func()) {
	return t.ep.owner.hubFor().ev.preSharedKeyAuthenticationRequired.add(fn)
}

// IgnoreSslErrors makes this connection's handshake continue despite any
// verification error. Like Qt, connecting (ConnectToHost*) resets it: call
// it after ConnectToHostEncrypted, or from an OnSslErrors handler.
func (t tlsSignals) IgnoreSslErrors() { t.ep.ignoreAllErrors() }

// IgnoreSslErrorList makes the handshake continue only if every error that
// occurs is in list (same code and certificate): QSslSocket::ignoreSslErrors(list).
// It survives reconnection; an empty list clears it.
func (t tlsSignals) IgnoreSslErrorList(list []Error) { t.ep.setIgnoreList(list) }

// SslHandshakeErrors returns the errors of the last handshake (kept after
// encrypted when they were ignored).
func (t tlsSignals) SslHandshakeErrors() []Error { return t.ep.handshakeErrors() }

// ContinueInterruptedHandshake lets a handshake interrupted by
// handshakeInterruptedOnError go on; call it from that event's handler.
func (t tlsSignals) ContinueInterruptedHandshake() { t.ep.continueInterrupted() }

// Resume continues a handshake paused by PauseOnSslErrors: it completes if
// the errors have been ignored meanwhile, and fails otherwise.
func (t tlsSignals) Resume() { t.ep.resume() }

// OcspResponses returns the stapled OCSP response of the handshake, decoded
// (with OCSP stapling enabled on a client); empty when there was none.
func (t tlsSignals) OcspResponses() []OcspResponse { return t.ep.ocsp() }
