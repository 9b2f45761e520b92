package ssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// weakSpec describes a certificate internal/pki cannot mint: a chosen key
// and signature algorithm.
type weakSpec struct {
	cn      string
	ca      bool
	key     crypto.Signer
	sigAlg  x509.SignatureAlgorithm // 0: crypto/x509's choice for the issuer's key
	expired bool
}

func rsaKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mintWeak mints s under parent (self-signed when parent is nil).
func mintWeak(t testing.TB, parent *pki.Cert, s weakSpec) *pki.Cert {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)), Subject: pkix.Name{CommonName: s.cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		BasicConstraintsValid: true, IsCA: s.ca, SignatureAlgorithm: s.sigAlg,
	}
	if s.expired {
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-72*time.Hour), now.Add(-48*time.Hour)
	}
	if s.ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	signer, signerKey := tmpl, s.key
	if parent != nil {
		signer, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, s.key.Public(), signerKey)
	if err != nil {
		t.Fatal(err)
	}
	x, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &pki.Cert{Cert: x, Key: s.key}
}

// resignMD5 returns c re-signed by issuer (an RSA key) with md5WithRSA,
// which crypto/x509 refuses to produce; forge corrupts the signature.
func resignMD5(t testing.TB, c, issuer *pki.Cert, forge bool) *pki.Cert {
	t.Helper()
	md5RSA := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}, Parameters: asn1.NullRawValue}
	algDER, err := asn1.Marshal(md5RSA)
	if err != nil {
		t.Fatal(err)
	}
	// TBSCertificate: [0] version, serialNumber, signature, ...; replace the
	// third field.
	var tbs asn1.RawValue
	if _, err := asn1.Unmarshal(c.Cert.RawTBSCertificate, &tbs); err != nil {
		t.Fatal(err)
	}
	var fields []asn1.RawValue
	for rest := tbs.Bytes; len(rest) > 0; {
		var f asn1.RawValue
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			t.Fatal(err)
		}
		fields = append(fields, f)
	}
	var body []byte
	for i, f := range fields {
		if i == 2 {
			body = append(body, algDER...)
			continue
		}
		body = append(body, f.FullBytes...)
	}
	newTBS, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(newTBS)
	sig, err := rsa.SignPKCS1v15(rand.Reader, issuer.Key.(*rsa.PrivateKey), crypto.MD5, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	if forge {
		sig[len(sig)/2] ^= 0x5a
	}
	der, err := asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg pkix.AlgorithmIdentifier
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: newTBS}, md5RSA, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}})
	if err != nil {
		t.Fatal(err)
	}
	x, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if x.SignatureAlgorithm != x509.MD5WithRSA {
		t.Fatalf("re-signed certificate has %v", x.SignatureAlgorithm)
	}
	return &pki.Cert{Cert: x, Key: c.Key}
}

