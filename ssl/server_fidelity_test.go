package ssl

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// TestServerHandshakePhaseOnly: QSslServer forwards handshake-phase events
// only — never an error of a connection that was handed out (the client
// closing later) — and one socket's forwarded handlers never overlap.
func TestServerHandshakePhaseOnly(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		srv := newTestServer(t, p.serverConfig(p.server))
		var mu sync.Mutex
		var events []string
		var inFlight, overlaps atomic.Int32
		enter := func(what string) func() {
			if inFlight.Add(1) > 1 {
				overlaps.Add(1)
			}
			mu.Lock()
			events = append(events, what)
			mu.Unlock()
			time.Sleep(2 * time.Millisecond) // widen any overlap
			return func() { inFlight.Add(-1) }
		}
		srv.OnStartedEncryptionHandshake(func(*Socket) { defer enter("started")() })
		srv.OnPeerVerifyError(func(*Socket, Error) { defer enter("peerVerifyError")() })
		srv.OnSslErrors(func(*Socket, []Error) { defer enter("sslErrors")() })
		srv.OnErrorOccurred(func(_ *Socket, k SocketError) { defer enter("errorOccurred(" + k.String() + ")")() })
		// The client presents an untrusted certificate: the server (QueryPeer) reports, then accepts.
		other := newTestPKI(t)
		ccfg := p.clientConfig()
		ccfg.SetLocalCertificate(certOf(other.client))
		ccfg.SetPrivateKey(NewKey(other.client.Key))
		accepted := make(chan *Socket, 1)
		go func() {
			conn, err := srv.Accept() // the server starts serving with the first Accept
			if err != nil {
				accepted <- nil
				return
			}
			accepted <- conn.(*Socket)
		}()
		c, err := Dial(context.Background(), fmt.Sprintf("localhost:%d", serverPort(srv)), ccfg)
		if err != nil {
			t.Fatal(err)
		}
		s := <-accepted
		if s == nil {
			t.Fatal("Accept failed")
		}
		s.mu.Lock()
		loop := s.path != readDirect
		s.mu.Unlock()
		if loop {
			t.Error("the server's internal forwarding switched the accepted socket to its read loop")
		}
		c.Close() // after the handshake: none of the server's business
		if _, err := io.ReadAll(s); err != nil {
			t.Logf("read: %v", err)
		}
		s.Close()
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if overlaps.Load() != 0 {
			t.Errorf("%d overlapping handler runs for one socket", overlaps.Load())
		}
		// Qt's order: started, each peerVerifyError, then sslErrors.
		var compact []string
		for _, e := range events {
			if len(compact) == 0 || compact[len(compact)-1] != e {
				compact = append(compact, e)
			}
		}
		want := []string{"started", "peerVerifyError", "sslErrors"}
		if len(compact) < 3 || fmt.Sprint(compact[:3]) != fmt.Sprint(want) {
			t.Errorf("events %v, want %v first", events, want)
		}
		for _, e := range events {
			if e == "errorOccurred(RemoteHostClosedError)" {
				t.Errorf("an error after the handoff was forwarded: %v", events)
			}
		}
	})
}

// TestServerQuietAndPlainClients: a client that sends nothing is reported
// as errorOccurred(SocketTimeoutError) at the handshake timeout (Qt's
// quiet-client behaviour); a plaintext client is closed normally, without
// a reset and without an error event.
func TestServerQuietAndPlainClients(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		srv := newTestServer(t, p.serverConfig(p.server))
		srv.SetHandshakeTimeout(300 * time.Millisecond)
		errs := make(chan SocketError, 10)
		srv.OnErrorOccurred(func(_ *Socket, k SocketError) { errs <- k })
		acceptAll(srv, func(*Socket) {})

		quiet, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer quiet.Close()
		select {
		case k := <-errs:
			if k != SocketTimeoutError {
				t.Errorf("quiet client: %v, want SocketTimeoutError", k)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("quiet client: no error reported")
		}

		plain, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		plain.Write([]byte("GET / HTTP/1.0\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n"))
		plain.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(plain); err != nil {
			t.Errorf("plaintext client: %v (want an orderly close)", err)
		}
		select {
		case k := <-errs:
			t.Errorf("plaintext client reported %v", k)
		case <-time.After(100 * time.Millisecond):
		}
	})
}

// TestAcceptedFactsAfterQuickClose: a client that closes at once still
// leaves its accepted socket's session facts readable (ConnectionState,
// RemoteAddr — what sslsock serve reports), while Qt's accessors clear.
func TestAcceptedFactsAfterQuickClose(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		srv := newTestServer(t, p.serverConfig(p.server))
		cfg := p.clientConfig()
		c, err := Dial(context.Background(), fmt.Sprintf("localhost:%d", serverPort(srv)), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.Abort()
		conn, err := srv.Accept()
		if err != nil {
			t.Fatal(err)
		}
		s := conn.(*Socket)
		io.ReadAll(s) // the close is seen
		s.Close()
		cs := s.ConnectionState()
		if cs.Version != 0x0304 || !cs.HandshakeComplete || s.RemoteAddr() == nil || s.RemoteAddr().String() == "" {
			t.Errorf("after the close: version %x complete %v remote %v", cs.Version, cs.HandshakeComplete, s.RemoteAddr())
		}
		if s.PeerAddress() != "" || s.SessionProtocol() != UnknownProtocol {
			t.Errorf("Qt's accessors after the close: %q %v", s.PeerAddress(), s.SessionProtocol())
		}
	})
}

