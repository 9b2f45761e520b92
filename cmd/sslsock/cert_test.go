package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sslsocket/sslsocket/ssl"
)

// TestCertNewRules: the CN follows the first name; no overwriting without
// --force; a non-CA issuer and a non-positive validity are refused; the
// chain bundle and PKCS#12 outputs hold the issuer chain.
func TestCertNewRules(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	if r := runIn("", "cert", "new", "--type", "ca", "--out", p("ca")); r.code != 0 {
		t.Fatalf("ca: %+v", r)
	}
	r := runIn("", "cert", "new", "--san", "svc.example.test,127.0.0.1", "--issuer-cert", p("ca.pem"), "--issuer-key", p("ca.key"),
		"--out", p("leaf"), "--chain", "--p12", "--p12-pass", "pw")
	if r.code != 0 {
		t.Fatalf("leaf: %+v", r)
	}
	leaf, err := ssl.CertificatesFromFile(p("leaf.pem"), ssl.Pem)
	if err != nil || len(leaf) != 1 {
		t.Fatal(err)
	}
	if cn := leaf[0].SubjectInfo(ssl.CommonName); len(cn) != 1 || cn[0] != "svc.example.test" {
		t.Errorf("CN %v, want the first --san", cn)
	}
	if names := altNames(leaf[0]); strings.Join(names, ",") != "DNS:svc.example.test,IP:127.0.0.1" {
		t.Errorf("names %v", names)
	}
	chain, err := ssl.CertificatesFromFile(p("leaf-chain.pem"), ssl.Pem)
	if err != nil || len(chain) != 2 || !chain[0].Equal(leaf[0]) || chain[1].SubjectInfo(ssl.CommonName)[0] != "sslsock ca" {
		t.Errorf("chain bundle: %d certificates, %v", len(chain), err)
	}
	p12, err := ssl.ImportPkcs12(bytes.NewReader(readAll(t, p("leaf.p12"))), "pw")
	if err != nil || !p12.Certificate.Equal(leaf[0]) || len(p12.CaCertificates) != 1 || p12.Key.IsNull() {
		t.Errorf("PKCS#12: %+v %v", p12, err)
	}
	if st, _ := os.Stat(p("leaf.key")); st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", st.Mode())
	}
	// The minted chain verifies for its names.
	if r := runIn("", "verify", "--no-system-ca", "--ca", p("ca.pem"), "--host", "127.0.0.1", p("leaf-chain.pem")); r.code != 0 {
		t.Errorf("verify: %s", r.stdout)
	}

	// --ca takes a directory, as -CApath does.
	caDir := filepath.Join(dir, "cas")
	os.Mkdir(caDir, 0o755)
	os.WriteFile(filepath.Join(caDir, "ca.pem"), readAll(t, p("ca.pem")), 0o644)
	if r := runIn("", "verify", "--no-system-ca", "--ca", caDir, "--host", "svc.example.test", p("leaf.pem")); r.code != 0 {
		t.Errorf("verify --ca DIR: %s%s", r.stdout, r.stderr)
	}

	before := readAll(t, p("leaf.pem"))
	r = runIn("", "cert", "new", "--out", p("leaf"))
	if r.code != 1 || !strings.Contains(r.stderr, "--force") || !bytes.Equal(before, readAll(t, p("leaf.pem"))) {
		t.Errorf("overwrite without --force: %+v", r)
	}
	if r := runIn("", "cert", "new", "--out", p("leaf"), "--force"); r.code != 0 || bytes.Equal(before, readAll(t, p("leaf.pem"))) {
		t.Errorf("--force: %+v", r)
	}
	// Never valid beyond the issuer.
	if r := runIn("", "cert", "new", "--days", "9999", "--issuer-cert", p("ca.pem"), "--issuer-key", p("ca.key"), "--out", p("long")); r.code != 0 {
		t.Fatalf("long: %+v", r)
	}
	long, _ := ssl.CertificatesFromFile(p("long.pem"), ssl.Pem)
	ca, _ := ssl.CertificatesFromFile(p("ca.pem"), ssl.Pem)
	if len(long) != 1 || len(ca) != 1 || long[0].ExpiryDate().After(ca[0].ExpiryDate()) {
		t.Error("a certificate valid beyond its issuer")
	}
	// A leaf cannot issue.
	r = runIn("", "cert", "new", "--issuer-cert", p("leaf.pem"), "--issuer-key", p("leaf.key"), "--out", p("x"))
	if r.code != 2 || !strings.Contains(r.stderr, "not a CA certificate") {
		t.Errorf("non-CA issuer: %+v", r)
	}
	// The issuer's key must be the issuer's.
	r = runIn("", "cert", "new", "--issuer-cert", p("ca.pem"), "--issuer-key", p("leaf.key"), "--out", p("y"))
	if r.code != 2 || !strings.Contains(r.stderr, "does not belong") {
		t.Errorf("mismatched issuer key: %+v", r)
	}
	for _, n := range []string{"x.pem", "x.key", "y.pem"} {
		if _, err := os.Stat(p(n)); err == nil {
			t.Errorf("%s written by a refused command", n)
		}
	}
}

// TestBenchFlagsTargets: the table says met or MISSED for each row, names
// what the 64-byte row compares, and writes no cursor escapes when
// standard error is not a terminal.
func TestBenchFlagsTargets(t *testing.T) {
	r := runIn("", "bench", "--duration", "30ms")
	if r.code != 0 {
		t.Fatalf("bench: %+v", r)
	}
	if strings.Contains(r.stderr, "\033") || strings.Contains(r.stderr, "\r") {
		t.Errorf("cursor escapes on a non-terminal: %q", r.stderr)
	}
	rows := 0
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "×") && (strings.Contains(line, " met ") || strings.Contains(line, " MISSED ")) {
			rows++
		}
	}
	if rows != 5 || !strings.Contains(r.stdout, "64-byte writes, coalesced vs one record each") ||
		!strings.Contains(r.stdout, "echo answered from readyRead") {
		t.Errorf("%d rows with a verdict:\n%s", rows, r.stdout)
	}
	if row := (benchRow{higher: true, target: 3, ours: 2, raw: 1}); !row.missed() {
		t.Error("a 2× ratio meets a 3× target")
	}
	if row := (benchRow{target: 1 / 1.05, ours: 100, raw: 101}); row.missed() {
		t.Error("a faster round trip misses the ping-pong target")
	}
}
