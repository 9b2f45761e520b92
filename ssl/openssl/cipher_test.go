//go:build cgo && linux

package openssl_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// cipherSuiteConfigs pins both ends to one suite by its Cipher.
func cipherSuiteConfigs(t *testing.T, p *ids, name string, server *pki.Cert) (ccfg, scfg ssl.Configuration) {
	t.Helper()
	c := ssl.CipherByName(name)
	if c.IsNull() {
		t.Fatalf("no Cipher for %s", name)
	}
	proto := ssl.TlsV1_2
	if c.Protocol() == ssl.TlsV1_3 {
		proto = ssl.TlsV1_3
	}
	if server != nil {
		ccfg = p.clientConfig("openssl", proto)
		scfg = p.serverConfig("openssl", server)
	} else { // PSK: no certificate
		ccfg.SetBackend("openssl")
		ccfg.SetProtocol(proto)
		ccfg.SetPeerVerifyMode(ssl.VerifyNone)
		scfg.SetBackend("openssl")
		scfg.SetProtocol(proto)
		scfg.SetPreSharedKeyIdentityHint([]byte("H"))
	}
	ccfg.SetCiphers([]ssl.Cipher{c})
	scfg.SetCiphers([]ssl.Cipher{c})
	return ccfg, scfg
}

// TestCiphersBeyondCryptoTLS: suites crypto/tls does not implement, asked
// for through Configuration.Ciphers, are negotiated and reported as
// themselves on both sides (Qt's sessionCipher), with OpenSSL's fields.
func TestCiphersBeyondCryptoTLS(t *testing.T) {
	p := newIDs()
	rsa := p.root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}, Key: pki.RSA2048})
	key := bytes.Repeat([]byte{7}, 32)
	for _, tc := range []struct {
		name    string
		server  *pki.Cert
		kx, au  string
		enc     string
		bits    int
		version ssl.Protocol
	}{
		{"DHE-RSA-AES128-GCM-SHA256", rsa, "DH", "RSA", "AESGCM(128)", 128, ssl.TlsV1_2},
		{"DHE-RSA-CHACHA20-POLY1305", rsa, "DH", "RSA", "CHACHA20/POLY1305(256)", 256, ssl.TlsV1_2},
		{"PSK-AES128-GCM-SHA256", nil, "PSK", "PSK", "AESGCM(128)", 128, ssl.TlsV1_2},
		{"ECDHE-PSK-CHACHA20-POLY1305", nil, "ECDHEPSK", "PSK", "CHACHA20/POLY1305(256)", 256, ssl.TlsV1_2},
		{"DHE-PSK-AES256-CCM", nil, "DHEPSK", "PSK", "AESCCM(256)", 256, ssl.TlsV1_2},
		{"ECDHE-ECDSA-AES128-CCM8", p.server, "ECDH", "ECDSA", "AESCCM8(128)", 128, ssl.TlsV1_2},
		{"ECDHE-ECDSA-ARIA128-GCM-SHA256", p.server, "ECDH", "ECDSA", "ARIAGCM(128)", 128, ssl.TlsV1_2},
		{"ECDHE-RSA-CAMELLIA256-SHA384", rsa, "ECDH", "RSA", "Camellia(256)", 256, ssl.TlsV1_2},
		{"RSA-PSK-AES128-GCM-SHA256", rsa, "RSAPSK", "RSA", "AESGCM(128)", 128, ssl.TlsV1_2},
		{"TLS_AES_128_CCM_SHA256", p.server, "any", "any", "AESCCM(128)", 128, ssl.TlsV1_3},
		{"TLS_AES_128_CCM_8_SHA256", p.server, "any", "any", "AESCCM8(128)", 128, ssl.TlsV1_3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ccfg, scfg := cipherSuiteConfigs(t, p, tc.name, tc.server)
			psk := tc.au == "PSK" || tc.kx == "RSAPSK"
			c, s := engines(t, ccfg, scfg)
			if psk {
				for _, e := range []*ssl.Engine{c, s} {
					e.OnPreSharedKeyAuthenticationRequired(func(a *ssl.PreSharedKeyAuthenticator) {
						a.SetIdentity([]byte("client1"))
						a.SetPreSharedKey(key)
					})
				}
			}
			if cerr, serr := handshake(t, c, s, 0); cerr != nil || serr != nil {
				t.Fatal(cerr, serr)
			}
			for side, e := range map[string]*ssl.Engine{"client": c, "server": s} {
				got := e.SessionCipher()
				if got.IsNull() || got.Name() != tc.name || got.KeyExchangeMethod() != tc.kx ||
					got.AuthenticationMethod() != tc.au || got.EncryptionMethod() != tc.enc ||
					got.UsedBits() != tc.bits || got.SupportedBits() != tc.bits || got.Protocol() != tc.version {
					t.Errorf("%s: cipher %q %s Kx=%s Au=%s Enc=%s %d/%d", side, got.Name(), got.ProtocolString(),
						got.KeyExchangeMethod(), got.AuthenticationMethod(), got.EncryptionMethod(), got.UsedBits(), got.SupportedBits())
				}
				if e.SessionProtocol() != tc.version {
					t.Errorf("%s: protocol %v", side, e.SessionProtocol())
				}
			}
			if got := pipe(t, c, s, []byte("data"), 0); string(got) != "data" {
				t.Errorf("data %q", got)
			}
		})
	}
}

