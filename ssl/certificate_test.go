package ssl

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sslsocket/sslsocket/internal/pki"
)

func TestParseCertificates(t *testing.T) {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Root", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "leaf"})
	keyPEM := leaf.KeyPEM()
	bundle := bytes.Join([][]byte{[]byte("junk before\n"), leaf.CertPEM(), keyPEM, root.CertPEM()}, nil)

	certs, err := ParseCertificates(bundle, Pem)
	if err != nil || len(certs) != 2 {
		t.Fatalf("PEM bundle: %d certs, %v", len(certs), err)
	}
	if !certs[0].Equal(certOf(leaf)) || !certs[1].Equal(certOf(root)) {
		t.Error("order or content")
	}
	der := append(append([]byte{}, leaf.Cert.Raw...), root.Cert.Raw...)
	if certs, err := ParseCertificates(der, Der); err != nil || len(certs) != 2 {
		t.Errorf("concatenated DER: %d, %v", len(certs), err)
	}
	if c, err := ParseCertificate(bundle, Pem); err != nil || !c.Equal(certOf(leaf)) {
		t.Errorf("first certificate: %v", err)
	}
	// No final newline is fine.
	if _, err := ParseCertificate(bytes.TrimRight(leaf.CertPEM(), "\n"), Pem); err != nil {
		t.Errorf("PEM without final newline: %v", err)
	}
	for name, input := range map[string][]byte{
		"empty":          nil,
		"garbage":        []byte("not a certificate"),
		"key only":       keyPEM,
		"BEGIN, no END":  []byte("-----BEGIN CERTIFICATE-----\nMIIB\n"),
		"bad base64 DER": []byte("-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n"),
	} {
		if _, err := ParseCertificate(input, Pem); err == nil || !isMalformed(err) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	if _, err := ParseCertificates(leaf.Cert.Raw[:40], Der); !isMalformed(err) {
		t.Errorf("truncated DER: %v", err)
	}
	if _, err := ParseCertificates(leaf.CertPEM(), EncodingFormat(7)); err == nil {
		t.Error("unknown format accepted")
	}
}

func isMalformed(err error) bool { return err != nil && errorsIs(err, ErrMalformed) }

func TestCertificateAccessors(t *testing.T) {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Test Root", Organization: "Acme", IsCA: true, PathLen: pki.PathLen(1)})
	leaf := root.MustIssue(pki.Spec{CommonName: "www.example.com", DNSNames: []string{"www.example.com", "example.com"},
		IPs: []net.IP{net.ParseIP("10.0.0.1"), net.ParseIP("2001:db8::1")}, Emails: []string{"a@example.com"},
		Serial: big.NewInt(17), OCSPServer: []string{"http://ocsp.example.com"}})
	c := certOf(leaf)
	r := certOf(root)

	if got := c.SerialNumber(); got != "11" {
		t.Errorf("SerialNumber = %q, want 11", got)
	}
	if r.Version() != "3" || (Certificate{}).Version() != "" {
		t.Error("Version")
	}
	if got := c.SubjectInfo(CommonName); len(got) != 1 || got[0] != "www.example.com" {
		t.Errorf("SubjectInfo(CN) = %v", got)
	}
	if got := c.IssuerInfo(Organization); len(got) != 1 || got[0] != "Acme" {
		t.Errorf("IssuerInfo(O) = %v", got)
	}
	if got := c.IssuerInfoAttribute("CN"); len(got) != 1 || got[0] != "Test Root" {
		t.Errorf("IssuerInfoAttribute(CN) = %v", got)
	}
	if got := c.IssuerInfoAttribute("2.5.4.3"); len(got) != 1 {
		t.Errorf("attribute by OID = %v", got)
	}
	if got := r.SubjectInfoAttributes(); strings.Join(got, ",") != "O,CN" {
		t.Errorf("SubjectInfoAttributes = %v", got)
	}
	if c.SubjectDisplayName() != "www.example.com" || c.IssuerDisplayName() != "Test Root" {
		t.Error("display names")
	}
	want := []AlternativeName{{DnsEntry, "www.example.com"}, {DnsEntry, "example.com"}, {EmailEntry, "a@example.com"},
		{IpAddressEntry, "10.0.0.1"}, {IpAddressEntry, "2001:db8::1"}}
	if got := c.SubjectAlternativeNames(); len(got) != len(want) {
		t.Errorf("SANs = %v", got)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("SAN %d = %v, want %v", i, got[i], want[i])
			}
		}
	}
	if !r.IsSelfSigned() || c.IsSelfSigned() || (Certificate{}).IsSelfSigned() {
		t.Error("IsSelfSigned")
	}
	if c.EffectiveDate() != leaf.Cert.NotBefore.UTC() || c.ExpiryDate() != leaf.Cert.NotAfter.UTC() {
		t.Error("dates")
	}
	if hex.EncodeToString(c.Digest(crypto.SHA256)) != c.SHA256() || len(c.Digest(crypto.MD5)) != 16 || len(c.Digest(crypto.SHA1)) != 20 {
		t.Error("digests")
	}
	if got := hex.EncodeToString((Certificate{}).Digest(crypto.MD5)); got != "d41d8cd98f00b204e9800998ecf8427e" {
		t.Errorf("null certificate digest = %s, want MD5 of empty input", got)
	}
	if !c.PublicKey().Equal(NewKey(leaf.Key.Public())) || c.PublicKey().Type() != PublicKey {
		t.Error("PublicKey")
	}
	if back, err := ParseCertificate(c.ToPem(), Pem); err != nil || !back.Equal(c) {
		t.Error("ToPem round trip")
	}
	if back, err := ParseCertificate(c.ToDer(), Der); err != nil || !back.Equal(c) {
		t.Error("ToDer round trip")
	}
	if !(Certificate{}).Equal(Certificate{}) || c.Equal(Certificate{}) || c.Equal(r) {
		t.Error("Equal")
	}
	if c.ToPem() == nil || !bytes.HasSuffix(c.ToPem(), []byte("-----END CERTIFICATE-----\n")) {
		t.Error("PEM format")
	}

	exts := map[string]CertificateExtension{}
	for _, e := range r.Extensions() {
		exts[e.Name] = e
	}
	bc := exts["basicConstraints"]
	if m, ok := bc.Value.(map[string]any); !bc.Supported || !ok || m["ca"] != true || m["pathLenConstraint"] != 1 || !bc.Critical {
		t.Errorf("basicConstraints = %+v", bc)
	}
	ski := exts["subjectKeyIdentifier"]
	if s, ok := ski.Value.(string); !ski.Supported || !ok || s != strings.ToUpper(colonHex(root.Cert.SubjectKeyId, false)) {
		t.Errorf("subjectKeyIdentifier = %+v", ski)
	}
	exts = map[string]CertificateExtension{}
	for _, e := range c.Extensions() {
		exts[e.Name] = e
	}
	aki := exts["authorityKeyIdentifier"]
	if m, ok := aki.Value.(map[string]any); !aki.Supported || !ok || m["keyid"] != hex.EncodeToString(root.Cert.SubjectKeyId) {
		t.Errorf("authorityKeyIdentifier = %+v", aki)
	}
	aia := exts["authorityInfoAccess"]
	if m, ok := aia.Value.(map[string]any); !aia.Supported || !ok || m["OCSP"] != "http://ocsp.example.com" {
		t.Errorf("authorityInfoAccess = %+v", aia)
	}
	if ku := exts["keyUsage"]; ku.Supported || ku.Value != "Digital Signature" {
		t.Errorf("keyUsage = %+v", ku)
	}
	text := c.ToText()
	for _, want := range []string{"Serial Number: 11", "Subject: CN = www.example.com", "Issuer: O = Acme, CN = Test Root", "subjectAltName", "DNS:example.com"} {
		if !strings.Contains(text, want) {
			t.Errorf("ToText lacks %q:\n%s", want, text)
		}
	}
	var null Certificate
	if !null.IsNull() || null.ToPem() != nil || null.SerialNumber() != "" || null.SubjectInfo(CommonName) != nil ||
		null.Extensions() != nil || !null.PublicKey().IsNull() || null.ToText() != "" || null.IsBlacklisted() {
		t.Error("null certificate accessors")
	}
}

