package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestWaitForBytesWrittenBehindBusyHandler: WaitForBytesWritten(timeout)
// honours its timeout while another handler of the socket runs.
func TestWaitForBytesWrittenBehindBusyHandler(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		c, s := mustPair(t, p)
		release := make(chan struct{})
		stuck := make(chan struct{})
		var once atomic.Bool
		s.OnReadyRead(func() {
			if once.CompareAndSwap(false, true) {
				close(stuck)
				<-release // a slow handler (say, waiting for the app)
			}
		})
		s.OnBytesWritten(func(int64) {})
		c.Write([]byte("wake"))
		<-stuck
		done := make(chan bool, 1)
		go func() {
			s.Write([]byte("x"))
			done <- s.WaitForBytesWritten(200 * time.Millisecond)
		}()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			close(release)
			t.Fatal("WaitForBytesWritten(200ms) still blocked after 3s behind a running handler")
		}
		close(release)
	})
}

// TestReconnectFromDisconnected: reconnecting from a disconnected handler
// (a common Qt idiom) — the handler runs on the read loop, which the new
// connection must not wait for.
func TestReconnectFromDisconnected(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		srv := newTestServer(t, p.serverConfig(p.server))
		go func() {
			for {
				c, err := srv.Accept()
				if err != nil {
					return
				}
				c.Close() // close right after the handshake
			}
		}()
		s := NewSocket()
		s.SetSslConfiguration(p.clientConfig())
		var n atomic.Int32
		encrypted := make(chan struct{}, 4)
		s.OnEncrypted(func() { encrypted <- struct{}{} })
		s.OnDisconnected(func() {
			if n.Add(1) == 1 {
				s.ConnectToHostEncrypted("localhost", serverPort(srv))
			}
		})
		s.ConnectToHostEncrypted("localhost", serverPort(srv))
		for i := 0; i < 2; i++ {
			select {
			case <-encrypted:
			case <-time.After(5 * time.Second):
				t.Fatalf("connection %d never encrypted (disconnects seen: %d)", i+1, n.Load())
			}
		}
		done := make(chan struct{})
		go func() { s.Abort(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Abort blocked")
		}
	})
}

// TestAbortDuringPausedDecision: Abort/Close while a verification decision is paused, from the
// handler and from another goroutine, on every mode: never encrypted,
// Unconnected soon, no goroutine left.
func TestAbortDuringPausedDecision(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		port := startServer(t, p.serverConfig(p.server), echo)
		for _, how := range []string{"abort-in-handler", "close-in-handler", "abort-elsewhere", "close-elsewhere", "resume-then-abort"} {
			t.Run(how, func(t *testing.T) {
				s := NewSocket()
				s.SetSslConfiguration(p.clientConfig())
				s.SetPeerVerifyName("wrong.example")
				s.SetPauseMode(PauseOnSslErrors)
				var enc atomic.Bool
				s.OnEncrypted(func() { enc.Store(true) })
				got := make(chan struct{}, 1)
				s.OnSslErrors(func([]Error) {
					switch how {
					case "abort-in-handler":
						s.IgnoreSslErrors()
						s.Abort()
					case "close-in-handler":
						s.IgnoreSslErrors()
						s.Close()
					}
					got <- struct{}{}
				})
				s.ConnectToHostEncrypted("127.0.0.1", port)
				select {
				case <-got:
				case <-time.After(5 * time.Second):
					t.Fatal("no sslErrors")
				}
				switch how {
				case "abort-elsewhere":
					s.IgnoreSslErrors()
					s.Abort()
				case "close-elsewhere":
					s.IgnoreSslErrors()
					s.Close()
				case "resume-then-abort":
					s.IgnoreSslErrors()
					go s.Resume()
					s.Abort()
				}
				deadline := time.Now().Add(3 * time.Second)
				for s.State() != UnconnectedState && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				if st := s.State(); st != UnconnectedState {
					t.Errorf("state %v", st)
				}
				if s.WaitForEncrypted(200*time.Millisecond) && how != "resume-then-abort" {
					t.Errorf("encrypted after %s", how)
				}
				if enc.Load() && how != "resume-then-abort" {
					t.Errorf("encrypted emitted after %s", how)
				}
				s.Close()
			})
		}
	})
}

