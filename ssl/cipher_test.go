package ssl

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestCiphersMatchOpenSSL compares each description with the line
// `openssl ciphers -v` prints for the same suite (for the suites this
// OpenSSL build still knows).
func TestCiphersMatchOpenSSL(t *testing.T) {
	out := runOpenSSL(t, t.TempDir(), "ciphers", "-v", "ALL:@SECLEVEL=0")
	lines := map[string][]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 {
			lines[f[0]] = f
		}
	}
	compared := 0
	for _, c := range SupportedCiphers() {
		f, ok := lines[c.Name()]
		if !ok {
			continue // RC4 and 3DES are gone from OpenSSL 3's default provider
		}
		compared++
		want := []string{c.Name(), c.ProtocolString(), "Kx=" + c.KeyExchangeMethod(), "Au=" + c.AuthenticationMethod(), "Enc=" + c.EncryptionMethod()}
		if strings.Join(f[:5], " ") != strings.Join(want, " ") {
			t.Errorf("ours    %v\nopenssl %v", want, f[:5])
		}
	}
	if compared < 15 {
		t.Errorf("only %d ciphers compared with OpenSSL", compared)
	}
}

// TestCipherTableCoversOpenSSL: every suite the openssl command knows
// (ALL, COMPLEMENTOFALL and the five TLS 1.3 suites) has a Cipher with its
// IANA id and names and OpenSSL's columns, whichever backend is active.
func TestCipherTableCoversOpenSSL(t *testing.T) {
	out := runOpenSSL(t, t.TempDir(), "ciphers", "-V", "-stdname", "-v", "-ciphersuites",
		"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256",
		"ALL:COMPLEMENTOFALL:@SECLEVEL=0")
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		// 0x13,0x04 - TLS_AES_128_CCM_SHA256 - TLS_AES_128_CCM_SHA256 TLSv1.3 Kx=any Au=any Enc=AESCCM(128) Mac=AEAD
		f := strings.Fields(line)
		if len(f) < 9 {
			continue
		}
		n++
		var hi, lo uint16
		if _, err := fmt.Sscanf(f[0], "0x%x,0x%x", &hi, &lo); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		c := CipherFromID(hi<<8 | lo)
		want := []string{f[2], f[4], f[5], f[6], f[7], f[8]}
		got := []string{c.IANAName(), c.Name(), c.ProtocolString(), "Kx=" + c.KeyExchangeMethod(), "Au=" + c.AuthenticationMethod(), "Enc=" + c.EncryptionMethod()}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("ours    %v\nopenssl %v", got, want)
		}
		if !CipherByName(f[4]).Equal(c) || !CipherByName(f[2]).Equal(c) {
			t.Errorf("%s / %s: lookup by name", f[4], f[2])
		}
	}
	if n < 150 {
		t.Errorf("only %d suites compared", n)
	}
	dhe := CipherByName("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256")
	if dhe.Name() != "DHE-RSA-AES128-GCM-SHA256" || dhe.ID() != 0x009E || dhe.KeyExchangeMethod() != "DH" || dhe.UsedBits() != 128 {
		t.Errorf("DHE-RSA: %s %#x %s %d", dhe.Name(), dhe.ID(), dhe.KeyExchangeMethod(), dhe.UsedBits())
	}
	if psk := CipherByName("PSK-AES256-GCM-SHA384"); psk.Protocol() != TlsV1_2 || psk.AuthenticationMethod() != "PSK" || psk.SupportedBits() != 256 {
		t.Errorf("PSK: %+v", psk.desc())
	}
}

// TestGoBackendRefusesWhatCryptoTLSLacks: a Configuration naming a suite
// crypto/tls does not implement fails on the go backend with
// ErrUnsupported naming it, instead of negotiating something else; the go
// backend does not list such suites.
func TestGoBackendRefusesWhatCryptoTLSLacks(t *testing.T) {
	for _, name := range []string{"DHE-RSA-AES128-GCM-SHA256", "PSK-AES128-GCM-SHA256", "TLS_AES_128_CCM_SHA256"} {
		var cfg Configuration
		cfg.SetBackend("go")
		cfg.SetCiphers([]Cipher{CipherByName("ECDHE-RSA-AES128-GCM-SHA256"), CipherByName(name)})
		_, err := NewClientEngine(cfg, "localhost")
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
		for _, c := range SupportedCiphersFor("go") {
			if c.Name() == name {
				t.Errorf("the go backend lists %s", name)
			}
		}
	}
	if SupportedCiphersFor("nonexistent") != nil {
		t.Error("an unknown backend has no ciphers")
	}
	if ActiveBackend() == "go" && len(SupportedCiphers()) != len(SupportedCiphersFor("go")) {
		t.Error("SupportedCiphers is the active backend's")
	}
}

