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

// handshakeCompleted reports whether this connection's handshake completed
// (even if the connection has ended since).
func (s *Socket) handshakeCompleted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handshaked
}