func TestCertificatesFromPath(t *testing.T) {
	dir := t.TempDir()
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Root", IsCA: true})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "ca1"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "ca2"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "other"), 0o755))
	write := func(rel string, data []byte) { must(os.WriteFile(filepath.Join(dir, rel), data, 0o644)) }
	write("ca1/c1.pem", pki.ChainPEM(root, root.MustIssue(pki.Spec{CommonName: "x"})))
	write("ca2/c2.pem", root.MustIssue(pki.Spec{CommonName: "y"}).CertPEM())
	write("ca2/notes.txt", []byte("not a cert"))
	write("other/c3.pem", root.CertPEM())

	tests := []struct {
		path   string
		syntax PatternSyntax
		want   int
	}{
		{filepath.Join(dir, "ca1/c1.pem"), FixedString, 2},
		{filepath.Join(dir, "c*/c*.pem"), Wildcard, 3},
		{filepath.Join(dir, "*/*.pem"), Wildcard, 4},
		{filepath.Join(dir, "nothing*.pem"), Wildcard, 0},
		{filepath.Join(dir, `ca.*/c.*\.pem`), RegularExpression, 3},
		{filepath.Join(dir, `.*\.txt`), RegularExpression, 0},
	}
	for _, tc := range tests {
		got, err := CertificatesFromPath(tc.path, Pem, tc.syntax)
		if err != nil || len(got) != tc.want {
			t.Errorf("%s (%v): %d certs, %v; want %d", tc.path, tc.syntax, len(got), err, tc.want)
		}
	}
	if _, err := CertificatesFromPath(dir, Pem, FixedString); err == nil {
		t.Error("a directory with FixedString must fail")
	}
	if _, err := CertificatesFromPath(filepath.Join(dir, "missing.pem"), Pem, FixedString); err == nil {
		t.Error("missing file must fail")
	}
	if _, err := CertificatesFromPath("[", Pem, Wildcard); err == nil {
		t.Error("bad glob must fail")
	}
}

