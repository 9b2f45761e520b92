package ssl

// SessionTicketKeyID identifies the session-ticket key under which the
// last handshake's resumed session was issued (TicketKeyID): on a server
// socket, the key of its set (Configuration.SetSessionTicketKeys) that
// opened the client's ticket; on a client, the key named at the start of
// the ticket it offered (the layout OpenSSL, nginx, HAProxy and this
// package use; another server's ticket gives an identifier of its first
// 16 bytes that means nothing). "" when the session was not resumed, on a
// server without its own key set, or before a handshake. Like
// ConnectionState it still describes the session after the connection
// closed, until the socket connects again.
func (s *Socket) SessionTicketKeyID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.handshaked {
		return ""
	}
	return s.sessState.TicketKeyID
}

// SessionTicketKeyID identifies the session-ticket key under which the
// resumed session was issued, as Socket.SessionTicketKeyID does.
func (e *Engine) SessionTicketKeyID() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.encrypted {
		return ""
	}
	return e.sessState.TicketKeyID
}
