package ssl

// The Engine's events, verification policy and session facts: the same
// as Socket's, from the shared endpoint.

// OnEncrypted subscribes to encrypted: the handshake completed.
func (e *Engine) OnEncrypted(fn func()) (remove func()) { return e.hubStore.ev.encrypted.add(fn) }

// OnSslErrors subscribes to sslErrors: every verification problem, once,
// before the handshake goes on or fails. Ignore them inside the handler
// (IgnoreSslErrors, IgnoreSslErrorList) to continue.
func (e *Engine) OnSslErrors(fn func([]Error)) (remove func()) {
	return e.hubStore.ev.sslErrors.add(fn)
}

// OnPeerVerifyError subscribes to peerVerifyError: each problem as found.
func (e *Engine) OnPeerVerifyError(fn func(Error)) (remove func()) {
	return e.hubStore.ev.peerVerifyError.add(fn)
}

// OnHandshakeInterruptedOnError subscribes to handshakeInterruptedOnError
// (Configuration.SetHandshakeMustInterruptOnError): call
// ContinueInterruptedHandshake in the handler to go on.
func (e *Engine) OnHandshakeInterruptedOnError(fn func(Error)) (remove func()) {
	return e.hubStore.ev.handshakeInterruptedOnError.add(fn)
}

// OnAlertSent subscribes to alertSent: a TLS alert this engine sent.
func (e *Engine) OnAlertSent(fn func(level AlertLevel, typ AlertType, description string)) (remove func()) {
	return e.hubStore.ev.alertSent.add(fn)
}

// OnAlertReceived subscribes to alertReceived: a TLS alert from the peer.
func (e *Engine) OnAlertReceived(fn func(level AlertLevel, typ AlertType, description string)) (remove func()) {
	return e.hubStore.ev.alertReceived.add(fn)
}

// OnNewSessionTicketReceived subscribes to newSessionTicketReceived (a
// client got a session after the handshake; SslConfiguration().SessionTicket()
// has it).
func (e *Engine) OnNewSessionTicketReceived(fn func()) (remove func()) {
	return e.hubStore.ev.newSessionTicketReceived.add(fn)
}

// OnPreSharedKeyAuthenticationRequired subscribes to
// preSharedKeyAuthenticationRequired (PSK suites, openssl backend).
func (e *Engine) OnPreSharedKeyAuthenticationRequired(fn func(*PreSharedKeyAuthenticator)) (remove func()) {
	return e.hubStore.ev.preSharedKeyAuthenticationRequired.add(fn)
}

// IgnoreSslErrors makes the handshake continue despite any verification error.
func (e *Engine) IgnoreSslErrors() { e.ep.ignoreAllErrors() }

// IgnoreSslErrorList makes the handshake continue only if every error is
// in list (same code and certificate).
func (e *Engine) IgnoreSslErrorList(list []Error) { e.ep.setIgnoreList(list) }

// SslHandshakeErrors returns the verification errors of the handshake.
func (e *Engine) SslHandshakeErrors() []Error { return e.ep.handshakeErrors() }

// ContinueInterruptedHandshake lets an interrupted handshake go on; call it
// from an OnHandshakeInterruptedOnError handler.
func (e *Engine) ContinueInterruptedHandshake() { e.ep.continueInterrupted() }

// SetPauseMode sets where the handshake pauses: with PauseOnSslErrors,
// unignored errors make Handshake return ErrWantRetryVerify until Resume.
func (e *Engine) SetPauseMode(m PauseMode) { e.ep.setPauseMode(m) }

// Resume ends a pause: the next Handshake completes if the errors were
// ignored meanwhile, and fails otherwise.
func (e *Engine) Resume() { e.ep.resume() }

// Mode is SslClientMode or SslServerMode.
func (e *Engine) Mode() SslMode { return e.mode }

// IsEncrypted reports whether the handshake completed.
func (e *Engine) IsEncrypted() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.encrypted
}

// SslConfiguration returns the engine's configuration with the session's
// facts filled in (cipher, protocol, peer chain, ALPN, ticket).
func (e *Engine) SslConfiguration() Configuration {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.config.Clone()
	if chain := e.ep.peerCertificates(); len(chain) > 0 {
		c.peerCertificateChain = append([]Certificate(nil), chain...)
	}
	if e.encrypted {
		c.setSession(e.sessState)
	}
	return c
}

// SessionCipher returns the negotiated cipher.
func (e *Engine) SessionCipher() Cipher { return e.SslConfiguration().SessionCipher() }

// SessionProtocol returns the negotiated protocol.
func (e *Engine) SessionProtocol() Protocol { return e.SslConfiguration().SessionProtocol() }

// PeerCertificate returns the peer's certificate.
func (e *Engine) PeerCertificate() Certificate { return e.SslConfiguration().PeerCertificate() }

// PeerCertificateChain returns the chain the peer presented, leaf first.
func (e *Engine) PeerCertificateChain() []Certificate {
	return e.SslConfiguration().PeerCertificateChain()
}

// IsSessionResumed reports whether the handshake resumed a session.
func (e *Engine) IsSessionResumed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.encrypted && e.sessState.Resumed
}

// OcspResponses returns the decoded stapled OCSP response (clients with
// OCSP stapling enabled).
func (e *Engine) OcspResponses() []OcspResponse { return e.ep.ocsp() }
