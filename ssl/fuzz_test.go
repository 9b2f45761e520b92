package ssl

import (
	"bytes"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// The fuzz targets check that no input makes a parser panic or hang, and
// that what parses round-trips.

func FuzzParseCertificates(f *testing.F) {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Fuzz Root", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "fuzz.test", DNSNames: []string{"fuzz.test"}})
	f.Add(pki.ChainPEM(leaf, root), true)
	f.Add(leaf.Cert.Raw, false)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, pemFormat bool) {
		format := Der
		if pemFormat {
			format = Pem
		}
		certs, err := ParseCertificates(data, format)
		if err != nil {
			return
		}
		for _, c := range certs {
			back, err := ParseCertificate(c.ToDer(), Der)
			if err != nil || !back.Equal(c) {
				t.Fatalf("DER round trip failed: %v", err)
			}
			// Every accessor must cope with whatever parsed.
			_ = c.ToText()
			_ = c.Extensions()
			_ = c.SubjectAlternativeNames()
			_ = c.IsBlacklisted()
			_ = c.IsSelfSigned()
			_ = c.PublicKey().Length()
			_ = MatchesHostname(c, "fuzz.test")
		}
		_ = VerifyChain(certs, VerifyOptions{Roots: []Certificate{certOf(root)}, HostName: "fuzz.test"})
	})
}

func FuzzParseKey(f *testing.F) {
	signer, _ := pki.NewKey(pki.ECDSAP256)
	k := NewKey(signer)
	p, _ := k.ToPem(nil)
	f.Add(p, true, false, []byte(""))
	f.Add(k.ToDer(nil), false, false, []byte(""))
	pub, _ := k.Public().ToPem(nil)
	f.Add(pub, true, true, []byte(""))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"), true, false, []byte("pw"))
	f.Fuzz(func(t *testing.T, data []byte, pemFormat, public bool, pass []byte) {
		format, typ := Der, PrivateKey
		if pemFormat {
			format = Pem
		}
		if public {
			typ = PublicKey
		}
		key, err := ParseKey(data, Opaque, format, typ, pass)
		if err != nil {
			return
		}
		der := key.ToDer(nil)
		back, err := ParseKey(der, Opaque, Der, typ, nil)
		if err != nil || !back.Equal(key) {
			t.Fatalf("DER round trip of a %v %v key failed: %v", key.Algorithm(), key.Type(), err)
		}
	})
}

func FuzzImportPkcs12(f *testing.F) {
	f.Add([]byte{0x30, 0x82, 0x01, 0x00}, "x")
	f.Add([]byte("garbage"), "")
	f.Fuzz(func(t *testing.T, data []byte, pass string) {
		p, err := ImportPkcs12(bytes.NewReader(data), pass)
		if err == nil && (p.Key.IsNull() || p.Certificate.IsNull()) {
			t.Fatal("success without a key and a certificate")
		}
	})
}

func FuzzParseDiffieHellmanParameters(f *testing.F) {
	def := DefaultDiffieHellmanParameters()
	f.Add(def.ToPem(), true)
	f.Add(def.ToDer(), false)
	f.Fuzz(func(t *testing.T, data []byte, pemFormat bool) {
		format := Der
		if pemFormat {
			format = Pem
		}
		p := ParseDiffieHellmanParameters(data, format)
		if p.IsValid() {
			if back := ParseDiffieHellmanParameters(p.ToDer(), Der); !back.Equal(p) {
				t.Fatal("DER round trip failed")
			}
		}
	})
}

func FuzzCheckOcsp(f *testing.F) {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "OCSP Fuzz Root", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "ocsp.test"})
	chain := []Certificate{certOf(leaf), certOf(root)}
	f.Add([]byte{0x30, 0x03, 0x0a, 0x01, 0x03})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, der []byte) {
		errs, resp, err := checkOcsp(der, chain, []Certificate{certOf(root)}, time.Now())
		if err == nil && len(errs) == 0 && (resp == nil || resp.CertificateStatus != OcspGood) {
			t.Fatal("no error and no good status")
		}
	})
}

func FuzzKeySniffer(f *testing.F) {
	f.Add([]byte{22, 3, 3, 0, 4, 2, 0, 0, 0})
	f.Add([]byte{22, 3, 3, 0, 8, 12, 0, 0, 4, 3, 0, 29, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var k keySniffer
		for len(data) > 0 { // in uneven pieces, as TCP delivers
			n := 1 + int(data[0])%17
			if n > len(data) {
				n = len(data)
			}
			k.feed(data[:n])
			data = data[n:]
		}
		if !k.key.IsNull() && k.key.Type() != PublicKey {
			t.Fatal("not a public key")
		}
	})
}
