package bogo

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
	_ "github.com/sslsocket/sslsocket/ssl/openssl" // both backends, where libssl.so.3 is present
)

// The smoke tests play the runner's part on loopback: they listen, take
// the shim's connections (its 8-byte id first), speak TLS to it through
// the project's own ssl.Server or Socket, send a message and check the
// echo, XOR 0xFF. The shim runs in-process through Run.

// testPKI writes a CA and a leaf for "test" (the runner's name) to dir.
type testPKI struct {
	caPath, certPath, keyPath string
	ca, leaf                  *pki.Cert
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	ca := pki.MustSelfSigned(pki.Spec{CommonName: "bogo smoke CA", IsCA: true})
	leaf := ca.MustIssue(pki.Spec{CommonName: "test", DNSNames: []string{"test"}})
	caPath, _, err := ca.WriteFiles(dir, "ca")
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath, err := leaf.WriteFiles(dir, "leaf")
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{caPath: caPath, certPath: certPath, keyPath: keyPath, ca: ca, leaf: leaf}
}

func (p *testPKI) serverConfig(t *testing.T, backend string) ssl.Configuration {
	t.Helper()
	c := ssl.DefaultConfiguration()
	c.SetBackend(backend)
	if err := c.LoadKeyPair(p.certPath, p.keyPath, nil); err != nil {
		t.Fatal(err)
	}
	c.SetPeerVerifyMode(ssl.VerifyNone)
	return c
}

// idListener is the runner's dispatcher in small: Accept reads the shim id
// before handing the connection on.
type idListener struct {
	net.Listener
	mu  sync.Mutex
	ids []uint64
}

func (l *idListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	var id [8]byte
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, id[:]); err != nil {
		c.Close()
		return nil, fmt.Errorf("reading the shim id: %w", err)
	}
	_ = c.SetReadDeadline(time.Time{})
	l.mu.Lock()
	l.ids = append(l.ids, binary.LittleEndian.Uint64(id[:]))
	l.mu.Unlock()
	return c, nil
}

// runShim runs the shim with args against the listener's port.
func runShim(l net.Listener, args ...string) chan result {
	_, port, _ := net.SplitHostPort(l.Addr().String())
	full := append([]string{"-port", port, "-shim-id", "4660"}, args...)
	if strings.Contains(l.Addr().String(), "[") {
		full = append(full, "-ipv6")
	}
	done := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		code := Run(full, &stdout, &stderr)
		done <- result{code, stdout.String(), stderr.String()}
	}()
	return done
}

type result struct {
	code           int
	stdout, stderr string
}

// exchange sends a message and checks the shim's XOR echo.
func exchange(t *testing.T, conn io.ReadWriter, msg string) {
	t.Helper()
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	xorFF(got)
	if string(got) != msg {
		t.Fatalf("echo %q, want %q", got, msg)
	}
}

func waitShim(t *testing.T, done chan result) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(60 * time.Second):
		t.Fatal("the shim did not exit")
	}
	return result{}
}

