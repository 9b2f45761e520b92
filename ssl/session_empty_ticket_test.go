package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
)

// captureCache keeps the last session crypto/tls stores.
type captureCache struct{ got *tls.ClientSessionState }

func (c *captureCache) Get(string) (*tls.ClientSessionState, bool) { return nil, false }
func (c *captureCache) Put(_ string, cs *tls.ClientSessionState) {
	if cs != nil {
		c.got = cs
	}
}

// ticketHooks records the sessions a sessionCache exports.
type ticketHooks struct{ tickets [][]byte }

func (*ticketHooks) VerifyPeer([]Certificate, []byte) error        { return nil }
func (*ticketHooks) PreSharedKey(*PreSharedKeyAuthenticator) error { return nil }
func (*ticketHooks) Alert(bool, AlertLevel, AlertType, string)     {}
func (h *ticketHooks) NewSessionTicket(ticket []byte, lifetime int) {
	h.tickets = append(h.tickets, ticket)
}

// TestEmptySessionTicketNotExported: a session whose ticket is empty (a
// TLS 1.2 server's empty NewSessionTicket: "no ticket after all") resumes
// nothing, so no SessionTicket is exported for it (found by BoGo's
// SendEmptySessionTicket-TLS12); a real one still is.
func TestEmptySessionTicketNotExported(t *testing.T) {
	p := newTestPKI(t)
	cli, srv := tcpPair(t)
	pool := x509.NewCertPool()
	pool.AddCert(p.root.Cert)
	cache := &captureCache{}
	done := make(chan error, 1)
	go func() {
		s := tls.Server(srv, &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{p.server.Cert.Raw}, PrivateKey: p.server.Key}},
			MaxVersion:   tls.VersionTLS12,
		})
		done <- s.Handshake()
	}()
	c := tls.Client(cli, &tls.Config{RootCAs: pool, ServerName: "localhost", ClientSessionCache: cache, MaxVersion: tls.VersionTLS12})
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if cache.got == nil {
		t.Fatal("crypto/tls stored no session")
	}
	_, state, err := cache.got.ResumptionState()
	if err != nil || state == nil {
		t.Fatalf("ResumptionState: %v", err)
	}
	stateBytes, err := state.Bytes()
	if err != nil {
		t.Fatal(err)
	}

	hooks := &ticketHooks{}
	sc := &sessionCache{hooks: hooks}
	for _, empty := range [][]byte{nil, {}} {
		st, err := tls.ParseSessionState(stateBytes) // a copy: NewResumptionState keeps the ticket in it
		if err != nil {
			t.Fatal(err)
		}
		cs, err := tls.NewResumptionState(empty, st)
		if err != nil {
			t.Fatal(err)
		}
		sc.Put("", cs)
	}
	if len(hooks.tickets) != 0 {
		t.Fatalf("%d sessions with an empty ticket exported", len(hooks.tickets))
	}
	sc.Put("", cache.got) // the server's real ticket
	if len(hooks.tickets) != 1 {
		t.Fatalf("the real session was not exported")
	}
	if _, err := decodeSession(hooks.tickets[0]); err != nil {
		t.Fatalf("exported session does not decode: %v", err)
	}
}