func TestSystemCaCertificates(t *testing.T) {
	dir := t.TempDir()
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Env Root", IsCA: true})
	path := filepath.Join(dir, "bundle.pem")
	if err := os.WriteFile(path, pki.ChainPEM(root, root), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", path)
	t.Setenv("SSL_CERT_DIR", dir)
	got := loadSystemCaCertificates()
	if len(got) != 1 || !got[0].Equal(certOf(root)) {
		t.Errorf("SSL_CERT_FILE/SSL_CERT_DIR: got %d certificates, want the one root once", len(got))
	}
}

// TestNoPemCertificateSaysWhy: PEM input without a certificate gets an
// error that says why — truncated, broken base64, a key, DER, empty — and
// matches ErrMalformed (DER also ErrLooksLikeDer).
func TestNoPemCertificateSaysWhy(t *testing.T) {
	good := pki.MustSelfSigned(pki.Spec{CommonName: "x"})
	pemText := string(good.CertPEM())
	lines := strings.Split(pemText, "\n")
	for _, tc := range []struct {
		name, data, want string
		der              bool
	}{
		{"truncated", strings.Join(lines[:4], "\n"), "truncated (BEGIN CERTIFICATE without its END line)", false},
		{"broken base64", strings.Replace(pemText, lines[2], "!!"+lines[2][2:], 1), "the base64 between BEGIN and END CERTIFICATE is broken", false},
		{"a key", string(good.KeyPEM()), "PRIVATE KEY (a private key, not a certificate)", false},
		{"DER", string(good.Cert.Raw), "looks like DER (binary), not PEM", true},
		{"empty", "", "the data is empty", false},
		{"text", "hello\n", "no -----BEGIN CERTIFICATE----- block", false},
	} {
		_, err := ParseCertificates([]byte(tc.data), Pem)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrMalformed) || errors.Is(err, ErrLooksLikeDer) != tc.der {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
