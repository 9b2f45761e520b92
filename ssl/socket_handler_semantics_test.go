package ssl

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Qt's handler semantics (issue 16): what a handler may call, and what a
// wait right after a call returns, as measured on Qt 6.4.2.

// TestReadLoopInReadyRead is Qt's idiom "while (read(...) > 0)" in a
// readyRead handler, on an accepted Server socket and on a client: the
// handler reads everything buffered, then Read returns at once.
func TestReadLoopInReadyRead(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		srv := newTestServer(t, p.serverConfig(p.server))
		want := bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB, many records
		got := make(chan []byte, 1)
		served := make(chan struct{})
		go func() {
			defer close(served)
			s, err := srv.AcceptSocket(t.Context())
			if err != nil {
				got <- nil
				return
			}
			defer s.Close()
			var mu sync.Mutex
			var all []byte
			var sawWouldDeadlock atomic.Bool
			s.OnReadyRead(func() {
				var buf [4096]byte
				for {
					n, err := s.Read(buf[:])
					if n == 0 {
						if errors.Is(err, ErrWouldDeadlock) {
							sawWouldDeadlock.Store(true)
						}
						break
					}
					mu.Lock()
					all = append(all, buf[:n]...)
					done := len(all) == len(want)
					mu.Unlock()
					if done {
						got <- all
						return
					}
				}
			})
			// Data that arrived before the subscription is announced too.
			s.WaitForDisconnected(10 * time.Second)
			if !sawWouldDeadlock.Load() {
				t.Error("Read never reported an empty buffer with ErrWouldDeadlock")
			}
		}()
		c := NewSocket()
		c.SetSslConfiguration(p.clientConfig())
		c.ConnectToHostEncrypted("localhost", serverPort(srv))
		if !c.WaitForEncrypted(5 * time.Second) {
			t.Fatal(c.ErrorString())
		}
		c.Write(want)
		select {
		case data := <-got:
			if !bytes.Equal(data, want) {
				t.Fatalf("got %d bytes, want %d", len(data), len(want))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the readyRead handler did not get everything (a Read blocked?)")
		}
		c.DisconnectFromHost()
		if !c.WaitForDisconnected(5 * time.Second) {
			t.Error("WaitForDisconnected after DisconnectFromHost: false")
		}
		<-served
	})
}

// TestReadOutsideHandlerStillBlocks: while a handler of the socket runs,
// a Read on another goroutine still blocks for data (only handlers get
// Qt's non-blocking read).
func TestReadOutsideHandlerStillBlocks(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	c, s, err := socketPair(t, p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer s.Close()
	inHandler, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.OnBytesWritten(func(int64) {
		once.Do(func() { close(inHandler) })
		<-release
	})
	go s.Write([]byte("x")) // its goroutine runs the handler, which waits
	<-inHandler
	read := make(chan string, 1)
	go func() {
		buf := make([]byte, 5)
		n, err := io.ReadFull(s, buf)
		read <- string(buf[:n]) + "|" + errString(err)
	}()
	time.Sleep(20 * time.Millisecond)
	c.Write([]byte("hello"))
	select {
	case r := <-read:
		if r != "hello|" {
			t.Fatalf("Read on another goroutine: %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return the data")
	}
	close(release)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestSetPauseModeFromSslErrors: Qt reads pauseMode() after emitting
// sslErrors, so setting it in the handler pauses this handshake — on a
// Socket as on an Engine; Resume after ignoring completes it.
func TestSetPauseModeFromSslErrors(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		s, port := wrongNameClient(t, newTestPKI(t).with(m))
		defer s.Abort()
		paused := make(chan struct{})
		s.OnSslErrors(func([]Error) {
			s.SetPauseMode(PauseOnSslErrors)
			close(paused)
		})
		s.ConnectToHostEncrypted("localhost", port)
		select {
		case <-paused:
		case <-time.After(5 * time.Second):
			t.Fatal("no sslErrors")
		}
		time.Sleep(50 * time.Millisecond)
		if s.IsEncrypted() || s.State() != ConnectedState {
			t.Fatalf("not paused: encrypted %v, state %v (%s)", s.IsEncrypted(), s.State(), s.ErrorString())
		}
		s.IgnoreSslErrors()
		s.Resume()
		if !s.WaitForEncrypted(5 * time.Second) {
			t.Fatal(s.ErrorString())
		}
	})
}

// TestWaitForDisconnectedAfterDisconnect is tst_qsslsocket's
// disconnectFromHostWhenConnected: disconnectFromHost, then
// waitForDisconnected is true; a never-connected socket's is false.
func TestWaitForDisconnectedAfterDisconnect(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		port := startServer(t, p.serverConfig(p.server), echo)
		s := NewSocket()
		s.SetSslConfiguration(p.clientConfig())
		if s.WaitForDisconnected(100 * time.Millisecond) {
			t.Error("never connected: WaitForDisconnected true")
		}
		if got := s.SocketError(); got != UnknownSocketError {
			t.Errorf("a new socket's error: %v, want UnknownSocketError", got)
		}
		s.ConnectToHostEncrypted("localhost", port)
		if !s.WaitForEncrypted(5 * time.Second) {
			t.Fatal(s.ErrorString())
		}
		s.Write([]byte("bye"))
		s.DisconnectFromHost()
		if !s.WaitForDisconnected(5 * time.Second) {
			t.Error("WaitForDisconnected after DisconnectFromHost: false")
		}
		if s.State() != UnconnectedState {
			t.Errorf("state %v", s.State())
		}
		if s.WaitForDisconnected(100 * time.Millisecond) {
			t.Error("a second WaitForDisconnected: true")
		}
	})
}