// listenLoopback listens on the family's loopback address, or skips.
func listenLoopback(t *testing.T, network string) net.Listener {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "tcp6" {
		addr = "[::1]:0"
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("no %s loopback: %v", network, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func forBackends(t *testing.T, fn func(t *testing.T, backend string)) {
	for _, b := range ssl.AvailableBackends() {
		t.Run(b, func(t *testing.T) {
			checkNoLeaks(t)
			fn(t, b)
		})
	}
}

// TestSmokeClientAgainstServer: the shim as a client, resuming once,
// against ssl.Server, over both address families.
func TestSmokeClientAgainstServer(t *testing.T) {
	p := newTestPKI(t)
	forBackends(t, func(t *testing.T, backend string) {
		for _, network := range []string{"tcp4", "tcp6"} {
			t.Run(network, func(t *testing.T) {
				idl := &idListener{Listener: listenLoopback(t, network)}
				srv := ssl.NewServer(idl, p.serverConfig(t, backend))
				defer srv.Close()
				done := runShim(idl, "-backend", backend, "-trust-cert", p.caPath, "-verify-peer",
					"-resume-count", "1", "-expect-version", strconv.Itoa(0x0304), "-min-version", strconv.Itoa(0x0303))
				for i := 0; i < 2; i++ {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					sock, err := srv.AcceptSocket(ctx)
					cancel()
					if err != nil {
						r := <-done
						t.Fatalf("connection %d: accept: %v (shim exit %d, %s)", i, err, r.code, r.stderr)
					}
					exchange(t, sock, fmt.Sprintf("hello from the runner, connection %d", i))
					exchange(t, sock, strings.Repeat("x", 40000)) // several records
					if i == 1 && backend == "go" && !sock.IsSessionResumed() {
						t.Errorf("second connection not resumed")
					}
					sock.Close()
				}
				r := waitShim(t, done)
				if r.code != ExitOK || r.stderr != "" {
					t.Fatalf("shim exit %d, stderr %q", r.code, r.stderr)
				}
				idl.mu.Lock()
				defer idl.mu.Unlock()
				if len(idl.ids) != 2 || idl.ids[0] != 4660 || idl.ids[1] != 4660 {
					t.Errorf("shim ids %v, want [4660 4660]", idl.ids)
				}
			})
		}
	})
}

// TestSmokeServer: the shim as a server, with ALPN and a client
// certificate it requires.
func TestSmokeServer(t *testing.T) {
	p := newTestPKI(t)
	forBackends(t, func(t *testing.T, backend string) {
		l := listenLoopback(t, "tcp4")
		done := runShim(l, "-backend", backend, "-server", "-cert-file", p.certPath, "-key-file", p.keyPath,
			"-trust-cert", p.caPath, "-require-any-client-certificate", "-select-alpn", "bar", "-expect-alpn", "bar",
			"-shim-writes-first")
		raw, err := (&idListener{Listener: l}).Accept()
		if err != nil {
			t.Fatal(err)
		}
		c := p.serverConfig(t, backend) // the leaf is a client certificate too
		c.SetCaCertificates([]ssl.Certificate{ssl.NewCertificate(p.ca.Cert)})
		c.SetAllowedNextProtocols([]string{"foo", "bar"})
		sock := ssl.NewSocketFromConn(raw)
		defer sock.Close()
		sock.SetSslConfiguration(c)
		sock.SetPeerVerifyName("test")
		if err := sock.StartClientEncryption(); err != nil {
			t.Fatal(err)
		}
		if !sock.WaitForEncrypted(30 * time.Second) {
			r := <-done
			t.Fatalf("handshake: %s (shim exit %d, %s)", sock.ErrorString(), r.code, r.stderr)
		}
		first := make([]byte, 5)
		if _, err := io.ReadFull(sock, first); err != nil || string(first) != "hello" {
			t.Fatalf("-shim-writes-first: %q, %v", first, err)
		}
		exchange(t, sock, "ping")
		sock.Close()
		if r := waitShim(t, done); r.code != ExitOK || r.stderr != "" {
			t.Fatalf("shim exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestSmokeFailure: a failed expectation is exit 1 with a reason, and
// the shim still exits promptly.
func TestSmokeFailure(t *testing.T) {
	p := newTestPKI(t)
	forBackends(t, func(t *testing.T, backend string) {
		idl := &idListener{Listener: listenLoopback(t, "tcp4")}
		srv := ssl.NewServer(idl, p.serverConfig(t, backend))
		defer srv.Close()
		done := runShim(idl, "-backend", backend, "-trust-cert", p.caPath, "-expect-alpn", "nope")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if sock, err := srv.AcceptSocket(ctx); err == nil {
			defer sock.Close()
		}
		r := waitShim(t, done)
		if r.code != ExitFailure || !strings.Contains(r.stderr, "ALPN") {
			t.Fatalf("shim exit %d, stderr %q; want 1 and an ALPN complaint", r.code, r.stderr)
		}
	})
}

// TestSmokeVerifyFail: -verify-fail refuses the runner's certificate.
func TestSmokeVerifyFail(t *testing.T) {
	p := newTestPKI(t)
	forBackends(t, func(t *testing.T, backend string) {
		idl := &idListener{Listener: listenLoopback(t, "tcp4")}
		srv := ssl.NewServer(idl, p.serverConfig(t, backend))
		defer srv.Close()
		done := runShim(idl, "-backend", backend, "-trust-cert", p.caPath, "-verify-peer", "-verify-fail")
		ctx, cancel := context.WithCancel(context.Background())
		accepted := make(chan *ssl.Socket, 1)
		go func() {
			sock, _ := srv.AcceptSocket(ctx) // a failed handshake is never handed out
			accepted <- sock
		}()
		r := waitShim(t, done)
		cancel()
		if sock := <-accepted; sock != nil {
			sock.Close()
			t.Errorf("the handshake succeeded")
		}
		if r.code != ExitFailure || !strings.Contains(r.stderr, "host name") {
			t.Fatalf("shim exit %d, stderr %q; want 1 and a host name mismatch", r.code, r.stderr)
		}
	})
}

// TestSmokeShimShutsDown: -shim-shuts-down ends the connection with
// close_notify right after the handshake.
func TestSmokeShimShutsDown(t *testing.T) {
	p := newTestPKI(t)
	forBackends(t, func(t *testing.T, backend string) {
		idl := &idListener{Listener: listenLoopback(t, "tcp4")}
		srv := ssl.NewServer(idl, p.serverConfig(t, backend))
		defer srv.Close()
		done := runShim(idl, "-backend", backend, "-trust-cert", p.caPath, "-shim-shuts-down", "-expect-verify-result")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sock, err := srv.AcceptSocket(ctx)
		if err != nil {
			r := <-done
			t.Fatalf("accept: %v (shim exit %d, %s)", err, r.code, r.stderr)
		}
		defer sock.Close()
		if _, err := io.ReadAll(sock); err != nil { // io.EOF (close_notify) is a clean end
			t.Errorf("reading until the shim's close_notify: %v", err)
		}
		if r := waitShim(t, done); r.code != ExitOK || r.stderr != "" {
			t.Fatalf("shim exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// checkNoLeaks fails the test if goroutines of the ssl package are still
// running after it (the shim runs thousands of times: it must leave
// nothing behind).
func checkNoLeaks(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			leaked := sslGoroutines()
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d goroutine(s) leaked:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func sslGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "sslsocket/ssl.") && !strings.Contains(g, "bogo.sslGoroutines") {
			out = append(out, g)
		}
	}
	return out
}