// TestServerQueryPeerVerificationAfterHandshake: a QueryPeer server (Qt's
// default) whose application does not listen to verification events
// verifies the client's chain after crypto/tls's handshake, on a
// configuration shared by its connections; one that listens verifies
// inside it. Both accept the untrusted client certificate and report the
// same errors, peer chain and events.
func TestServerQueryPeerVerificationAfterHandshake(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		stranger := pki.MustSelfSigned(pki.Spec{CommonName: "stranger", DNSNames: []string{"stranger"}})
		results := map[bool][]string{}
		for _, listen := range []bool{false, true} {
			srv := newTestServer(t, p.serverConfig(p.server))
			var seen []Error
			if listen {
				srv.OnSslErrors(func(_ *Socket, errs []Error) { seen = append(seen, errs...) })
			}
			for i := 0; i < 2; i++ { // the second connection uses the shared configuration again
				cfg := p.clientConfig()
				cfg.SetLocalCertificate(certOf(stranger))
				cfg.SetPrivateKey(NewKey(stranger.Key))
				c, err := Dial(context.Background(), fmt.Sprintf("localhost:%d", serverPort(srv)), cfg)
				if err != nil {
					t.Fatal(err)
				}
				conn, err := srv.Accept()
				if err != nil {
					t.Fatal(err)
				}
				s := conn.(*Socket)
				var got []string
				for _, e := range s.SslHandshakeErrors() {
					got = append(got, e.Code.String())
				}
				if !s.IsEncrypted() || !s.PeerCertificate().Equal(certOf(stranger)) || len(got) == 0 {
					t.Errorf("listen=%v: encrypted %v, peer %v, errors %v", listen, s.IsEncrypted(), s.PeerCertificate().SubjectDisplayName(), got)
				}
				if m.backend == "go" && !m.engine {
					if gs, ok := s.sess.(*goStream); !ok || gs.verifyAfter == listen {
						t.Errorf("listen=%v: a go stream %v verifying after the handshake", listen, ok)
					}
				}
				results[listen] = got
				c.Close()
				s.Close()
			}
			if listen && len(seen) != 2*len(results[true]) {
				t.Errorf("server sslErrors seen %d times for %d errors per connection", len(seen), len(results[true]))
			}
		}
		if strings.Join(results[false], ",") != strings.Join(results[true], ",") {
			t.Errorf("errors differ: after the handshake %v, inside it %v", results[false], results[true])
		}
	})
}

// TestServerCloseEndsSilentClients: Close does not wait for the handshake
// timeout of clients that connected and sent nothing yet; and a server
// whose timeouts are swept (no timer per connection) still cuts such a
// client at its timeout, with SocketTimeoutError, while others are served.
func TestServerCloseEndsSilentClients(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	srv := newTestServer(t, p.serverConfig(p.server)) // the default timeout: 5 s
	var silent []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	time.Sleep(50 * time.Millisecond) // accepted, waiting for their first byte
	start := time.Now()
	srv.Close()
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("Close took %v with silent clients in flight", d)
	}
	for _, c := range silent {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Errorf("a silent client's connection stayed open: %v", err)
		}
	}

	srv = newTestServer(t, p.serverConfig(p.server))
	srv.SetHandshakeTimeout(200 * time.Millisecond)
	var timeouts atomic.Int32
	srv.OnErrorOccurred(func(_ *Socket, k SocketError) {
		if k == SocketTimeoutError {
			timeouts.Add(1)
		}
	})
	quiet, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer quiet.Close()
	cfg := p.clientConfig()
	c, err := Dial(context.Background(), fmt.Sprintf("localhost:%d", serverPort(srv)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := srv.Accept()
	if err != nil {
		t.Fatal(err)
	}
	quiet.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := quiet.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Errorf("the quiet client was not cut: %v", err)
	}
	if timeouts.Load() != 1 {
		t.Errorf("%d SocketTimeoutError events, want 1", timeouts.Load())
	}
	// The served connection has no deadline left from the sweeper.
	time.Sleep(300 * time.Millisecond)
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	if _, err := io.ReadFull(s, buf); err != nil || buf[0] != 'x' {
		t.Errorf("the accepted socket after the timeout period: %q %v", buf, err)
	}
	c.Close()
	s.Close()
}

// TestServerPausedHandshakeTimesOut: a handshake paused in verification
// (PauseOnSslErrors, nobody resumes) does no I/O a deadline could end; the
// handshake timeout still ends it, with SocketTimeoutError, and frees its
// pending slot.
func TestServerPausedHandshakeTimesOut(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		cfg := p.serverConfig(p.server)
		cfg.SetPeerVerifyMode(VerifyPeer)
		srv := newTestServer(t, cfg)
		srv.SetHandshakeTimeout(300 * time.Millisecond)
		var timeouts, paused atomic.Int32
		srv.OnStartedEncryptionHandshake(func(s *Socket) { s.SetPauseMode(PauseOnSslErrors) })
		srv.OnSslErrors(func(*Socket, []Error) { paused.Add(1) })
		srv.OnErrorOccurred(func(_ *Socket, k SocketError) {
			if k == SocketTimeoutError {
				timeouts.Add(1)
			}
		})
		c, err := tls.Dial("tcp", srv.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Errorf("the paused handshake was not ended: %v", err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			srv.mu.Lock()
			n, pending := len(srv.inflight), srv.pending
			srv.mu.Unlock()
			if n == 0 && pending <= 1 { // the accept loop holds one slot for the next connection
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		srv.mu.Lock()
		n, pending := len(srv.inflight), srv.pending
		srv.mu.Unlock()
		if n != 0 || pending > 1 || paused.Load() != 1 || timeouts.Load() != 1 {
			t.Errorf("after the timeout: in flight %d, pending %d, paused %d, SocketTimeoutError %d", n, pending, paused.Load(), timeouts.Load())
		}
	})
}