// TestWaitForConnectedAfterHandlers: Qt emits connected (and, for an
// encrypted connection, modeChanged before it) before waitForConnected
// returns; a slow handler must have finished by then.
func TestWaitForConnectedAfterHandlers(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	port := startServer(t, p.serverConfig(p.server), echo)
	for _, encrypted := range []bool{false, true} {
		s := NewSocket()
		s.SetSslConfiguration(p.clientConfig())
		var connected, modeChanged atomic.Bool
		s.OnModeChanged(func(SslMode) {
			time.Sleep(20 * time.Millisecond)
			modeChanged.Store(true)
		})
		s.OnConnected(func() {
			time.Sleep(20 * time.Millisecond)
			connected.Store(true)
		})
		if encrypted {
			s.ConnectToHostEncrypted("localhost", port)
		} else {
			s.ConnectToHost("localhost", port)
		}
		if !s.WaitForConnected(5 * time.Second) {
			t.Fatal(s.ErrorString())
		}
		if !connected.Load() || encrypted && !modeChanged.Load() {
			t.Errorf("encrypted %v: WaitForConnected returned before the handlers ran (connected %v, modeChanged %v)",
				encrypted, connected.Load(), modeChanged.Load())
		}
		s.Abort()
	}
}

// TestDecisionHandlersRunWithoutLocks: the verification decision's
// handlers (peerVerifyError, sslErrors) run while no lock of the engine
// driving the handshake is held — a pumped socket's engine lock, an
// Engine's call lock — so that they may call anything (DESIGN §3.1).
func TestDecisionHandlersRunWithoutLocks(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		s, port := wrongNameClient(t, newTestPKI(t).with(m))
		defer s.Abort()
		var checked, locked atomic.Int32
		check := func() {
			checked.Add(1)
			if frame := lockedFrame(); frame != "" {
				t.Errorf("a decision handler ran inside %s", frame)
			}
			s.mu.Lock()
			ps, pumped := s.sess.(*pumpStream)
			s.mu.Unlock()
			if !pumped {
				return
			}
			if !ps.mu.TryLock() {
				locked.Add(1)
				return
			}
			ps.mu.Unlock()
		}
		s.OnPeerVerifyError(func(Error) { check() })
		s.OnSslErrors(func([]Error) { check(); s.IgnoreSslErrors() })
		s.ConnectToHostEncrypted("localhost", port)
		if !s.WaitForEncrypted(5 * time.Second) {
			t.Fatal(s.ErrorString())
		}
		if checked.Load() == 0 {
			t.Fatal("no decision handler ran")
		}
		if locked.Load() > 0 {
			t.Errorf("%d of %d decision handlers ran under the pump's lock", locked.Load(), checked.Load())
		}
	})
	// An Engine: the handlers run outside its call lock.
	p := newTestPKI(t)
	for _, backend := range AvailableBackends() {
		ccfg, scfg := p.clientConfig(), p.serverConfig(p.server)
		ccfg.SetBackend(backend)
		scfg.SetBackend(backend)
		c, err := NewClientEngine(ccfg, "wrong.example") // errors to decide on
		if err != nil {
			t.Fatal(err)
		}
		sv, err := NewServerEngine(scfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(); sv.Close() })
		var ran, locked int
		c.OnSslErrors(func([]Error) {
			ran++
			if frame := lockedFrame(); frame != "" {
				t.Errorf("%s: sslErrors ran inside %s", backend, frame)
			}
			if !c.callMu.TryLock() {
				locked++
			} else {
				c.callMu.Unlock()
			}
			c.IgnoreSslErrors()
		})
		if cerr, serr := handshakeEngines(t, c, sv, 0); cerr != nil || serr != nil {
			t.Fatalf("%s: %v / %v", backend, cerr, serr)
		}
		if ran != 1 || locked != 0 {
			t.Errorf("%s: sslErrors ran %d times, %d under the engine's call lock", backend, ran, locked)
		}
	}
}

