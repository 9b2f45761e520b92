package ssl

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

func newTestServer(t *testing.T, cfg Configuration) *Server {
	t.Helper()
	srv, err := Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func serverPort(srv *Server) uint16 { return uint16(srv.Addr().(*net.TCPAddr).Port) }

func TestServerAcceptsEncrypted(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		srv := newTestServer(t, p.serverConfig(p.server))
		var started atomic.Int32
		srv.OnStartedEncryptionHandshake(func(*Socket) { started.Add(1) })
		go func() {
			for {
				c, err := srv.Accept()
				if err != nil {
					return
				}
				go func() { defer c.Close(); io.Copy(c, c) }()
			}
		}()
		var _ net.Listener = srv
		cfg := p.clientConfig()
		s, err := Dial(context.Background(), fmt.Sprintf("localhost:%d", serverPort(srv)), cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.Write([]byte("hi"))
		buf := make([]byte, 2)
		if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "hi" {
			t.Errorf("echo %q %v", buf, err)
		}
		s.Close()
		if started.Load() != 1 {
			t.Errorf("startedEncryptionHandshake fired %d times", started.Load())
		}
		srv.Close()
		if _, err := srv.Accept(); err == nil {
			t.Error("Accept after Close")
		}
	})
}

func TestServerForwardsEventsAndDropsNonTLS(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		cfg := p.serverConfig(p.server)
		cfg.SetPeerVerifyMode(QueryPeer)
		srv := newTestServer(t, cfg)
		var mu sync.Mutex
		var sslErrs []ErrorCode
		var errKinds []SocketError
		srv.OnSslErrors(func(_ *Socket, errs []Error) {
			mu.Lock()
			for _, e := range errs {
				sslErrs = append(sslErrs, e.Code)
			}
			mu.Unlock()
		})
		srv.OnErrorOccurred(func(_ *Socket, k SocketError) { mu.Lock(); errKinds = append(errKinds, k); mu.Unlock() })
		accepted := make(chan *Socket, 4)
		go func() {
			for {
				s, err := srv.AcceptSocket(context.Background())
				if err != nil {
					return
				}
				accepted <- s
			}
		}()
		// A plain-text client is dropped without an error event.
		raw, err := net.Dial("tcp", srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		raw.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
		raw.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := raw.Read(make([]byte, 10)); n != 0 || err == nil {
			t.Errorf("plain client: %d %v", n, err)
		}
		raw.Close()
		// A client with an untrusted certificate: sslErrors forwarded, still accepted (QueryPeer).
		stranger := pki.MustSelfSigned(pki.Spec{CommonName: "stranger"})
		ccfg := p.clientConfig()
		ccfg.SetLocalCertificate(certOf(stranger))
		ccfg.SetPrivateKey(NewKey(stranger.Key))
		c, err := Dial(context.Background(), fmt.Sprintf("localhost:%d", serverPort(srv)), ccfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		select {
		case s := <-accepted:
			defer s.Close()
			if len(s.SslHandshakeErrors()) != 1 {
				t.Errorf("accepted socket's errors: %v", s.SslHandshakeErrors())
			}
		case <-time.After(5 * time.Second):
			t.Fatal("not accepted")
		}
		mu.Lock()
		defer mu.Unlock()
		if len(sslErrs) != 1 || sslErrs[0] != SelfSignedCertificate || len(errKinds) != 0 {
			t.Errorf("forwarded sslErrors %v errorOccurred %v", sslErrs, errKinds)
		}
	})
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting descriptors needs /proc/self/fd (Linux): %v", err)
	}
	return len(entries)
}

// TestServerSlowAndGarbageClients: 100 clients sending their ClientHello
// one byte per second and 200 clients sending random bytes; the slow ones
// are cut at the handshake timeout, the garbage ones dropped, while normal
// clients are served throughout. Afterwards no goroutine or descriptor is left.
func TestServerSlowAndGarbageClients(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		fdsBefore := openFDs(t)
		srv := newTestServer(t, p.serverConfig(p.server))
		srv.SetHandshakeTimeout(1500 * time.Millisecond)
		srv.SetMaxPendingConnections(512)
		var timeouts atomic.Int32
		srv.OnErrorOccurred(func(_ *Socket, k SocketError) {
			if k == SocketTimeoutError {
				timeouts.Add(1)
			}
		})
		go func() {
			for {
				c, err := srv.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		hello := clientHello(t)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", srv.Addr().String())
				if err != nil {
					return
				}
				defer c.Close()
				for i := 0; i < len(hello); i++ {
					if _, err := c.Write(hello[i : i+1]); err != nil {
						return // cut: counted by the server's timeout events
					}
					select {
					case <-stop:
						return
					case <-time.After(time.Second):
					}
				}
			}()
		}
		for range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", srv.Addr().String())
				if err != nil {
					return
				}
				defer c.Close()
				junk := make([]byte, 512)
				rand.Read(junk)
				if junk[0] == 0x16 {
					junk[0] = 0x17 // not a handshake record: dropped at once, never timed out
				}
				c.Write(junk)
				io.Copy(io.Discard, c)
			}()
		}
		// While all that goes on, normal clients connect; they must be served
		// before the slow clients' timeout has even expired.
		cfg := p.clientConfig()
		for range 5 {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, err := Dial(ctx, fmt.Sprintf("localhost:%d", serverPort(srv)), cfg)
			cancel()
			if err != nil {
				t.Fatalf("normal client: %v", err)
			}
			c.Close()
		}
		if n := timeouts.Load(); n != 0 {
			t.Errorf("%d slow clients already timed out before the normal clients were done: the normal ones were not prompt", n)
		}
		deadline := time.Now().Add(20 * time.Second)
		for timeouts.Load() < 100 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		close(stop)
		wg.Wait()
		if n := timeouts.Load(); n != 100 {
			t.Errorf("%d of 100 slow clients were cut at the handshake timeout", n)
		}
		srv.Close()
		time.Sleep(100 * time.Millisecond)
		if after := openFDs(t); after > fdsBefore+2 {
			t.Errorf("file descriptors: %d before, %d after", fdsBefore, after)
		}
	})
}

func TestServerManyConcurrentHandshakes(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		srv := newTestServer(t, p.serverConfig(p.server))
		srv.SetMaxPendingConnections(1024)
		srv.SetHandshakeTimeout(60 * time.Second)
		go func() {
			for {
				c, err := srv.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		const n = 1000
		cfg := p.clientConfig()
		var wg sync.WaitGroup
		var failed atomic.Int32
		addr := fmt.Sprintf("127.0.0.1:%d", serverPort(srv))
		cfg.SetPeerVerifyMode(VerifyPeer)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				s := NewSocket()
				s.SetSslConfiguration(cfg)
				s.SetPeerVerifyName("localhost")
				host, port, _ := net.SplitHostPort(addr)
				var pn int
				fmt.Sscan(port, &pn)
				s.ConnectToHostEncrypted(host, uint16(pn))
				if err := s.WaitForEncryptedContext(ctx); err != nil {
					if failed.Add(1) <= 5 {
						t.Logf("handshake failed: %v (%v: %s)", err, s.SocketError(), s.ErrorString())
					}
				}
				s.Close()
			}()
		}
		wg.Wait()
		if f := failed.Load(); f != 0 {
			t.Errorf("%d of %d concurrent handshakes failed", f, n)
		}
	})
}
