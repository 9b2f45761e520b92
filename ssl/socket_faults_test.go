package ssl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Faults in the application's handlers (issue 16): a handler that blocks
// forever stalls only its socket, and Close or Abort from another
// goroutine still end the connection and return; a handler that panics
// reaches the application as any Go panic does, and leaves no lock held.

// TestStuckHandlerDoesNotBlockClose: a readyRead handler blocks (on the
// read loop) and another on the worker; Abort/Close/DisconnectFromHost
// from another goroutine end the connection at once.
func TestStuckHandlerDoesNotBlockClose(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		for _, end := range []string{"Abort", "Close", "DisconnectFromHost"} {
			for _, where := range []string{"readyRead", "bytesWritten"} {
				t.Run(end+"/"+where, func(t *testing.T) {
					c, s, err := socketPair(t, p)
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					release := make(chan struct{})
					stuck := make(chan struct{})
					var once atomic.Bool
					block := func() {
						if once.CompareAndSwap(false, true) {
							close(stuck)
							<-release
						}
					}
					if where == "readyRead" {
						s.OnReadyRead(block)
						c.Write([]byte("wake"))
					} else {
						s.OnBytesWritten(func(int64) { block() })
						s.Write([]byte("wake"))
					}
					select {
					case <-stuck:
					case <-time.After(5 * time.Second):
						t.Fatal("the handler never ran")
					}
					done := make(chan struct{})
					go func() {
						switch end {
						case "Abort":
							s.Abort()
						case "Close":
							s.Close()
						default:
							s.DisconnectFromHost()
						}
						close(done)
					}()
					select {
					case <-done:
					case <-time.After(5 * time.Second):
						close(release)
						t.Fatalf("%s blocked behind a stuck handler", end)
					}
					// The peer sees the end of the connection.
					c.SetReadDeadline(time.Now().Add(5 * time.Second))
					if _, err := io.ReadAll(c); errors.Is(err, os.ErrDeadlineExceeded) {
						t.Errorf("the peer did not see the end: %v", err)
					}
					if st := s.State(); st != UnconnectedState {
						t.Errorf("state %v after %s", st, end)
					}
					close(release) // the handler returns; the socket's goroutines exit
				})
			}
		}
	})
}

// TestPanickingHandler: a panic in a handler unwinds as Go reports any
// panic; the socket's locks are not left held, so the socket still works
// from other goroutines (the test recovers the panic where it surfaces).
func TestPanickingHandler(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	c, s, err := socketPair(t, p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer s.Close()
	s.OnBytesWritten(func(int64) {})
	var recovered atomic.Value
	s.OnStateChanged(func(st SocketState) {})
	// Raised on the application's goroutine (a lifecycle event runs
	// inline there): the panic surfaces from the call, as Qt's would
	// from emit.
	remove := s.OnModeChanged(func(SslMode) { panic("boom") })
	func() {
		defer func() { recovered.Store(recover()) }()
		s.hub().post(event{kind: evModeChanged, n: int64(SslServerMode)}, nil)
	}()
	remove()
	if r, _ := recovered.Load().(string); r != "boom" {
		t.Fatalf("recovered %v", recovered.Load())
	}
	// Nothing is left locked: the socket and its dispatcher still work.
	var got atomic.Int32
	s.OnReadyRead(func() {
		if strings.Contains(string(s.ReadAll()), "ok") {
			got.Store(1)
		}
	})
	c.Write([]byte("ok"))
	deadline := time.Now().Add(5 * time.Second)
	for got.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got.Load() == 0 {
		t.Fatal("the socket's handlers no longer run after a panic")
	}
	if _, err := s.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
}

// TestPastReadDeadlineThenClose is net/http's pattern on a socket that
// reads directly (no readyRead subscriber): a background Read is aborted
// with a read deadline in the past, then the connection is closed. The
// deadline must not count as a fatal error: the close sends close_notify
// (the peer reads io.EOF, not ErrUncleanShutdown).
func TestPastReadDeadlineThenClose(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		for i := 0; i < 10; i++ {
			c, s, err := socketPair(t, p)
			if err != nil {
				t.Fatal(err)
			}
			read := make(chan error, 1)
			go func() {
				var b [16]byte
				_, err := s.Read(b[:])
				read <- err
			}()
			time.Sleep(time.Millisecond)
			s.SetReadDeadline(time.Unix(1, 0))
			if err := <-read; !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("aborted read: %v", err)
			}
			s.SetReadDeadline(time.Time{})
			s.Write([]byte("response"))
			s.Close()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			data, err := io.ReadAll(c)
			if string(data) != "response" || err != nil {
				t.Fatalf("peer read %q, %v (want the data, then close_notify)", data, err)
			}
			c.Close()
		}
	})
}

