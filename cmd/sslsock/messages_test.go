package main

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// oneLine checks a failed run: the exit status, one line on standard
// error holding every word of want, no leaked "ssl: "/"pki: " prefixes.
func oneLine(t *testing.T, what string, r binResult, code int, want ...string) {
	t.Helper()
	msg := strings.TrimSpace(r.stderr)
	ok := r.code == code && msg != "" && !strings.Contains(msg, "\n") && !strings.Contains(msg, "ssl: ") && !strings.Contains(msg, "pki: ")
	for _, w := range want {
		ok = ok && strings.Contains(msg, w)
	}
	if !ok {
		t.Errorf("%s: exit %d (want %d), stderr %q, want one line with %q", what, r.code, code, r.stderr, want)
	}
}

// TestInputFilesSayWhatIsWrong: a broken, truncated, key, DER or missing
// file named where a certificate is read is bad usage (exit 2, before any
// connection) with one line that says which problem it is, and for DER
// what to do.
func TestInputFilesSayWhatIsWrong(t *testing.T) {
	dir, root := cliPKI(t)
	addr, accepted := countingListener(t)
	p := func(n string) string { return filepath.Join(dir, n) }
	pemText := string(root.CertPEM())
	lines := strings.Split(pemText, "\n")
	files := map[string]string{
		"broken.pem":    strings.Replace(pemText, lines[3], "%%"+lines[3][2:], 1),
		"truncated.pem": strings.Join(lines[:5], "\n"),
		"root.der":      string(root.Cert.Raw),
	}
	for n, data := range files {
		if err := os.WriteFile(p(n), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"broken.pem", []string{"broken.pem", "base64", "broken"}},
		{"truncated.pem", []string{"truncated.pem", "truncated", "END"}},
		{"leaf.key", []string{"leaf.key", "PRIVATE KEY", "not a certificate"}},
		{"root.der", []string{"root.der", "DER"}},
		{"missing.pem", []string{"missing.pem", "no such file"}},
	} {
		f := p(tc.file)
		oneLine(t, "cert show "+tc.file, runBinary(t, nil, nil, "cert", "show", f), 2, tc.want...)
		oneLine(t, "verify "+tc.file, runBinary(t, nil, nil, "verify", f, "--no-system-ca"), 2, tc.want...)
		oneLine(t, "verify --ca "+tc.file, runBinary(t, nil, nil, "verify", "--ca", f, p("leaf.pem")), 2, append(tc.want, "--ca")...)
		oneLine(t, "connect --ca "+tc.file, runBinary(t, strings.NewReader("x"), nil, "connect", addr, "--ca", f), 2, append(tc.want, "--ca")...)
		oneLine(t, "serve --cert "+tc.file, runBinary(t, nil, nil, "serve", "--cert", f, "--key", p("leaf.key"), "--listen", "127.0.0.1:0"), 2, tc.want...)
	}
	// DER: the flag that reads it is named.
	oneLine(t, "cert show DER", runBinary(t, nil, nil, "cert", "show", p("root.der")), 2, "use --der")
	oneLine(t, "verify DER", runBinary(t, nil, nil, "verify", p("root.der")), 2, "use --der")
	oneLine(t, "connect --ca DER", runBinary(t, nil, nil, "connect", "--ca", p("root.der"), addr), 2, "openssl x509 -inform der")
	if r := runBinary(t, nil, nil, "cert", "show", "--der", p("root.der")); r.code != 0 || !strings.Contains(r.stdout, "CLI Root") {
		t.Errorf("cert show --der: exit %d %s", r.code, r.stderr)
	}
	if r := runBinary(t, nil, nil, "verify", p("root.der"), "--der", "--no-system-ca", "--ca", p("root.pem"), "--purpose", "any"); r.code != 0 {
		t.Errorf("verify --der: exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections made with bad input files", n)
	}
}