// TestNestedWaitFromTicketHandler: Qt's nested WaitForReadyRead from a
// handler of another event than readyRead (newSessionTicketReceived, raised
// inside crypto/tls's Read and delivered on the socket's worker): data
// arriving during the wait ends it.
func TestNestedWaitFromTicketHandler(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		srv := newTestServer(t, p.serverConfig(p.server))
		acceptAll(srv, func(s *Socket) {
			time.Sleep(300 * time.Millisecond)
			s.Write([]byte("hello"))
			_, _ = io.Copy(io.Discard, s) // until the client goes
		})
		cfg := p.clientConfig()
		cfg.SetSslOption(SslOptionDisableSessionPersistence, false)
		s := NewSocket()
		defer s.Abort()
		s.SetSslConfiguration(cfg)
		s.OnReadyRead(func() {})
		res := make(chan string, 1)
		var once atomic.Bool
		s.OnNewSessionTicketReceived(func() {
			if !once.CompareAndSwap(false, true) {
				return
			}
			start := time.Now()
			ok := s.WaitForReadyRead(2 * time.Second)
			res <- time.Since(start).Round(100*time.Millisecond).String() + " ok=" + map[bool]string{true: "true", false: "false"}[ok] + " data=" + string(s.ReadAll())
		})
		s.ConnectToHostEncrypted("localhost", serverPort(srv))
		if !s.WaitForEncrypted(5 * time.Second) {
			t.Fatal(s.ErrorString())
		}
		select {
		case r := <-res:
			t.Log(r)
			if !strings.HasSuffix(r, "ok=true data=hello") {
				t.Errorf("nested wait in a loop-run handler: %s", r)
			}
		case <-time.After(6 * time.Second):
			t.Fatal("no ticket handler / nested wait hung")
		}
	})
}

// TestCloseAfterPeerCloseNotify: after the peer's close_notify (TCP open), DisconnectFromHost/Close
// send our close_notify and the socket ends (the watcher exits).
func TestCloseAfterPeerCloseNotify(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		for _, subscribed := range []bool{false, true} {
			for _, how := range []string{"DisconnectFromHost", "Close", "Abort"} {
				t.Run(fmt.Sprintf("%v/%s", subscribed, how), func(t *testing.T) {
					srv := newTestServer(t, p.serverConfig(p.server))
					accepted := make(chan *Socket, 1)
					go func() {
						s, _ := srv.AcceptSocket(t.Context())
						accepted <- s
					}()
					raw, err := net.Dial("tcp", srv.Addr().String())
					if err != nil {
						t.Fatal(err)
					}
					cnt := &countConn{Conn: raw}
					c := tls.Client(cnt, rawClientConfig(p))
					if err := c.Handshake(); err != nil {
						t.Fatal(err)
					}
					s := <-accepted
					if s == nil {
						t.Fatal("no conn")
					}
					var disc atomic.Int32
					if subscribed {
						s.OnReadyRead(func() {})
						s.OnDisconnected(func() { disc.Add(1) })
					}
					c.Write([]byte("req"))
					c.CloseWrite()
					if b, err := io.ReadAll(s); string(b) != "req" || err != nil {
						t.Fatalf("read %q %v", b, err)
					}
					time.Sleep(20 * time.Millisecond)
					s.Write([]byte("reply"))
					buf := make([]byte, 5)
					c.SetReadDeadline(time.Now().Add(3 * time.Second))
					if _, err := io.ReadFull(c, buf); err != nil {
						t.Fatal(err)
					}
					before := cnt.n.Load()
					done := make(chan struct{})
					go func() {
						switch how {
						case "DisconnectFromHost":
							s.DisconnectFromHost()
						case "Close":
							s.Close()
						default:
							s.Abort()
						}
						close(done)
					}()
					select {
					case <-done:
					case <-time.After(3 * time.Second):
						t.Fatalf("%s blocked", how)
					}
					_, err = c.Read(buf)
					after := cnt.n.Load()
					if how != "Abort" && after == before {
						t.Errorf("%s after the peer's close_notify sent nothing (no close_notify); read err %v", how, err)
					}
					if st := s.State(); st != UnconnectedState {
						t.Errorf("state %v", st)
					}
					if subscribed && disc.Load() != 1 {
						time.Sleep(100 * time.Millisecond)
						if disc.Load() != 1 {
							t.Errorf("disconnected emitted %d times", disc.Load())
						}
					}
					c.Close()
					s.Close()
					srv.Close()
				})
			}
		}
	})
}

type countConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestCloseRacesReconnect: Close racing a ConnectToHost on the same
// socket (Close waits for the worker it stopped; the reconnect keeps it).
func TestCloseRacesReconnect(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	srv := newTestServer(t, p.serverConfig(p.server))
	acceptAll(srv, func(s *Socket) { io.Copy(io.Discard, s) })
	port := serverPort(srv)
	for i := 0; i < 300; i++ {
		s := NewSocket()
		s.SetSslConfiguration(p.clientConfig())
		s.OnBytesWritten(func(int64) {})
		s.ConnectToHostEncrypted("localhost", port)
		if !s.WaitForEncrypted(5 * time.Second) {
			t.Fatal(s.ErrorString())
		}
		s.Write([]byte("x")) // starts the worker
		s.WaitForBytesWritten(time.Second)
		closed := make(chan struct{})
		go func() { s.Close(); close(closed) }()
		go func() {
			for s.State() != UnconnectedState {
				runtime.Gosched()
			}
			s.ConnectToHostEncrypted("localhost", port)
		}()
		select {
		case <-closed:
		case <-time.After(10 * time.Second): // a hang, not a slow machine
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("iteration %d: Close hung (racing a reconnect)\n%s", i, buf)
		}
		s.WaitForEncrypted(time.Second)
		s.Abort()
	}
}

// TestServerForwardsFailureAfterAlert: a client that refuses the server's
// certificate sends an alert; the server's alertReceived goes to the
// socket's worker, and the handshake failure's errorOccurred queues behind
// it — it must still reach the Server's subscribers (sslsock serve --once
// waits for it).
func TestServerForwardsFailureAfterAlert(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		srv := newTestServer(t, p.serverConfig(p.server))
		failed := make(chan SocketError, 4)
		srv.OnAlertReceived(func(*Socket, AlertLevel, AlertType, string) {})
		srv.OnErrorOccurred(func(_ *Socket, k SocketError) { failed <- k })
		for i := 0; i < 10; i++ {
			_, err := tls.Dial("tcp", srv.Addr().String(), &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "localhost"})
			if err == nil {
				t.Fatal("a client without the CA got through")
			}
			select {
			case <-failed:
			case <-time.After(5 * time.Second):
				t.Fatalf("attempt %d: the failure was not forwarded", i)
			}
		}
	})
}

// TestAbortRacesReconnect: Abort on an unconnected socket racing a
// ConnectToHostEncrypted from another goroutine returns at once — it waits
// for the goroutines of the connection it ended, never for those of the
// reconnection, whose read loop lives as long as the server keeps the
// connection (a WaitGroup counted both, and its Wait raced the Add).
func TestAbortRacesReconnect(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	srv := newTestServer(t, p.serverConfig(p.server))
	acceptAll(srv, func(s *Socket) { io.Copy(io.Discard, s) }) // keeps every connection open
	port := serverPort(srv)
	s := NewSocket()
	s.SetSslConfiguration(p.clientConfig())
	s.OnReadyRead(func() { s.ReadAll() }) // a read loop per connection
	defer s.Abort()
	for i := 0; i < 100; i++ {
		s.ConnectToHostEncrypted("localhost", port)
		if !s.WaitForEncrypted(10 * time.Second) {
			t.Fatal(s.ErrorString())
		}
		s.Abort()
		reconnected := make(chan struct{})
		go func() { s.ConnectToHostEncrypted("localhost", port); close(reconnected) }()
		aborted := make(chan struct{})
		go func() { s.Abort(); close(aborted) }()
		select {
		case <-aborted:
		case <-time.After(20 * time.Second): // a hang, not a slow machine
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("iteration %d: Abort waited for the reconnection\n%s", i, buf)
		}
		<-reconnected
		s.WaitForEncrypted(10 * time.Second) // the reconnection, if Abort came first
		s.Abort()
	}
}
