package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// cliPKI writes a root and a localhost leaf to dir.
func cliPKI(t *testing.T) (dir string, root *pki.Cert) {
	t.Helper()
	dir = t.TempDir()
	root = pki.MustSelfSigned(pki.Spec{CommonName: "CLI Root", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	os.WriteFile(filepath.Join(dir, "root.pem"), root.CertPEM(), 0o644)
	leaf.WriteFiles(dir, "leaf")
	return dir, root
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// sServer starts `openssl s_server` and returns its port.
func sServer(t *testing.T, dir string, args ...string) int {
	t.Helper()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is required (Debian package openssl)")
	}
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, openssl, append([]string{"s_server", "-accept", fmt.Sprint(port)}, args...)...)
	cmd.Dir = dir
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cancel(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "ACCEPT") {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return port
}

func connectJSON(t *testing.T, args ...string) (int, map[string]any) {
	t.Helper()
	var out, errb bytes.Buffer
	status := runWith(context.Background(), append([]string{"connect", "--json"}, args...), strings.NewReader(""), &out, &errb)
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("not one JSON object (%v): %q %q", err, out.String(), errb.String())
	}
	return status, rep
}

func TestConnectJSONAgainstOpenSSL(t *testing.T) {
	dir, _ := cliPKI(t)
	port := sServer(t, dir, "-cert", "leaf.pem", "-key", "leaf.key", "-rev", "-alpn", "h2")
	addr := fmt.Sprintf("localhost:%d", port)
	status, rep := connectJSON(t, "--no-system-ca", "--ca", filepath.Join(dir, "root.pem"), "--alpn", "h2", "--send", `hello\n`, addr)
	if status != 0 || rep["encrypted"] != true || rep["protocol"] != "TlsV1_3" || rep["received"] != "olleh\n" {
		t.Errorf("status %d report %v", status, rep)
	}
	for _, field := range []string{"encrypted", "backend", "protocol", "cipher", "alpn", "resumed", "peerChain", "sslErrors",
		"peerVerifyErrors", "alertsSent", "alertsReceived", "ocsp", "socketError", "errorString", "received"} {
		if _, ok := rep[field]; !ok {
			t.Errorf("field %q missing", field)
		}
	}
	if alpn := rep["alpn"].(map[string]any); alpn["protocol"] != "h2" || alpn["status"] != "NextProtocolNegotiationNegotiated" {
		t.Errorf("alpn %v", alpn)
	}
	// Without the CA: errors listed, not encrypted, exit 1.
	status, rep = connectJSON(t, "--no-system-ca", addr)
	errs := rep["sslErrors"].([]any)
	if status != 1 || rep["encrypted"] != false || len(errs) == 0 || rep["socketError"] != "SslHandshakeFailedError" {
		t.Errorf("untrusted: status %d report %v", status, rep)
	}
	// Ignore exactly the reported (error, certificate) pairs: encrypted.
	var ignores, partial []string
	for i, e := range errs {
		m := e.(map[string]any)
		ignores = append(ignores, "--ignore", m["code"].(string)+"@"+m["certificate"].(string))
		if i == 0 {
			partial = append(partial, ignores...)
		}
	}
	status, rep = connectJSON(t, append(append([]string{"--no-system-ca"}, ignores...), addr)...)
	if status != 0 || rep["encrypted"] != true {
		t.Errorf("%v: status %d %v", ignores, status, rep["errorString"])
	}
	// Ignoring only some of them, or the right code for another certificate, does not help.
	if len(errs) > 1 {
		if status, _ = connectJSON(t, append(append([]string{"--no-system-ca"}, partial...), addr)...); status != 1 {
			t.Errorf("partial ignore list: status %d", status)
		}
	}
	code := errs[0].(map[string]any)["code"].(string)
	status, _ = connectJSON(t, "--no-system-ca", "--ignore", code+"@"+strings.Repeat("0", 64), addr)
	if status != 1 {
		t.Errorf("--ignore with a wrong digest: status %d", status)
	}
	// Session out, then in: resumed.
	sess := filepath.Join(t.TempDir(), "session")
	if status, _ := connectJSON(t, "--no-system-ca", "--ca", filepath.Join(dir, "root.pem"), "--session-out", sess, addr); status != 0 {
		t.Fatal("session-out connection failed")
	}
	status, rep = connectJSON(t, "--no-system-ca", "--ca", filepath.Join(dir, "root.pem"), "--session-in", sess, addr)
	if status != 0 || rep["resumed"] != true {
		t.Errorf("session-in: status %d resumed %v", status, rep["resumed"])
	}
}

func TestConnectStartTLS(t *testing.T) {
	dir, _ := cliPKI(t)
	chain, err := ssl.CertificatesFromFile(filepath.Join(dir, "leaf.pem"), ssl.Pem)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := os.ReadFile(filepath.Join(dir, "leaf.key"))
	key, err := ssl.ParseKey(keyPEM, ssl.Opaque, ssl.Pem, ssl.PrivateKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	served := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			served <- err
			return
		}
		s := ssl.NewSocketFromConn(c)
		defer s.Close()
		var cfg ssl.Configuration
		cfg.SetLocalCertificateChain(chain)
		cfg.SetPrivateKey(key)
		s.SetSslConfiguration(cfg)
		r := bufio.NewReader(oneByte{s})
		fmt.Fprint(s, "220 test ESMTP\r\n")
		r.ReadString('\n') // EHLO
		fmt.Fprint(s, "250-test\r\n250 STARTTLS\r\n")
		if line, _ := r.ReadString('\n'); strings.TrimSpace(line) != "STARTTLS" {
			served <- fmt.Errorf("got %q, want STARTTLS", line)
			return
		}
		fmt.Fprint(s, "220 go ahead\r\n")
		if err := s.StartServerEncryption(); err != nil {
			served <- err
			return
		}
		if !s.WaitForEncrypted(10 * time.Second) {
			served <- fmt.Errorf("server: %s", s.ErrorString())
			return
		}
		line, err := bufio.NewReader(s).ReadString('\n')
		if err == nil {
			s.Write([]byte("250 " + line))
		}
		served <- err
	}()
	status, rep := connectJSON(t, "--no-system-ca", "--ca", filepath.Join(dir, "root.pem"), "--peer-name", "localhost",
		"--starttls", "smtp", "--send", `NOOP\n`, l.Addr().String())
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if status != 0 || rep["received"] != "250 NOOP\n" {
		t.Errorf("status %d received %q (%v)", status, rep["received"], rep["errorString"])
	}
}

