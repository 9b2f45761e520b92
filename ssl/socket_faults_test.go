package ssl

import (
	"errors"
	"io"
	"os"
	"strings"
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
