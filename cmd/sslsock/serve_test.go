package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/ssl"
)

// serveProcess runs serve in process until the test ends or it exits.
type serveProcess struct {
	out    *syncWriter
	done   chan int
	cancel context.CancelFunc
	addr   string
	pki    string
}

func startServe(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	sp := &serveProcess{out: &syncWriter{w: &bytes.Buffer{}}, done: make(chan int, 1), cancel: cancel,
		addr: fmt.Sprintf("127.0.0.1:%d", port), pki: t.TempDir()}
	args = append([]string{"serve", "--json", "--listen", sp.addr, "--pki-dir", sp.pki}, args...)
	go func() { sp.done <- runWith(ctx, args, strings.NewReader(""), sp.out, &bytes.Buffer{}) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-sp.done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(sp.output(), `"event":"listening"`); {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", sp.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return sp
}

func (sp *serveProcess) output() string {
	sp.out.mu.Lock()
	defer sp.out.mu.Unlock()
	return sp.out.w.String()
}

// events lists the event names logged so far.
func (sp *serveProcess) events(t *testing.T) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(sp.output()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		evs = append(evs, ev)
	}
	return evs
}

// exited waits for serve to end on its own.
func (sp *serveProcess) exited(t *testing.T) int {
	t.Helper()
	select {
	case code := <-sp.done:
		sp.done <- code // for Cleanup
		return code
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not exit:\n%s", sp.output())
		return -1
	}
}

func (sp *serveProcess) roots(t *testing.T) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(readAll(t, filepath.Join(sp.pki, "ca.pem"))) {
		t.Fatal("no CA written")
	}
	return pool
}

// TestServeClientCertificatesOnlyWhenAsked: by default serve does not ask
// for a client certificate; --verify query asks.
func TestServeClientCertificatesOnlyWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		asked bool
	}{{nil, false}, {[]string{"--verify", "query"}, true}} {
		sp := startServe(t, tc.args...)
		var asked atomic.Bool
		c, err := tls.Dial("tcp", sp.addr, &tls.Config{RootCAs: sp.roots(t), ServerName: "localhost",
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				asked.Store(true)
				return &tls.Certificate{}, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "echo\n")
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != "echo\n" {
			t.Errorf("%v: echo %q %v", tc.args, line, err)
		}
		c.Close()
		if asked.Load() != tc.asked {
			t.Errorf("%v: client certificate requested %v, want %v", tc.args, asked.Load(), tc.asked)
		}
	}
}

// TestServeOnceEndsAfterAFailedHandshake, and after a plain-HTTP client,
// which is told to use https and logged.
func TestServeOnceEndsAfterAFailedHandshake(t *testing.T) {
	sp := startServe(t, "--once")
	_, err := tls.Dial("tcp", sp.addr, &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "localhost"})
	if err == nil {
		t.Fatal("a client without the CA got through")
	}
	if code := sp.exited(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	var names []string
	for _, ev := range sp.events(t) {
		names = append(names, ev["event"].(string))
	}
	if got := strings.Join(names, " "); !strings.Contains(got, "error") || !strings.HasSuffix(got, "stopped") {
		t.Errorf("events: %s", got)
	}

	sp = startServe(t, "--once", "--mode", "www")
	c, err := net.Dial("tcp", sp.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n")
	resp, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(resp), "HTTP/1.0 400 Bad Request") || !strings.Contains(string(resp), "use https://") {
		t.Errorf("plain HTTP client got %q", resp)
	}
	if code := sp.exited(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	found := false
	for _, ev := range sp.events(t) {
		if ev["event"] == "plainHTTP" && ev["request"] == "GET /index.html HTTP/1.1" {
			found = true
		}
	}
	if !found {
		t.Errorf("no plainHTTP event:\n%s", sp.output())
	}
}

// TestServeWWWHTTP2: --mode www offers h2 and serves it properly; HTTP/1.1
// clients are served too.
func TestServeWWWHTTP2(t *testing.T) {
	sp := startServe(t, "--mode", "www")
	var cfg ssl.Configuration
	if err := cfg.SetCaCertificatesFile(filepath.Join(sp.pki, "ca.pem")); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(sp.addr)
	url := "https://localhost:" + port + "/"
	tr := ssl.NewHTTPTransport(cfg)
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" || !strings.Contains(string(body), "ALPN: h2\n") || !strings.Contains(string(body), "HTTP: HTTP/2.0") {
		t.Errorf("h2 client: %s\n%s", resp.Proto, body)
	}
	h1 := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: sp.roots(t), NextProtos: []string{"http/1.1"}}}
	defer h1.CloseIdleConnections()
	resp, err = (&http.Client{Transport: h1}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Proto != "HTTP/1.1" || !strings.Contains(string(body), "ALPN: http/1.1\n") {
		t.Errorf("HTTP/1.1 client: %s\n%s", resp.Proto, body)
	}
}

// TestServeRefusesGarbageStaple: a garbage --ocsp-staple fails at start.
func TestServeRefusesGarbageStaple(t *testing.T) {
	dir, _ := cliPKI(t)
	garbage := filepath.Join(dir, "staple.der")
	os.WriteFile(garbage, []byte("garbage"), 0o644)
	r := runIn("", "serve", "--cert", filepath.Join(dir, "leaf.pem"), "--key", filepath.Join(dir, "leaf.key"), "--ocsp-staple", garbage, "--listen", "127.0.0.1:0")
	if r.code != 2 || !strings.Contains(r.stderr, "not a valid OCSP response") {
		t.Errorf("exit %d %q", r.code, r.stderr)
	}
	other := filepath.Join(dir, "other.key")
	c, _ := cliPKI(t)
	os.WriteFile(other, readAll(t, filepath.Join(c, "leaf.key")), 0o600)
	r = runIn("", "serve", "--cert", filepath.Join(dir, "leaf.pem"), "--key", other, "--listen", "127.0.0.1:0")
	if r.code != 2 || !strings.Contains(r.stderr, "does not belong to the certificate") {
		t.Errorf("mismatched key: exit %d %q", r.code, r.stderr)
	}
}
