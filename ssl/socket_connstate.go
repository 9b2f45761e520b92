package ssl

import (
	"crypto/tls"
	"crypto/x509"
)

// connectionState describes the pumped engine's session, when its backend
// can (see connectionStater).
func (p *pumpStream) connectionState() (tls.ConnectionState, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.core.(connectionStater); ok {
		return st.ConnectionState(), true
	}
	return tls.ConnectionState{}, false
}

// ConnectionState describes the negotiated session as crypto/tls does, so
// that Go code written for *tls.Conn works with a Socket: net/http fills
// Request.TLS from it, and Response.TLS over HTTP/2 (see ServeHTTP and
// HTTPTransport).
//
// Before the handshake has completed it returns the zero value
// (HandshakeComplete false). Like tls.Conn, and unlike Qt's SessionProtocol
// and SessionCipher, it keeps describing the session after the connection
// has closed, until the socket connects again.
//
// VerifiedChains is always empty: certificates are verified by this
// package's verifier, whose verdict is SslHandshakeErrors. On the go backend
// the state is crypto/tls's own (CurveID, ServerName, TLSUnique and
// ExportKeyingMaterial included); on other backends ExportKeyingMaterial is
// unavailable and must not be called.
func (s *Socket) ConnectionState() tls.ConnectionState {
	s.mu.Lock()
	done, sess, st := s.handshaked, s.sess, s.sessState
	s.mu.Unlock()
	if !done {
		return tls.ConnectionState{}
	}
	switch x := sess.(type) {
	case connectionStater:
		return x.ConnectionState()
	case *pumpStream:
		if cs, ok := x.connectionState(); ok {
			return cs
		}
	}
	return connectionStateOf(st, st.PeerChain, st.ServerName)
}

// connectionStateOf builds crypto/tls's description from what every
// backend reports.
func connectionStateOf(st SessionState, chain []Certificate, serverName string) tls.ConnectionState {
	cs := tls.ConnectionState{
		Version:           st.Version,
		HandshakeComplete: true,
		DidResume:         st.Resumed,
		CipherSuite:       st.Cipher.ID(),
		ServerName:        serverName,
		OCSPResponse:      st.OCSPResponse,
		CurveID:           st.KeyExchangeGroup,
		ECHAccepted:       st.ECHAccepted,
	}
	if st.ALPNStatus == NextProtocolNegotiationNegotiated {
		cs.NegotiatedProtocol = st.ALPN
	}
	if len(chain) > 0 {
		cs.PeerCertificates = make([]*x509.Certificate, 0, len(chain))
		for _, c := range chain {
			cs.PeerCertificates = append(cs.PeerCertificates, c.X509())
		}
	}
	return cs
}
