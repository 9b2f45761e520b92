package ssl

// The Engine's events, verification policy and session facts: the same
// as Socket's, from the shared endpoint.

// hubFor and subscribeLoopEvent complete the Engine as an endpointOwner:
// its TLS signals and verification methods are Socket's (signals_tls.go).
func (e *Engine) hubFor() *eventHub                       { return &e.hubStore }
func (e *Engine) subscribeLoopEvent(remove func()) func() { return remove }

// SetPauseMode sets where the handshake pauses: with PauseOnSslErrors,
// unignored errors make Handshake return ErrWantRetryVerify until Resume.
func (e *Engine) SetPauseMode(m PauseMode) { e.ep.setPauseMode(m) }

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
