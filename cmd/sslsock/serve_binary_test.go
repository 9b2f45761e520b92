package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveBinary is the built binary's serve running in the background.
type serveBinary struct {
	addr   string
	pki    string
	mu     sync.Mutex
	events []map[string]any
	stderr strings.Builder
}

// startServeBinary runs `sslsock serve --json --listen ADDR --pki-dir DIR
// ARGS...` until the test ends, and returns once it listens.
func startServeBinary(t *testing.T, args ...string) *serveBinary {
	t.Helper()
	sb := &serveBinary{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), pki: t.TempDir()}
	cmd := exec.Command(sslsockBinary(t), append([]string{"serve", "--json", "--listen", sb.addr, "--pki-dir", sb.pki}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &lockedWriter{mu: &sb.mu, w: &sb.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue
			}
			sb.mu.Lock()
			sb.events = append(sb.events, ev)
			sb.mu.Unlock()
			if ev["event"] == "listening" {
				once.Do(func() { close(listening) })
			}
		}
		io.Copy(io.Discard, out)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		cmd.Wait()
	})
	select {
	case <-listening:
	case <-done:
		t.Fatalf("serve %v ended before listening: %s", args, sb.errText())
	case <-time.After(60 * time.Second):
		t.Fatalf("serve %v did not start", args)
	}
	return sb
}

func (sb *serveBinary) errText() string {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.stderr.String()
}

// has reports whether an event of that name has been logged, waiting for
// it (serve logs on its own schedule) up to a generous bound.
func (sb *serveBinary) has(name string) bool {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		sb.mu.Lock()
		for _, ev := range sb.events {
			if ev["event"] == name {
				sb.mu.Unlock()
				return true
			}
		}
		sb.mu.Unlock()
	}
	return false
}

// lockedWriter serialises writes to w with mu.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestServeClosesPlainHTTPAtOnce: a client that speaks plain HTTP gets the
// 400 answer and then the end of the connection right away (as
// QSslServer closes at once), not when the handshake timeout expires: with
// a one-minute handshake timeout, EOF arrives while the client still
// waits within its 30-second bound. Whole requests in one segment and a
// request line split across segments.
func TestServeClosesPlainHTTPAtOnce(t *testing.T) {
	sb := startServeBinary(t, "--handshake-timeout", "60s")
	for _, parts := range [][]string{
		{"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n"},
		{"GET /a HT", "TP/1.1\r\nHost: localhost\r\n\r\n"},
		{"POST /form HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\n", "hello"},
	} {
		c, err := net.Dial("tcp", sb.addr)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			if _, err := io.WriteString(c, p); err != nil {
				t.Fatal(err)
			}
		}
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, err := io.ReadAll(c) // nil error: EOF, the server closed
		c.Close()
		if err != nil || !strings.HasPrefix(string(resp), "HTTP/1.0 400 Bad Request\r\n") || !strings.Contains(string(resp), "use https://") {
			t.Errorf("%q: %v, got %q", parts, err, resp)
		}
	}
	if !sb.has("plainHTTP") {
		t.Errorf("no plainHTTP event")
	}
}
