package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sslsocket/sslsocket/internal/pki"
)

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	status := run(args, &out, &errb)
	return status, out.String(), errb.String()
}

func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	root := pki.MustSelfSigned(pki.Spec{CommonName: "CLI Root", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "cli.test", DNSNames: []string{"cli.test"}})
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := write("ca.pem", root.CertPEM())
	chain := write("chain.pem", leaf.CertPEM())

	status, out, _ := runCLI("verify", "--no-system-ca", "--ca", ca, "--host", "cli.test", chain)
	if status != 0 || !strings.Contains(out, "no errors") {
		t.Errorf("good chain: status %d\n%s", status, out)
	}
	status, out, _ = runCLI("verify", "--no-system-ca", "--ca", ca, "--host", "other.test", "--json", chain)
	if status != 1 {
		t.Errorf("wrong host: status %d, want 1", status)
	}
	var res struct {
		Valid  bool `json:"valid"`
		Errors []struct {
			Code        string  `json:"code"`
			Certificate *string `json:"certificate"`
			Message     string  `json:"message"`
		} `json:"errors"`
		Chain []map[string]any `json:"chain"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if res.Valid || len(res.Errors) != 1 || res.Errors[0].Code != "HostNameMismatch" || res.Errors[0].Certificate == nil || len(res.Chain) != 1 {
		t.Errorf("JSON: %+v", res)
	}
	// Without the CA: unknown issuer.
	status, out, _ = runCLI("verify", "--no-system-ca", chain)
	if status != 1 || !strings.Contains(out, "UnableToGetLocalIssuerCertificate") {
		t.Errorf("untrusted: %d\n%s", status, out)
	}

	for _, tc := range []struct {
		args   []string
		status int
	}{
		{[]string{"verify"}, 2},
		{[]string{"verify", "--purpose", "bogus", chain}, 2},
		{[]string{"verify", "--nope", chain}, 2},
		{[]string{"verify", filepath.Join(dir, "missing.pem")}, 2},
		{[]string{"verify", "--ca", filepath.Join(dir, "missing.pem"), chain}, 2},
		{[]string{"verify", write("garbage.pem", []byte("garbage"))}, 2},
		{[]string{"frobnicate"}, 2},
		{nil, 2},
		{[]string{"cert"}, 2},
		{[]string{"cert", "show", filepath.Join(dir, "missing.pem")}, 2},
	} {
		status, _, stderr := runCLI(tc.args...)
		if status != tc.status {
			t.Errorf("%v: status %d, want %d", tc.args, status, tc.status)
		}
		if tc.status == 1 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: want one line on stderr, got %q", tc.args, stderr)
		}
	}
	status, out, _ = runCLI("cert", "show", chain)
	if status != 0 || !strings.Contains(out, "Subject: CN = cli.test") {
		t.Errorf("cert show: %d\n%s", status, out)
	}
}

func TestDemo(t *testing.T) {
	status, out, stderr := runCLI("demo")
	if status != 0 {
		t.Fatalf("demo: status %d: %s", status, stderr)
	}
	for _, want := range []string{"verified: no errors", "HostNameMismatch", "CertificateExpired",
		"UnableToGetLocalIssuerCertificate", "UnableToVerifyFirstCertificate", "SelfSignedCertificate",
		"all reported errors ignored: true", "still ignored: false", "handshake: TlsV1_3",
		"STARTTLS: plain greeting, then encrypted on the same connection: true",
		"server QueryPeer: accepted true", "server VerifyPeer: accepted false", "resumed true", "MB/s"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

func TestCertNew(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	steps := [][]string{
		{"cert", "new", "--type", "ca", "--cn", "My CA", "--out", p("ca")},
		{"cert", "new", "--type", "intermediate", "--issuer-cert", p("ca.pem"), "--issuer-key", p("ca.key"), "--out", p("int")},
		{"cert", "new", "--type", "leaf", "--san", "example.test,127.0.0.1", "--issuer-cert", p("int.pem"), "--issuer-key", p("int.key"), "--out", p("leaf")},
		{"cert", "new", "--type", "client", "--key-type", "ed25519", "--issuer-cert", p("ca.pem"), "--issuer-key", p("ca.key"), "--out", p("client")},
	}
	for _, args := range steps {
		if status, out, errb := runCLI(args...); status != 0 {
			t.Fatalf("%v: %d %s %s", args, status, out, errb)
		}
	}
	chain := append(readAll(t, p("leaf.pem")), readAll(t, p("int.pem"))...)
	os.WriteFile(p("chain.pem"), chain, 0o644)
	if status, out, _ := runCLI("verify", "--no-system-ca", "--ca", p("ca.pem"), "--host", "example.test", p("chain.pem")); status != 0 {
		t.Errorf("the minted chain does not verify:\n%s", out)
	}
	if status, _, _ := runCLI("verify", "--no-system-ca", "--ca", p("ca.pem"), "--purpose", "client", p("client.pem")); status != 0 {
		t.Error("the client certificate does not verify for client auth")
	}
	if status, _, _ := runCLI("cert", "new", "--type", "nonsense", "--out", p("x")); status != 2 {
		t.Error("bad --type")
	}
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBench(t *testing.T) {
	status, out, errb := runCLI("bench", "--duration", "50ms")
	if status != 0 {
		t.Fatalf("bench: %d %s", status, errb)
	}
	for _, want := range []string{"bulk, 16 KiB writes", "64-byte writes", "ping-pong", "full handshakes", "×"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench table lacks %q:\n%s", want, out)
		}
	}
}