func TestServeAgainstOpenSSLClient(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is required")
	}
	pkiDir := t.TempDir()
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- runWith(ctx, []string{"serve", "--json", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--mode", "www",
			"--pki-dir", pkiDir, "--once"}, strings.NewReader(""), &syncWriter{w: &out}, &errb)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The first connection above was dropped (no TLS); --once counts encrypted ones.
	cctx, ccancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer ccancel()
	cmd := exec.CommandContext(cctx, openssl, "s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port), "-CAfile",
		filepath.Join(pkiDir, "ca.pem"), "-verify_return_error", "-servername", "localhost", "-ign_eof", "-quiet")
	cmd.Stdin = strings.NewReader("GET / HTTP/1.0\r\n\r\n")
	got, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(got), "Protocol: TlsV1_3") {
		t.Errorf("s_client: %v\n%s", err, got)
	}
	select {
	case status := <-done:
		if status != 0 {
			t.Errorf("serve exit %d: %s", status, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve --once did not exit")
	}
	var events []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not JSON lines: %q", line)
		}
		events = append(events, ev["event"].(string))
	}
	if strings.Join(events, " ") != "identity listening accepted encrypted closed stopped" {
		t.Errorf("events %v", events)
	}
}

// syncWriter serialises writes from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestCLIUsageErrors(t *testing.T) {
	dir, _ := cliPKI(t)
	os.WriteFile(filepath.Join(dir, "enc.key"), []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n"), 0o600)
	for _, tc := range []struct {
		args   []string
		status int
	}{
		{[]string{"connect"}, 2},
		{[]string{"connect", "nohostport"}, 2},
		{[]string{"connect", "--protocol", "TlsV9", "x:1"}, 2},
		{[]string{"connect", "--ciphers", "BOGUS", "x:1"}, 2},
		{[]string{"connect", "--ignore", "NotACode", "x:1"}, 2},
		{[]string{"connect", "--cert", "a.pem", "x:1"}, 2},
		{[]string{"connect", "--backend", "nope", "x:1"}, 2},
		{[]string{"connect", "--ca", filepath.Join(dir, "missing.pem"), "x:1"}, 2},
		{[]string{"connect", "--cert", filepath.Join(dir, "leaf.pem"), "--key", filepath.Join(dir, "enc.key"), "x:1"}, 2},
		{[]string{"connect", "--timeout", "2s", unresolvable + ":443"}, 1},
		{[]string{"serve", "--mode", "nonsense"}, 2},
		{[]string{"serve", "--listen", "256.0.0.1:1"}, 1},
		{[]string{"backends", "--json"}, 0},
	} {
		var out, errb bytes.Buffer
		status := runWith(context.Background(), tc.args, strings.NewReader(""), &out, &errb)
		if status != tc.status {
			t.Errorf("%v: status %d, want %d (%s)", tc.args, status, tc.status, errb.String())
		}
		if tc.status != 0 && strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
			t.Errorf("%v: want one line on stderr, got %q", tc.args, errb.String())
		}
	}
}