// TestSupportedCiphersOfBothBackends: each backend lists what it can
// negotiate; the go backend refuses, with ErrUnsupported, a suite only the
// openssl backend implements instead of offering something else.
func TestSupportedCiphersOfBothBackends(t *testing.T) {
	names := func(cs []ssl.Cipher) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name())
		}
		return out
	}
	ossl, gos := names(ssl.SupportedCiphersFor("openssl")), names(ssl.SupportedCiphersFor("go"))
	for _, want := range []string{"DHE-RSA-AES128-GCM-SHA256", "PSK-AES128-GCM-SHA256", "ECDHE-PSK-CHACHA20-POLY1305",
		"DHE-PSK-AES256-GCM-SHA384", "RSA-PSK-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-CCM", "AES256-CCM8",
		"ECDHE-ECDSA-ARIA256-GCM-SHA384", "CAMELLIA256-SHA", "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256",
		"ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_256_GCM_SHA384"} {
		if !slices.Contains(ossl, want) {
			t.Errorf("openssl backend does not list %s", want)
		}
	}
	for _, name := range ossl {
		if c := ssl.CipherByName(name); c.AuthenticationMethod() == "None" {
			t.Errorf("anonymous suite %s listed (Qt leaves them out)", name)
		}
	}
	if slices.Contains(gos, "DHE-RSA-AES128-GCM-SHA256") || !slices.Contains(gos, "ECDHE-RSA-AES128-GCM-SHA256") {
		t.Errorf("go backend lists %v", gos)
	}

	p := newIDs()
	ccfg := p.clientConfig("go", ssl.TlsV1_2)
	ccfg.SetCiphers([]ssl.Cipher{ssl.CipherByName("ECDHE-ECDSA-AES128-GCM-SHA256"), ssl.CipherByName("ECDHE-ECDSA-AES128-CCM")})
	_, err := ssl.NewClientEngine(ccfg, "localhost")
	if !errors.Is(err, ssl.ErrUnsupported) || !strings.Contains(err.Error(), "ECDHE-ECDSA-AES128-CCM") {
		t.Errorf("go backend with a CCM suite: %v, want ErrUnsupported naming it", err)
	}
	ccfg.SetBackend("openssl")
	if _, err := ssl.NewClientEngine(ccfg, "localhost"); err != nil {
		t.Errorf("openssl backend: %v", err)
	}
}