// weakChains are the chains with keys or signatures below OpenSSL's
// security level 2, with what Qt 6.4.2 on OpenSSL 3.0 reports for them
// (docs/qt-measured-verification.md §3): UnspecifiedError at the
// certificate, in OpenSSL's order. Shared by TestVerifyWeak and the OpenSSL
// oracle.
func weakChains(t testing.TB) []badChain {
	t.Helper()
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Weak Test Root", IsCA: true})
	inter := root.MustIssue(pki.Spec{CommonName: "Weak Test Intermediate", IsCA: true})
	rsaInter := root.MustIssue(pki.Spec{CommonName: "RSA Intermediate", IsCA: true, Key: pki.RSA2048})
	rsa1024 := mintWeak(t, inter, weakSpec{cn: "rsa1024.test", key: rsaKey(t, 1024)})
	rsa1024exp := mintWeak(t, inter, weakSpec{cn: "rsa1024exp.test", key: rsaKey(t, 1024), expired: true})
	sha1Leaf := mintWeak(t, inter, weakSpec{cn: "sha1.test", key: ecKey(t), sigAlg: x509.ECDSAWithSHA1})
	md5Leaf := resignMD5(t, mintWeak(t, rsaInter, weakSpec{cn: "md5.test", key: ecKey(t)}), rsaInter, false)
	md5Forged := resignMD5(t, mintWeak(t, rsaInter, weakSpec{cn: "md5forged.test", key: ecKey(t)}), rsaInter, true)
	weakInter := mintWeak(t, root, weakSpec{cn: "RSA-1024 Intermediate", ca: true, key: rsaKey(t, 1024)})
	underWeak := weakInter.MustIssue(pki.Spec{CommonName: "under-weak.test", DNSNames: []string{"localhost"}})
	sha1Inter := mintWeak(t, root, weakSpec{cn: "SHA-1 Intermediate", ca: true, key: ecKey(t), sigAlg: x509.ECDSAWithSHA1})
	underSHA1 := sha1Inter.MustIssue(pki.Spec{CommonName: "under-sha1.test", DNSNames: []string{"localhost"}})
	weakRoot := mintWeak(t, nil, weakSpec{cn: "RSA-1024 Root", ca: true, key: rsaKey(t, 1024)})
	interWR := weakRoot.MustIssue(pki.Spec{CommonName: "Under RSA-1024 Root", IsCA: true})
	leafWR := interWR.MustIssue(pki.Spec{CommonName: "weak-root.test", DNSNames: []string{"localhost"}})
	sha1Root := mintWeak(t, nil, weakSpec{cn: "SHA-1 Root", ca: true, key: ecKey(t), sigAlg: x509.ECDSAWithSHA1})
	interSR := sha1Root.MustIssue(pki.Spec{CommonName: "Under SHA-1 Root", IsCA: true})
	leafSR := interSR.MustIssue(pki.Spec{CommonName: "sha1-root.test", DNSNames: []string{"localhost"}})
	strongRSA := inter.MustIssue(pki.Spec{CommonName: "rsa2048.test", DNSNames: []string{"localhost"}, Key: pki.RSA2048})

	return []badChain{
		{name: "RSA-2048 leaf", chain: []*pki.Cert{strongRSA, inter}, root: root},
		{name: "RSA-1024 leaf", chain: []*pki.Cert{rsa1024, inter}, root: root,
			want: []wantErr{{UnspecifiedError, 0}}},
		{name: "RSA-1024 expired leaf", chain: []*pki.Cert{rsa1024exp, inter}, root: root,
			want: []wantErr{{UnspecifiedError, 0}, {CertificateExpired, 0}}},
		{name: "SHA-1 signed leaf", chain: []*pki.Cert{sha1Leaf, inter}, root: root,
			want: []wantErr{{UnspecifiedError, 0}}},
		{name: "MD5 signed leaf", chain: []*pki.Cert{md5Leaf, rsaInter}, root: root,
			want: []wantErr{{UnspecifiedError, 0}}},
		{name: "MD5 signed leaf, forged signature", chain: []*pki.Cert{md5Forged, rsaInter}, root: root,
			want: []wantErr{{UnspecifiedError, 0}, {CertificateSignatureFailed, 0}}},
		{name: "RSA-1024 intermediate", chain: []*pki.Cert{underWeak, weakInter}, root: root,
			want: []wantErr{{UnspecifiedError, 1}}},
		{name: "SHA-1 signed intermediate", chain: []*pki.Cert{underSHA1, sha1Inter}, root: root,
			want: []wantErr{{UnspecifiedError, 1}}},
		{name: "RSA-1024 trust anchor", chain: []*pki.Cert{leafWR, interWR}, root: weakRoot,
			want: []wantErr{{UnspecifiedError, -1}}},
		{name: "SHA-1 self-signature on the trust anchor", chain: []*pki.Cert{leafSR, interSR}, root: sha1Root},
		// OpenSSL reports the untrusted chain with the leaf-key error's code
		// again (build_chain: "a preliminary error has become final"), so Qt
		// lists UnspecifiedError twice and no UnableToGetLocalIssuerCertificate:
		// ignoring the weak key would then ignore the missing issuer too.
		// Deliberately not reproduced.
		{name: "RSA-1024 leaf, missing intermediate", chain: []*pki.Cert{rsa1024}, root: root,
			want:    []wantErr{{UnspecifiedError, 0}, {UnableToGetLocalIssuerCertificate, 0}, {UnableToVerifyFirstCertificate, 0}},
			openssl: []wantErr{{UnspecifiedError, 0}, {UnspecifiedError, 0}, {UnableToVerifyFirstCertificate, 0}}},
	}
}

