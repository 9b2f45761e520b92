package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConnectEndsAfterInputWhenTheServerIsQuiet: a server that keeps the
// connection open no longer holds connect forever once standard input has
// ended (from /dev/null or a pipe): against the project's serve (echo and
// www) and openssl s_server -www, connect prints what the server sent,
// closes and exits 0. runBinary fails a run that takes a minute.
func TestConnectEndsAfterInputWhenTheServerIsQuiet(t *testing.T) {
	echo := startServe(t)
	www := startServe(t, "--mode", "www")
	dir, _ := cliPKI(t)
	sport := sServer(t, dir, "-cert", "leaf.pem", "-key", "leaf.key", "-www")
	root := filepath.Join(dir, "root.pem")
	for _, tc := range []struct {
		name     string
		ca, addr string
		stdin    string // "" for /dev/null
		args     []string
		stdout   string // what stdout holds (Contains)
		stderr   string
	}{
		{"echo, /dev/null", filepath.Join(echo.pki, "ca.pem"), echo.addr, "", nil, `verdict: OK: encrypted with TLS 1.3`, "sent nothing for 2s: closing"},
		{"echo, pipe, --brief", filepath.Join(echo.pki, "ca.pem"), echo.addr, "x\n", []string{"--brief"}, "x\n", "OK: encrypted"},
		{"echo, pipe, --quiet", filepath.Join(echo.pki, "ca.pem"), echo.addr, "hello\nworld\n", []string{"--quiet"}, "hello\nworld\n", ""},
		{"www, /dev/null", filepath.Join(www.pki, "ca.pem"), www.addr, "", nil, `verdict: OK: encrypted with TLS 1.3`, ""},
		{"www, keep-alive request", filepath.Join(www.pki, "ca.pem"), www.addr, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", []string{"--quiet"}, "Protocol: TlsV1_3\n", ""},
		{"s_server -www, /dev/null", root, fmt.Sprintf("127.0.0.1:%d", sport), "", []string{"--verify-name", "localhost"}, `verdict: OK: encrypted with TLS 1.3`, ""},
		{"s_server -www, pipe", root, fmt.Sprintf("127.0.0.1:%d", sport), "GET / HTTP/1.0\r\n\r\n", []string{"--quiet", "--verify-name", "localhost"}, "HTTP/1.0 200 ok", ""},
	} {
		var stdin io.Reader
		if tc.stdin != "" {
			stdin = strings.NewReader(tc.stdin)
		}
		args := append([]string{"connect", tc.addr}, tc.args...) // flags after the argument, and before
		r := runBinary(t, stdin, nil, append(args, "--ca", tc.ca)...)
		if r.code != 0 || !strings.Contains(r.stdout, tc.stdout) || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("%s: exit %d\nstdout %q\nstderr %q", tc.name, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(tc.name, "--quiet") && r.stderr != "" {
			t.Errorf("%s: --quiet printed %q", tc.name, r.stderr)
		}
	}
}

// TestConnectEOFIdleFollowsTheData: after standard input has ended, the
// idle clock restarts with every chunk the server sends, so a response
// that takes longer than --eof-idle arrives whole; --wait-close waits for
// a server that speaks again only after a silence longer than --eof-idle.
func TestConnectEOFIdleFollowsTheData(t *testing.T) {
	dir, _ := cliPKI(t)
	const idle = 2 * time.Second
	port, _ := tlsServer(t, dir, nil, func(c *tls.Conn) {
		r := bufio.NewReader(c)
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch strings.TrimSpace(line) {
		case "slow": // chunks 50 ms apart for twice --eof-idle, then the end
			for start := time.Now(); time.Since(start) < 2*idle; time.Sleep(50 * time.Millisecond) {
				if _, err := io.WriteString(c, "."); err != nil {
					return
				}
			}
			io.WriteString(c, "END\n")
			io.Copy(io.Discard, c)
		case "late": // silent for longer than --eof-idle, then a word and the close
			time.Sleep(idle + time.Second)
			io.WriteString(c, "late\n")
		}
	})
	ca := filepath.Join(dir, "root.pem")
	r := runBinary(t, strings.NewReader("slow\n"), nil, "connect", "--quiet", "--eof-idle", idle.String(), "--ca", ca, "localhost:"+port)
	if r.code != 0 || !strings.HasSuffix(r.stdout, ".END\n") {
		t.Errorf("slow response: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runBinary(t, strings.NewReader("late\n"), nil, "connect", "--quiet", "--wait-close", "--eof-idle", idle.String(), "--ca", ca, "localhost:"+port)
	if r.code != 0 || r.stdout != "late\n" {
		t.Errorf("--wait-close: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := runIn("", "connect", "--eof-idle", "0s", "localhost:"+port); r.code != 2 {
		t.Errorf("--eof-idle 0s: exit %d %q", r.code, r.stderr)
	}
}
