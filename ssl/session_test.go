package ssl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSessionTicketResumption(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		srv := newTestServer(t, p.serverConfig(p.server))
		acceptAll(srv, func(s *Socket) { s.Read(make([]byte, 10)) })
		port := serverPort(srv)

		// Qt's default disables persistence: no ticket, no event.
		s := NewSocket()
		s.SetSslConfiguration(p.clientConfig())
		fired := make(chan struct{}, 4)
		s.OnNewSessionTicketReceived(func() { fired <- struct{}{} })
		s.ConnectToHostEncrypted("localhost", port)
		s.WaitForEncrypted(5 * time.Second)
		s.WaitForReadyRead(300 * time.Millisecond)
		if len(fired) != 0 || len(s.SslConfiguration().SessionTicket()) != 0 {
			t.Error("a ticket was exported with SslOptionDisableSessionPersistence set")
		}
		s.Close()

		cfg := p.clientConfig()
		cfg.SetSslOption(SslOptionDisableSessionPersistence, false)
		s = NewSocket()
		s.SetSslConfiguration(cfg)
		s.OnNewSessionTicketReceived(func() { fired <- struct{}{} })
		s.ConnectToHostEncrypted("localhost", port)
		if !s.WaitForEncrypted(5 * time.Second) {
			s.Close()
			t.Fatal(s.ErrorString())
		}
		select {
		case <-fired:
		case <-time.After(5 * time.Second):
			s.Close()
			t.Fatal("no newSessionTicketReceived")
		}
		ticket := s.SslConfiguration().SessionTicket()
		hint := s.SslConfiguration().SessionTicketLifeTimeHint()
		wantHint := -1 // crypto/tls keeps the lifetime hint to itself
		if m.backend == "openssl" {
			wantHint = 7200 // OpenSSL's default, as Qt reports it
		}
		resumed := s.IsSessionResumed()
		s.Close()
		if len(ticket) == 0 || resumed || hint != wantHint {
			t.Fatalf("ticket %d bytes, resumed %v, lifetime hint %d (want %d)", len(ticket), resumed, hint, wantHint)
		}

		cfg.SetSessionTicket(ticket)
		s = NewSocket()
		s.SetSslConfiguration(cfg)
		s.ConnectToHostEncrypted("localhost", port)
		if !s.WaitForEncrypted(5*time.Second) || !s.IsSessionResumed() {
			t.Errorf("resumption: encrypted %v resumed %v (%s)", s.IsEncrypted(), s.IsSessionResumed(), s.ErrorString())
		}
		// A resumed session still went through verification: same peer.
		if !s.PeerCertificate().Equal(certOf(p.server)) {
			t.Error("peer certificate after resumption")
		}
		s.Close()

		// A damaged ticket is a configuration error.
		cfg.SetSessionTicket([]byte("garbage"))
		s = NewSocket()
		s.SetSslConfiguration(cfg)
		s.ConnectToHostEncrypted("localhost", port)
		if s.WaitForEncrypted(5*time.Second) || s.SocketError() != SslInvalidUserDataError {
			t.Errorf("garbage ticket: %v %s", s.SocketError(), s.ErrorString())
		}
		s.Close()
	})
}

// TestSessionResumptionInterop: `openssl s_client -sess_out` then `-sess_in`
// against our Server, and our client resuming against `openssl s_server`.
func TestSessionResumptionInterop(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		dir := pkiFiles(t, p)
		srv := newTestServer(t, p.serverConfig(p.server))
		acceptAll(srv, lineEchoServer)
		sess := filepath.Join(dir, "sess.pem")
		out := sClient(t, dir, serverPort(srv), "a\n", "-CAfile", "root.pem", "-sess_out", sess)
		if _, err := os.Stat(sess); err != nil {
			t.Fatalf("no session saved:\n%s", out)
		}
		out = sClient(t, dir, serverPort(srv), "b\n", "-CAfile", "root.pem", "-sess_in", sess)
		if !strings.Contains(out, "Reused, TLSv1.3") {
			t.Errorf("s_client did not resume with our server:\n%s", out)
		}

		port := opensslServer(t, dir, "-cert", "server.pem", "-key", "server.key", "-rev")
		cfg := p.clientConfig()
		cfg.SetSslOption(SslOptionDisableSessionPersistence, false)
		var ticket []byte
		for i := range 2 {
			s := NewSocket()
			c := cfg
			c.SetSessionTicket(ticket)
			s.SetSslConfiguration(c)
			got := make(chan struct{}, 4)
			s.OnNewSessionTicketReceived(func() { got <- struct{}{} })
			s.ConnectToHostEncrypted("localhost", port)
			if !s.WaitForEncrypted(10 * time.Second) {
				t.Fatal(s.ErrorString())
			}
			if i == 1 && !s.IsSessionResumed() {
				t.Error("no resumption against openssl s_server")
			}
			select {
			case <-got:
			case <-time.After(5 * time.Second):
				t.Fatalf("connection %d: no ticket from s_server", i)
			}
			ticket = s.SslConfiguration().SessionTicket()
			s.Close()
		}
	})
}