// TestPeerCloseNotifyKeepsConnection is qt-measured.md §5.3: a peer that
// sends close_notify and keeps TCP open (TLS 1.3 half-close, waiting for
// a reply) leaves the socket Connected — reads end with io.EOF, the
// application can still answer — until the peer closes TCP.
func TestPeerCloseNotifyKeepsConnection(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		for _, subscribed := range []bool{false, true} { // direct reads, and the read loop
			srv := newTestServer(t, p.serverConfig(p.server))
			accepted := make(chan *Socket, 1)
			go func() {
				s, err := srv.AcceptSocket(t.Context())
				if err != nil {
					accepted <- nil
					return
				}
				accepted <- s
			}()
			c, err := tls.Dial("tcp", srv.Addr().String(), rawClientConfig(p))
			if err != nil {
				t.Fatal(err)
			}
			s := <-accepted
			if s == nil {
				t.Fatal("no connection")
			}
			var errs []string
			var mu sync.Mutex
			disconnected := make(chan struct{})
			if subscribed {
				s.OnReadyRead(func() {})
				s.OnErrorOccurred(func(SocketError) { mu.Lock(); errs = append(errs, s.ErrorString()); mu.Unlock() })
				s.OnDisconnected(func() { close(disconnected) })
			}
			c.Write([]byte("request"))
			c.CloseWrite() // close_notify; TCP stays open for the reply
			req, err := io.ReadAll(s)
			if string(req) != "request" || err != nil {
				t.Fatalf("subscribed %v: read %q, %v", subscribed, req, err)
			}
			time.Sleep(20 * time.Millisecond)
			if st := s.State(); st != ConnectedState {
				t.Fatalf("subscribed %v: state %v after the peer's close_notify, want Connected", subscribed, st)
			}
			if _, err := s.Write([]byte("reply")); err != nil {
				t.Fatalf("subscribed %v: reply: %v", subscribed, err)
			}
			buf := make([]byte, 5)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "reply" {
				t.Fatalf("subscribed %v: the peer read %q, %v", subscribed, buf, err)
			}
			c.Close() // now TCP ends
			// The context form: the disconnect may be over before the wait
			// starts (WaitForDisconnected is false then, as in Qt).
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = s.WaitForDisconnectedContext(ctx)
			cancel()
			if err != nil || s.State() != UnconnectedState {
				t.Fatalf("subscribed %v: not disconnected after the peer's TCP close: %v", subscribed, err)
			}
			if subscribed {
				<-disconnected
				mu.Lock()
				want := []string{"The TLS/SSL connection has been closed", "The remote host closed the connection"}
				if !slices.Equal(errs, want) {
					t.Errorf("errors %q, want %q", errs, want)
				}
				mu.Unlock()
			}
			s.Close()
			srv.Close()
		}
	})
}

// rawClientConfig is a crypto/tls client configuration trusting p's root.
func rawClientConfig(p *testPKI) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(p.root.Cert)
	return &tls.Config{RootCAs: pool, ServerName: "localhost"}
}

// TestPeerClosesDuringPausedDecision: the handshake is paused on its
// certificate errors (PauseOnSslErrors) when the peer goes away. Resume
// (errors ignored) then ends the connection with an error instead of
// hanging, and Abort ends it too; nothing is left running.
func TestPeerClosesDuringPausedDecision(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		for _, end := range []string{"Resume", "Abort"} {
			peerGone := make(chan struct{})
			port := serveLoopback(t, func(c net.Conn) {
				s := NewSocketFromConn(c)
				s.SetSslConfiguration(p.serverConfig(p.server))
				s.StartServerEncryption()
				<-peerGone
				s.Abort() // the server goes away while the client decides
			})
			s := NewSocket()
			s.SetSslConfiguration(p.clientConfig())
			s.SetPeerVerifyName("wrong.example")
			s.SetPauseMode(PauseOnSslErrors)
			paused := make(chan struct{})
			s.OnSslErrors(func([]Error) { close(paused) })
			s.ConnectToHostEncrypted("localhost", port)
			select {
			case <-paused:
			case <-time.After(5 * time.Second):
				t.Fatal("no sslErrors")
			}
			close(peerGone)
			time.Sleep(50 * time.Millisecond)
			if end == "Resume" {
				s.IgnoreSslErrors()
				s.Resume()
			} else {
				s.Abort()
			}
			if end == "Resume" && s.WaitForEncrypted(5*time.Second) {
				// TLS 1.3: the client's side of the handshake completes
				// with its Finished, whether the server still reads it or
				// not. A socket that reads directly (nobody subscribed to
				// the read loop's events) learns of the peer's end from
				// its next Read, as a tls.Conn does.
				s.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := s.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("Read from a peer that left: %v", err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := s.WaitForDisconnectedContext(ctx)
			cancel()
			if err != nil || s.State() != UnconnectedState {
				t.Fatalf("%s after the peer left: %v, state %v", end, err, s.State())
			}
		}
	})
}
