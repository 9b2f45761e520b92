package ssl

// The socket's side of Qt's verification policy; the policy itself is the
// endpoint's (endpoint.go), shared with Engine.

// stillOpen is false once Abort, Close or a disconnect ended the
// connection: a handshake decision must not go on.
func (s *Socket) stillOpen() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.phase == phaseConnected
}

// storeTicket keeps a new session in the configuration unless persistence
// is disabled; Qt signals only tickets that arrive after the handshake.
func (s *Socket) storeTicket(ticket []byte, lifetimeHint int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.config.TestSslOption(SslOptionDisableSessionPersistence) {
		return false
	}
	c := *s.config // copy on write: the snapshot may be shared
	c.prep = nil
	c.sessionTicket = append([]byte(nil), ticket...)
	c.ticketLifetimeHint, c.ticketHintSet = lifetimeHint, lifetimeHint >= 0
	s.config = &c
	return s.encryptedLocked()
}

// IgnoreSslErrors makes this connection's handshake continue despite any
// verification error. Like Qt, connecting (ConnectToHost*) resets it: call
// it after ConnectToHostEncrypted, or from an OnSslErrors handler.
func (s *Socket) IgnoreSslErrors() { s.ep.ignoreAllErrors() }

// IgnoreSslErrorList makes the handshake continue only if every error that
// occurs is in list (same code and certificate): QSslSocket::ignoreSslErrors(list).
// It survives reconnection; an empty list clears it.
func (s *Socket) IgnoreSslErrorList(list []Error) { s.ep.setIgnoreList(list) }

// SslHandshakeErrors returns the errors of the last handshake (kept after
// encrypted when they were ignored).
func (s *Socket) SslHandshakeErrors() []Error { return s.ep.handshakeErrors() }

// ContinueInterruptedHandshake lets a handshake interrupted by
// handshakeInterruptedOnError go on; call it from that event's handler.
func (s *Socket) ContinueInterruptedHandshake() { s.ep.continueInterrupted() }

// Resume continues a handshake paused by PauseOnSslErrors: it completes if
// the errors have been ignored meanwhile, and fails otherwise.
func (s *Socket) Resume() { s.ep.resume() }

// OcspResponses returns the stapled OCSP response of the handshake, decoded
// (with OCSP stapling enabled on a client); empty when there was none.
func (s *Socket) OcspResponses() []OcspResponse { return s.ep.ocsp() }

// handshakeCompleted reports whether this connection's handshake completed
// (even if the connection has ended since).
func (s *Socket) handshakeCompleted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handshaked
}
