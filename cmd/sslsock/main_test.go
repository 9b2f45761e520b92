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
		Chain []map[string]string `json:"chain"`
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
		{[]string{"verify", filepath.Join(dir, "missing.pem")}, 1},
		{[]string{"verify", "--ca", filepath.Join(dir, "missing.pem"), chain}, 1},
		{[]string{"verify", write("garbage.pem", []byte("garbage"))}, 1},
		{[]string{"frobnicate"}, 2},
		{nil, 2},
		{[]string{"cert"}, 2},
		{[]string{"cert", "show", filepath.Join(dir, "missing.pem")}, 1},
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
		"all reported errors ignored: true", "still ignored: false"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}