// lockedFrame names a frame on the caller's stack that holds a lock of a
// TLS engine (crypto/tls's handshake, a pump's or an Engine's core call),
// or "".
func lockedFrame() string {
	buf := make([]byte, 64<<10)
	stack := string(buf[:runtime.Stack(buf, false)])
	for _, f := range []string{"crypto/tls.(*Conn).handshakeContext", "ssl.(*pumpStream).call", "ssl.(*Engine).handshakeLocked"} {
		if strings.Contains(stack, f) {
			return f
		}
	}
	return ""
}

// TestNestedWaitForReadyRead: Qt's waitForReadyRead inside a handler runs
// a nested wait that returns true once new data arrived — in a readyRead
// handler (whose goroutine is the read loop) and in another handler.
func TestNestedWaitForReadyRead(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		for _, where := range []string{"readyRead", "bytesWritten"} {
			t.Run(where, func(t *testing.T) {
				c, s, err := socketPair(t, p)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				defer s.Close()
				result := make(chan string, 1)
				waiting := make(chan struct{})
				var once atomic.Bool
				wait := func() {
					if !once.CompareAndSwap(false, true) {
						return
					}
					first := string(s.ReadAll())
					close(waiting)
					if !s.WaitForReadyRead(5 * time.Second) {
						result <- "WaitForReadyRead false: " + s.ErrorString()
						return
					}
					result <- first + string(s.ReadAll())
				}
				want := "two"
				if where == "readyRead" {
					s.OnReadyRead(wait)
					c.Write([]byte("one,"))
					want = "one,two"
				} else { // on the socket's worker, not the read loop
					s.OnBytesWritten(func(int64) { wait() })
					s.Write([]byte("x"))
				}
				select {
				case <-waiting:
				case <-time.After(5 * time.Second):
					t.Fatal("the handler did not run")
				}
				time.Sleep(20 * time.Millisecond) // the wait has begun
				c.Write([]byte("two"))
				select {
				case got := <-result:
					if got != want {
						t.Fatalf("nested wait: %q, want %q", got, want)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the nested wait did not return")
				}
			})
		}
	})
}

// TestReadAllHandOver: ReadAll gives large reads the buffer's own bytes;
// what it returned is the caller's — appending to it, or the socket
// reading on, changes nothing in it — and every byte arrives once, in
// order, while the read loop keeps filling the buffer.
func TestReadAllHandOver(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		c, s, err := socketPair(t, p)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		defer s.Close()
		const total = 4 << 20
		var mu sync.Mutex
		var got [][]byte
		var n int
		done := make(chan struct{})
		s.OnReadyRead(func() {
			b := s.ReadAll()
			_ = append(b, 0xEE) // must not reach the socket's bytes
			mu.Lock()
			got = append(got, b)
			n += len(b)
			if n == total {
				close(done)
			}
			mu.Unlock()
		})
		go func() {
			buf := make([]byte, 16<<10)
			for i := 0; i < total; i += len(buf) {
				for j := range buf {
					buf[j] = byte((i + j) * 7 >> 3)
				}
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("got %d of %d bytes", n, total)
		}
		mu.Lock()
		defer mu.Unlock()
		i := 0
		for _, b := range got {
			for _, x := range b {
				if x != byte(i*7>>3) {
					t.Fatalf("byte %d is %#x, want %#x", i, x, byte(i*7>>3))
				}
				i++
			}
		}
	})
}

// wrongNameClient returns a client socket, and the port of an echo server
// of p whose certificate does not match the name the socket verifies (so
// that its handshake has errors to decide on).
func wrongNameClient(t *testing.T, p *testPKI) (*Socket, uint16) {
	port := startServer(t, p.serverConfig(p.server), echo)
	s := NewSocket()
	s.SetSslConfiguration(p.clientConfig())
	s.SetPeerVerifyName("wrong.example")
	return s, port
}
