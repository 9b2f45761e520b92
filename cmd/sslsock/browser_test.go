package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestBrowserSeesTLSSession points headless Chromium at `sslsock serve
// --mode www`, trusting the throwaway identity by its SPKI hash, and checks
// the page it rendered.
func TestBrowserSeesTLSSession(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is required for the browser test (Debian package chromium; ./test.sh installs it)")
	}
	// Without --alpn, www offers h2 and serves it over HTTP/2.
	for _, tc := range []struct {
		args []string
		alpn string
		http string
	}{
		{[]string{"--alpn", "http/1.1"}, "http/1.1", "HTTP/1.1"},
		{nil, "h2", "HTTP/2.0"},
	} {
		t.Run(tc.alpn, func(t *testing.T) { browse(t, chromium, tc.args, tc.alpn, tc.http) })
	}
}

func browse(t *testing.T, chromium string, args []string, alpn, proto string) {
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncWriter{w: &bytes.Buffer{}}
	done := make(chan int, 1)
	go func() {
		done <- runWith(ctx, append([]string{"serve", "--json", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--mode", "www",
			"--pki-dir", t.TempDir()}, args...), strings.NewReader(""), out, &bytes.Buffer{})
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop on cancellation")
		}
	}()
	var spki string
	deadline := time.Now().Add(10 * time.Second)
	for spki == "" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		out.mu.Lock()
		for _, line := range strings.Split(out.w.String(), "\n") {
			var ev map[string]any
			if json.Unmarshal([]byte(line), &ev) == nil && ev["event"] == "identity" {
				spki, _ = ev["leafSpkiSha256Base64"].(string)
			}
		}
		out.mu.Unlock()
	}
	if spki == "" {
		t.Fatal("serve printed no identity")
	}
	for c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil; c, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)) {
		if time.Now().After(deadline) {
			t.Fatal("serve is not listening")
		}
		time.Sleep(50 * time.Millisecond)
		_ = c
	}
	bctx, bcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer bcancel()
	cmd := exec.CommandContext(bctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--ignore-certificate-errors-spki-list="+spki,
		"--dump-dom", fmt.Sprintf("https://localhost:%d/", port))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	page := string(dom)
	for _, want := range []string{`<td id="protocol">TlsV1_3</td>`, `<td id="alpn">` + alpn + `</td>`, `<td id="http">` + proto + `</td>`, `<td id="cipher">TLS_`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page Chromium rendered lacks %s:\n%s", want, page)
		}
	}
}
