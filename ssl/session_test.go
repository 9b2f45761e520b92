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

// TestTicketKeysRotate: a new key every day, each accepted for a week, and
// the slice handed out earlier never changes under its holder.
func TestTicketKeysRotate(t *testing.T) {
	var r ticketKeyRing
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	k1, g1 := r.at(t0)
	if len(k1) != 1 {
		t.Fatalf("first keys: %d", len(k1))
	}
	if k, g := r.at(t0.Add(23 * time.Hour)); g != g1 || k[0] != k1[0] {
		t.Error("rotated before a day")
	}
	k2, g2 := r.at(t0.Add(25 * time.Hour))
	if g2 == g1 || len(k2) != 2 || k2[0] == k1[0] || k2[1] != k1[0] {
		t.Errorf("after a day: gen %d→%d, %d keys", g1, g2, len(k2))
	}
	if len(k1) != 1 {
		t.Error("the earlier slice changed")
	}
	var last [][32]byte
	for d := 2; d <= 9; d++ {
		last, _ = r.at(t0.Add(time.Duration(d)*24*time.Hour + time.Hour))
	}
	if len(last) != 7 {
		t.Errorf("keys kept after nine days: %d, want 7 (a week)", len(last))
	}
	for _, k := range last {
		if k == k1[0] {
			t.Error("the first key is still accepted after nine days")
		}
	}
}