func TestCipherLookup(t *testing.T) {
	c := CipherByName("ECDHE-RSA-AES128-GCM-SHA256")
	if c.IsNull() || c.Protocol() != TlsV1_2 || c.UsedBits() != 128 || c.SupportedBits() != 128 ||
		c.IANAName() != "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" || c.ID() != tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 {
		t.Errorf("lookup: %+v", c)
	}
	if !CipherByName("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").Equal(c) {
		t.Error("lookup by IANA name")
	}
	if !CipherByNameAndProtocol("TLS_AES_128_GCM_SHA256", TlsV1_3).Equal(CipherFromID(tls.TLS_AES_128_GCM_SHA256)) {
		t.Error("name + protocol")
	}
	if !CipherByNameAndProtocol("TLS_AES_128_GCM_SHA256", TlsV1_2).IsNull() || !CipherByName("NOPE").IsNull() {
		t.Error("mismatches must give the null cipher")
	}
	if d := CipherByName("DES-CBC3-SHA"); d.UsedBits() != 112 || d.SupportedBits() != 168 || d.Protocol() != UnknownProtocol {
		t.Errorf("3DES: %d/%d %v", d.UsedBits(), d.SupportedBits(), d.Protocol())
	}
	var null Cipher
	if null.Name() != "" || null.Protocol() != UnknownProtocol || null.UsedBits() != 0 || null.KeyExchangeMethod() != "" || !null.IsNull() {
		t.Error("null cipher")
	}
	got, unknown := ParseCiphers("ECDHE-RSA-AES128-GCM-SHA256::bogus:TLS_AES_256_GCM_SHA384")
	if len(got) != 2 || len(unknown) != 1 || unknown[0] != "bogus" {
		t.Errorf("ParseCiphers: %v %v", got, unknown)
	}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if c := CipherByName(s.Name); c.ID() != s.ID || c.IANAName() != s.Name {
			t.Errorf("%s: %#x %q", s.Name, c.ID(), c.IANAName())
		}
	}
	if len(SupportedCiphers()) != len(tls.CipherSuites())+len(tls.InsecureCipherSuites()) {
		t.Error("every crypto/tls suite must have a description")
	}
	for _, d := range DefaultCiphers() {
		if d.UsedBits() < 128 || strings.Contains(d.Name(), "RC4") {
			t.Errorf("weak default cipher %v", d)
		}
	}
}

func TestEllipticCurves(t *testing.T) {
	p256 := CurveFromShortName("prime256v1")
	if !p256.IsValid() || p256.NID() != 415 || !p256.IsTlsNamedCurve() || p256.TLSGroup() != tls.CurveP256 {
		t.Errorf("prime256v1: %+v", p256)
	}
	if CurveFromShortName("P-256") != p256 || CurveFromTLSGroup(tls.CurveP256) != p256 {
		t.Error("aliases")
	}
	for _, c := range curveTable {
		e := EllipticCurve{c.nid}
		if CurveFromShortName(e.ShortName()) != e || CurveFromLongName(e.LongName()) != e {
			t.Errorf("%s does not round-trip", c.short)
		}
	}
	var invalid EllipticCurve
	if invalid.IsValid() || invalid.ShortName() != "" || invalid.IsTlsNamedCurve() || CurveFromShortName("PRIME256V1").IsValid() || CurveFromShortName("").IsValid() {
		t.Error("invalid curves")
	}
	if len(SupportedEllipticCurves()) != 4 {
		t.Errorf("go backend curves: %v", SupportedEllipticCurves())
	}
}

func TestDiffieHellmanParameters(t *testing.T) {
	def := DefaultDiffieHellmanParameters()
	if !def.IsValid() || def.IsEmpty() || def.Error() != DHNoError || def.ErrorString() != "No error" {
		t.Fatalf("default: %v", def.ErrorString())
	}
	if back := ParseDiffieHellmanParameters(def.ToPem(), Pem); !back.IsValid() || !back.Equal(def) {
		t.Error("PEM round trip")
	}
	if back := ParseDiffieHellmanParameters(def.ToDer(), Der); !back.IsValid() || !back.Equal(def) {
		t.Error("DER round trip")
	}
	// OpenSSL's RFC 7919 group must load and be valid.
	dir := t.TempDir()
	runOpenSSL(t, dir, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "dh_param:ffdhe2048", "-out", "ffdhe.pem")
	if p := ParseDiffieHellmanParameters(readFile(t, dir+"/ffdhe.pem"), Pem); !p.IsValid() {
		t.Errorf("ffdhe2048 from openssl: %v", p.ErrorString())
	}
	tests := []struct {
		name string
		der  []byte
		want DHError
	}{
		{"garbage", []byte("garbage"), DHInvalidInputDataError},
		{"empty", nil, DHInvalidInputDataError},
		{"tiny prime", mustDHDer(t, "17", 2), DHUnsafeParametersError},
		{"not prime", mustDHDer(t, strings.Repeat("F", 256), 2), DHUnsafeParametersError},
		{"generator 1", mustDHDer(t, rfc3526Group14, 1), DHUnsafeParametersError},
	}
	for _, tc := range tests {
		if got := ParseDiffieHellmanParameters(tc.der, Der); got.Error() != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got.Error(), tc.want)
		}
	}
	if !(DiffieHellmanParameters{}).IsEmpty() {
		t.Error("zero value must be empty")
	}
}