// TestVerifyWeak: keys and signatures below security level 2 are errors in
// the list, UnspecifiedError as Qt reports them, each with a detail naming
// what is weak; the signature of a weak-digest certificate is still checked.
func TestVerifyWeak(t *testing.T) {
	details := map[string][]string{
		"RSA-1024 leaf":                       {"EE certificate key too weak: RSA 1024 bits (80 bits of security)"},
		"RSA-1024 expired leaf":               {"EE certificate key too weak: RSA 1024 bits", ""},
		"SHA-1 signed leaf":                   {"CA signature digest algorithm too weak: ECDSA-SHA1 (SHA-1)"},
		"MD5 signed leaf":                     {"CA signature digest algorithm too weak: MD5-RSA (MD5)"},
		"MD5 signed leaf, forged signature":   {"CA signature digest algorithm too weak: MD5-RSA (MD5)", ""},
		"RSA-1024 intermediate":               {"CA certificate key too weak: RSA 1024 bits"},
		"SHA-1 signed intermediate":           {"CA signature digest algorithm too weak: ECDSA-SHA1"},
		"RSA-1024 trust anchor":               {"CA certificate key too weak: RSA 1024 bits"},
		"RSA-1024 leaf, missing intermediate": {"EE certificate key too weak", "", ""},
	}
	for _, tc := range weakChains(t) {
		t.Run(tc.name, func(t *testing.T) {
			chain := certsOf(tc.chain)
			got := VerifyChain(chain, VerifyOptions{Roots: []Certificate{certOf(tc.root)}, HostName: "localhost"})
			if want := tc.expected(chain); !sameErrors(got, want) {
				t.Fatalf("got  %v\nwant %v", got, want)
			}
			for i, d := range details[tc.name] {
				if !strings.HasPrefix(got[i].Detail(), d) || (d == "") != (got[i].Detail() == "") {
					t.Errorf("error %d: detail %q, want prefix %q", i, got[i].Detail(), d)
				}
				if d != "" && (got[i].Error() != got[i].Detail() || !strings.Contains(got[i].String(), d)) {
					t.Errorf("error %d: Error() %q and String() %q must name what is weak", i, got[i].Error(), got[i].String())
				}
			}
			// Ignoring exactly the listed errors is what it takes to accept the chain.
			if len(got) > 0 && !ContainsError(got, NewError(UnspecifiedError, got[0].Certificate)) {
				t.Error("the weak-key error must match an ignore entry made with NewError (Qt's equality)")
			}
		})
	}
}

// TestSecurityBits pins the ratings to OpenSSL's (BN_security_bits and the
// curve order halved).
func TestSecurityBits(t *testing.T) {
	tests := []struct{ l, n, want int }{
		{512, -1, 0}, {1024, -1, 80}, {2047, -1, 80}, {2048, -1, 112}, {3072, -1, 128},
		{7680, -1, 192}, {15360, -1, 256}, {2048, 160, 80}, {2048, 224, 112}, {3072, 256, 128}, {1024, 140, 0},
	}
	for _, tc := range tests {
		if got := bnSecurityBits(tc.l, tc.n); got != tc.want {
			t.Errorf("bnSecurityBits(%d, %d) = %d, want %d", tc.l, tc.n, got, tc.want)
		}
	}
	for _, c := range []struct {
		curve elliptic.Curve
		bits  int
	}{{elliptic.P224(), 112}, {elliptic.P256(), 128}, {elliptic.P384(), 192}, {elliptic.P521(), 260}} {
		k, err := ecdsa.GenerateKey(c.curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if bits, _, ok := keySecurityBits(&k.PublicKey); !ok || bits != c.bits {
			t.Errorf("%s: %d bits, want %d", c.curve.Params().Name, bits, c.bits)
		}
	}
	if _, _, ok := keySecurityBits(nil); ok {
		t.Error("an unknown key type must not be rated")
	}
}

// TestWeakKeyHandshake: over a real handshake the weak leaf key fails the
// connection with the detail as the error string, and an ignore list made
// of exactly that error lets it through.
func TestWeakKeyHandshake(t *testing.T) {
	checkNoLeaks(t)
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Weak Handshake Root", IsCA: true})
	leaf := mintWeak(t, root, weakSpec{cn: "localhost", key: rsaKey(t, 1024)})
	runModes(t, func(t *testing.T, m backendMode) {
		// The go backend serves the weak key (OpenSSL at security level 2
		// refuses to load it); the client under test is m's.
		scfg := Configuration{}
		scfg.SetBackend("go")
		scfg.SetLocalCertificate(certOf(leaf))
		scfg.SetPrivateKey(NewKey(leaf.Key))
		ccfg := m.apply(Configuration{})
		ccfg.SetCaCertificates([]Certificate{certOf(root)})

		var got []Error
		client, _, cOK, _ := handshakePair(t, ccfg, scfg, func(c, _ *Socket) {
			c.OnSslErrors(func(errs []Error) { got = errs })
		})
		if cOK || len(got) != 1 || got[0].Code != UnspecifiedError || !got[0].Certificate.Equal(certOf(leaf)) {
			t.Fatalf("weak key: encrypted %v, errors %v", cOK, got)
		}
		if !strings.Contains(client.ErrorString(), "EE certificate key too weak: RSA 1024 bits") {
			t.Errorf("error string %q does not say what is weak", client.ErrorString())
		}

		client, _, cOK, _ = handshakePair(t, ccfg, scfg, func(c, _ *Socket) {
			c.IgnoreSslErrorList([]Error{NewError(UnspecifiedError, certOf(leaf))})
		})
		if !cOK || len(client.SslHandshakeErrors()) != 1 {
			t.Errorf("ignored weak key: encrypted %v, handshake errors %v", cOK, client.SslHandshakeErrors())
		}
	})
}