// TestNamesAndValues: --protocol and --key-type list the valid names and
// take the usual spellings; cert new refuses names that are not DNS names
// or IP addresses; serve binds before it mints or prints anything.
func TestNamesAndValues(t *testing.T) {
	dir, _ := cliPKI(t)
	oneLine(t, "--protocol TLS9", runBinary(t, nil, nil, "connect", "--protocol", "TLS9", "127.0.0.1:1"), 2, "TLS9", "SecureProtocols", "TlsV1_3", "TlsV1_2OrLater")
	oneLine(t, "--key-type rsa-1024", runBinary(t, nil, nil, "cert", "new", "--key-type", "rsa-1024", "--out", filepath.Join(dir, "k")), 2, "rsa-1024", "ecdsa-p256", "rsa-2048", "ed25519")
	for spelling, version := range map[string]string{"TLS1.3": "TLS 1.3", "tls13": "TLS 1.3", "TLSv1.3": "TLS 1.3", "TlsV1_3": "TLS 1.3", "tlsv1_2": "TLS 1.2", "TLS1.2": "TLS 1.2"} {
		if p, err := parseProtocolFlag(spelling); err != nil || !strings.Contains(p.String(), strings.ReplaceAll(strings.TrimPrefix(version, "TLS "), ".", "_")) {
			t.Errorf("--protocol %s: %v %v", spelling, p, err)
		}
	}
	port, _ := tlsServer(t, dir, nil, func(c *tls.Conn) { c.Handshake() })
	if r := runBinary(t, nil, nil, "connect", "--json", "localhost:"+port, "--protocol", "TLS1.2", "--ca", filepath.Join(dir, "root.pem")); r.code != 0 ||
		!strings.Contains(r.stdout, `"protocolVersion": "TLS 1.2"`) {
		t.Errorf("--protocol TLS1.2: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runBinary(t, nil, nil, "cert", "new", "--out", filepath.Join(dir, "r"), "--key-type", "RSA-2048"); r.code != 0 {
		t.Errorf("--key-type RSA-2048: exit %d %s", r.code, r.stderr)
	}
	for _, san := range []string{"bad name!,300.1.1.1", "300.1.1.1", "a..b", "-x.example", "x.*.example"} {
		out := filepath.Join(dir, "san")
		oneLine(t, "--san "+san, runBinary(t, nil, nil, "cert", "new", "--san", san, "--out", out), 2, "--san")
		if _, err := os.Stat(out + ".pem"); err == nil {
			t.Fatalf("--san %q: a certificate was written", san)
		}
	}
	if r := runBinary(t, nil, nil, "cert", "new", "--san", "*.example.test,10.0.0.1,::1,xn--bcher-kva.example", "--out", filepath.Join(dir, "good")); r.code != 0 {
		t.Errorf("valid --san: exit %d %s", r.code, r.stderr)
	}
	// A busy port: the bind error, and no identity printed or minted.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	pkiDir := filepath.Join(dir, "pki")
	r := runBinary(t, nil, nil, "serve", "--pki-dir", pkiDir, "--listen", busy.Addr().String())
	oneLine(t, "serve on a busy port", r, 1, "address already in use")
	if r.stdout != "" {
		t.Errorf("serve on a busy port printed %q", r.stdout)
	}
	if _, err := os.Stat(pkiDir); err == nil {
		t.Errorf("serve on a busy port minted a PKI in %s", pkiDir)
	}
}

// TestConnectSaysThingsOnce: a failed connection is told once, without
// repeated prefixes; --quiet --send prints the answer; backends shows the
// openssl version and marks insecure ciphers; verify takes --untrusted.
func TestConnectSaysThingsOnce(t *testing.T) {
	echo := startServe(t)
	ca := filepath.Join(echo.pki, "ca.pem")
	refused := "127.0.0.1:" + strconv.Itoa(freePort(t))
	for _, mode := range [][]string{nil, {"--brief"}, {"--quiet"}} {
		r := runBinary(t, nil, nil, append([]string{"connect", refused}, mode...)...)
		oneLine(t, "refused "+strings.Join(mode, ""), r, 1, "FAILED: not encrypted", "Connection refused")
		if strings.Contains(r.stdout, "Connection refused") {
			t.Errorf("refused %v: told twice:\n%s", mode, r.stdout)
		}
	}
	r := runBinary(t, nil, nil, "connect", echo.addr, "--ca", ca, "--protocol", "TlsV1_3", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256")
	oneLine(t, "a TLS 1.2 cipher for TLS 1.3", r, 1, "SslInvalidUserDataError: invalid configuration")
	for _, mode := range []string{"--quiet", "--brief", "-q"} {
		r = runBinary(t, nil, nil, "connect", mode, "--send", `ping\n`, "--ca", ca, echo.addr)
		if r.code != 0 || r.stdout != "ping\n" {
			t.Errorf("%s --send: exit %d, stdout %q, stderr %q", mode, r.code, r.stdout, r.stderr)
		}
	}

	r = runBinary(t, nil, nil, "backends")
	if r.code != 0 || !strings.Contains(r.stdout, "openssl OpenSSL 3") || !strings.Contains(r.stdout, "go (active) Go crypto/tls go1.") {
		t.Errorf("backends: versions missing:\n%s", r.stdout)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "ciphers:") && (strings.Contains(line, "RC4") || strings.Contains(line, "DES-CBC3")) {
			t.Errorf("backends lists RC4/3DES among the ciphers: %s", line)
		}
	}
	if !strings.Contains(r.stdout, "INSECURE:") || !strings.Contains(r.stdout, "RC4-SHA") {
		t.Errorf("backends marks nothing insecure:\n%s", r.stdout)
	}
	r = runBinary(t, nil, nil, "backends", "--json")
	var infos []backendInfo
	if err := json.Unmarshal([]byte(r.stdout), &infos); err != nil || len(infos) < 2 {
		t.Fatalf("backends --json: %v\n%s", err, r.stdout)
	}
	for _, b := range infos {
		if b.Version == "" || (b.Name == "go" && !contains(b.InsecureCiphers, "RC4-SHA")) {
			t.Errorf("backends --json: %+v", b)
		}
	}

	// verify --untrusted: the intermediate the leaf's file lacks.
	dir := t.TempDir()
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Root", IsCA: true})
	inter := root.MustIssue(pki.Spec{CommonName: "Intermediate", IsCA: true})
	leaf := inter.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	os.WriteFile(filepath.Join(dir, "root.pem"), root.CertPEM(), 0o644)
	os.WriteFile(filepath.Join(dir, "inter.pem"), inter.CertPEM(), 0o644)
	os.WriteFile(filepath.Join(dir, "leaf.pem"), leaf.CertPEM(), 0o644)
	args := []string{"verify", "--no-system-ca", "--ca", filepath.Join(dir, "root.pem"), "--host", "localhost", filepath.Join(dir, "leaf.pem")}
	if r := runBinary(t, nil, nil, args...); r.code != 1 || !strings.Contains(r.stdout, "UnableToGetLocalIssuerCertificate") {
		t.Errorf("without --untrusted: exit %d\n%s", r.code, r.stdout)
	}
	if r := runBinary(t, nil, nil, append(args, "--untrusted", filepath.Join(dir, "inter.pem"))...); r.code != 0 || !strings.Contains(r.stdout, "verified: no errors") {
		t.Errorf("with --untrusted: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	oneLine(t, "--untrusted missing", runBinary(t, nil, nil, append(args, "--untrusted", filepath.Join(dir, "nope.pem"))...), 2, "--untrusted", "nope.pem")
}
