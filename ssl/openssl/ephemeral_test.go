//go:build cgo && linux

package openssl_test

import (
	"bytes"
	"encoding/asn1"
	"os/exec"
	"strings"
	"testing"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// TestEphemeralServerKeyBeyondGoTypes: the client reports the server's
// key-exchange key for the groups Go has no key type for, as Qt does: a
// DHE exchange's DH key (Dh, the prime's bits), X448 (Opaque, as X25519),
// brainpool (Ec), each encoded as the SubjectPublicKeyInfo OpenSSL reads.
func TestEphemeralServerKeyBeyondGoTypes(t *testing.T) {
	p := newIDs()
	rsa := p.root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}, Key: pki.RSA2048})
	for _, tc := range []struct {
		name   string
		setup  func(c, s *ssl.Configuration)
		server *pki.Cert
		alg    ssl.KeyAlgorithm
		bits   int
		oid    asn1.ObjectIdentifier
		text   string // what openssl pkey -text says of the DER
	}{
		{"DHE-RSA", func(c, s *ssl.Configuration) {
			c.SetProtocol(ssl.TlsV1_2)
			c.SetCiphers([]ssl.Cipher{ssl.CipherByName("DHE-RSA-AES128-GCM-SHA256")})
		}, rsa, ssl.Dh, 2048, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 3, 1}, "DH Public-Key: (2048 bit)"},
		{"TLS1.3 ffdhe3072", func(c, s *ssl.Configuration) {
			c.SetProtocol(ssl.TlsV1_3)
			c.SetBackendConfigurationOption("Groups", "ffdhe3072")
		}, p.server, ssl.Dh, 3072, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 3, 1}, "DH Public-Key: (3072 bit)"},
		{"X448", func(c, s *ssl.Configuration) {
			c.SetProtocol(ssl.TlsV1_3)
			c.SetEllipticCurves([]ssl.EllipticCurve{ssl.CurveFromShortName("X448")})
		}, p.server, ssl.Opaque, 448, asn1.ObjectIdentifier{1, 3, 101, 111}, "X448 Public-Key:"},
		{"brainpoolP256r1", func(c, s *ssl.Configuration) {
			c.SetProtocol(ssl.TlsV1_2)
			c.SetEllipticCurves([]ssl.EllipticCurve{ssl.CurveFromShortName("brainpoolP256r1")})
			s.SetEllipticCurves(c.EllipticCurves()) // not among OpenSSL's default groups
		}, rsa, ssl.Ec, 256, asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, "ASN1 OID: brainpoolP256r1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ccfg := p.clientConfig("openssl", ssl.TlsV1_2OrLater)
			scfg := p.serverConfig("openssl", tc.server)
			tc.setup(&ccfg, &scfg)
			c, s := engines(t, ccfg, scfg)
			if cerr, serr := handshake(t, c, s, 0); cerr != nil || serr != nil {
				t.Fatal(cerr, serr)
			}
			k := c.SslConfiguration().EphemeralServerKey()
			if k.IsNull() || k.Type() != ssl.PublicKey || k.Algorithm() != tc.alg || k.Length() != tc.bits {
				t.Fatalf("key: null %v %v %v %d bits", k.IsNull(), k.Type(), k.Algorithm(), k.Length())
			}
			der := k.ToDer(nil)
			var spki struct {
				Algo struct {
					OID    asn1.ObjectIdentifier
					Params asn1.RawValue `asn1:"optional"`
				}
				Key asn1.BitString
			}
			if _, err := asn1.Unmarshal(der, &spki); err != nil || !spki.Algo.OID.Equal(tc.oid) {
				t.Fatalf("DER: %v, algorithm %v", err, spki.Algo.OID)
			}
			if h, ok := k.Handle().([]byte); !ok || !bytes.Equal(h, der) {
				t.Errorf("Handle %T", k.Handle())
			}
			pemKey, err := k.ToPem(nil)
			if err != nil || !strings.HasPrefix(string(pemKey), "-----BEGIN PUBLIC KEY-----") {
				t.Errorf("PEM %q, %v", pemKey, err)
			}
			if !k.Equal(c.SslConfiguration().EphemeralServerKey()) {
				t.Error("a key equals itself")
			}
			cmd := exec.Command(opensslCLI(t), "pkey", "-pubin", "-inform", "DER", "-noout", "-text")
			cmd.Stdin = bytes.NewReader(der)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), tc.text) {
				t.Errorf("openssl pkey: %v\n%s", err, out)
			}
			if !s.SslConfiguration().EphemeralServerKey().IsNull() {
				t.Error("the server reports no ephemeral server key (Qt: client only)")
			}
		})
	}
}

// opensslCLI is the openssl command, which the interop tests need too.
func opensslCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("the openssl command is required (Debian package openssl)")
	}
	return p
}
