package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// sslsockBinary builds the command once per test run.
func sslsockBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "sslsock-bin-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "sslsock")
		out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput()
		if err != nil {
			built.err = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.path
}

// binResult is one run of the built binary.
type binResult struct {
	code           int
	stdout, stderr string
}

// runBinary runs the built binary with stdin (nil: /dev/null) and extra
// environment, bounded by a generous timeout.
func runBinary(t *testing.T, stdin io.Reader, env []string, args ...string) binResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sslsockBinary(t), args...)
	if stdin == nil {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		stdin = f
	}
	cmd.Stdin = stdin
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%v: did not finish:\n%s\n%s", args, out.String(), errb.String())
	}
	return binResult{code, out.String(), errb.String()}
}

// runIn runs a command line in process with stdin.
func runIn(stdin string, args ...string) binResult {
	var out, errb bytes.Buffer
	code := runWith(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return binResult{code, out.String(), errb.String()}
}

// tlsServer serves TLS on loopback with dir's localhost leaf and handle,
// until the test ends. It returns the port and the number of connections
// accepted.
func tlsServer(t *testing.T, dir string, cfg *tls.Config, handle func(*tls.Conn)) (string, *atomic.Int32) {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "leaf.key"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg.Certificates = []tls.Certificate{cert}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				tc := tls.Server(c, cfg)
				defer tc.Close()
				_ = tc.SetDeadline(time.Now().Add(30 * time.Second))
				handle(tc)
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, &n
}

// countingListener accepts TCP connections and counts them, answering nothing.
func countingListener(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	var conns []net.Conn
	var mu sync.Mutex
	done := make(chan struct{})
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return l.Addr().String(), &n
}

// unresolvable is a host name the resolver refuses without asking a DNS
// server (a label longer than 63 bytes): tests stay on this machine.
var unresolvable = strings.Repeat("x", 64) + ".invalid"
