package ssl

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// runOpenSSL runs openssl with args in dir and returns stdout.
func runOpenSSL(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(requireOpenSSL(t), args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseKeyFromOpenSSL loads every key form OpenSSL 3 writes.
func TestParseKeyFromOpenSSL(t *testing.T) {
	dir := t.TempDir()
	gen := func(name string, args ...string) []byte {
		runOpenSSL(t, dir, append([]string{"genpkey", "-out", name}, args...)...)
		return readFile(t, filepath.Join(dir, name))
	}
	rsaPKCS8 := gen("rsa.pem", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048")
	ecPKCS8 := gen("ec.pem", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384")
	edPKCS8 := gen("ed.pem", "-algorithm", "ED25519")
	encPKCS8 := gen("enc.pem", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc", "-pass", "pass:1234")
	runOpenSSL(t, dir, "rsa", "-in", "rsa.pem", "-traditional", "-out", "rsa-trad.pem")
	runOpenSSL(t, dir, "rsa", "-in", "rsa.pem", "-traditional", "-aes128", "-passout", "pass:secret", "-out", "rsa-legacy-enc.pem")
	runOpenSSL(t, dir, "ec", "-in", "ec.pem", "-out", "ec-trad.pem")
	runOpenSSL(t, dir, "pkey", "-in", "rsa.pem", "-pubout", "-out", "rsa-pub.pem")
	runOpenSSL(t, dir, "pkey", "-in", "ec.pem", "-outform", "DER", "-out", "ec.der")
	runOpenSSL(t, dir, "pkey", "-in", "ec.pem", "-pubout", "-outform", "DER", "-out", "ec-pub.der")
	runOpenSSL(t, dir, "pkcs8", "-topk8", "-in", "ec.pem", "-outform", "DER", "-v2", "aes-256-cbc", "-passout", "pass:1234", "-out", "ec-enc.der")
	runOpenSSL(t, dir, "dsaparam", "-out", "dsaparam.pem", "1024")
	runOpenSSL(t, dir, "gendsa", "-out", "dsa.pem", "dsaparam.pem")
	runOpenSSL(t, dir, "dsa", "-in", "dsa.pem", "-out", "dsa-trad.pem")

	tests := []struct {
		name   string
		data   []byte
		alg    KeyAlgorithm
		format EncodingFormat
		typ    KeyType
		pass   string
		bits   int
	}{
		{"RSA PKCS#8", rsaPKCS8, Rsa, Pem, PrivateKey, "", 2048},
		{"RSA traditional", readFile(t, filepath.Join(dir, "rsa-trad.pem")), Rsa, Pem, PrivateKey, "", 2048},
		{"RSA traditional, passphrase ignored", readFile(t, filepath.Join(dir, "rsa-trad.pem")), Rsa, Pem, PrivateKey, "wrong", 2048},
		{"RSA legacy encrypted PEM", readFile(t, filepath.Join(dir, "rsa-legacy-enc.pem")), Rsa, Pem, PrivateKey, "secret", 2048},
		{"RSA public", readFile(t, filepath.Join(dir, "rsa-pub.pem")), Rsa, Pem, PublicKey, "", 2048},
		{"EC PKCS#8", ecPKCS8, Ec, Pem, PrivateKey, "", 384},
		{"EC traditional", readFile(t, filepath.Join(dir, "ec-trad.pem")), Ec, Pem, PrivateKey, "", 384},
		{"EC DER", readFile(t, filepath.Join(dir, "ec.der")), Ec, Der, PrivateKey, "", 384},
		{"EC public DER", readFile(t, filepath.Join(dir, "ec-pub.der")), Ec, Der, PublicKey, "", 384},
		{"EC encrypted PKCS#8 DER", readFile(t, filepath.Join(dir, "ec-enc.der")), Ec, Der, PrivateKey, "1234", 384},
		{"encrypted PKCS#8 PEM", encPKCS8, Ec, Pem, PrivateKey, "1234", 256},
		{"Ed25519 (Opaque)", edPKCS8, Opaque, Pem, PrivateKey, "", 256},
		{"DSA traditional", readFile(t, filepath.Join(dir, "dsa-trad.pem")), Dsa, Pem, PrivateKey, "", 1024},
		{"DSA PKCS#8", readFile(t, filepath.Join(dir, "dsa.pem")), Dsa, Pem, PrivateKey, "", 1024},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKey(tc.data, tc.alg, tc.format, tc.typ, []byte(tc.pass))
			if err != nil {
				t.Fatal(err)
			}
			if k.Length() != tc.bits || k.Type() != tc.typ || k.Algorithm() != tc.alg {
				t.Errorf("length %d type %v alg %v; want %d %v %v", k.Length(), k.Type(), k.Algorithm(), tc.bits, tc.typ, tc.alg)
			}
			// Round trips through our encodings.
			p, err := k.ToPem(nil)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseKey(p, tc.alg, Pem, tc.typ, nil)
			if err != nil || !back.Equal(k) {
				t.Errorf("ToPem round trip: %v", err)
			}
			back, err = ParseKey(k.ToDer(nil), tc.alg, Der, tc.typ, nil)
			if err != nil || !back.Equal(k) {
				t.Errorf("ToDer round trip: %v", err)
			}
		})
	}

	// Missing and wrong passphrases.
	for _, tc := range []struct {
		name   string
		data   []byte
		format EncodingFormat
		pass   string
	}{
		{"legacy, none", readFile(t, filepath.Join(dir, "rsa-legacy-enc.pem")), Pem, ""},
		{"legacy, wrong", readFile(t, filepath.Join(dir, "rsa-legacy-enc.pem")), Pem, "nope"},
		{"PKCS#8, none", encPKCS8, Pem, ""},
		{"PKCS#8, wrong", encPKCS8, Pem, "nope"},
		{"PKCS#8 DER, none", readFile(t, filepath.Join(dir, "ec-enc.der")), Der, ""},
		{"PKCS#8 DER, wrong", readFile(t, filepath.Join(dir, "ec-enc.der")), Der, "nope"},
	} {
		if _, err := ParseKey(tc.data, Opaque, tc.format, PrivateKey, []byte(tc.pass)); !errors.Is(err, ErrBadPassphrase) {
			t.Errorf("%s: err = %v, want ErrBadPassphrase", tc.name, err)
		}
	}
	// Wrong algorithm, wrong type, garbage.
	if _, err := ParseKey(ecPKCS8, Rsa, Pem, PrivateKey, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("wrong algorithm: %v", err)
	}
	if _, err := ParseKey(ecPKCS8, Ec, Pem, PublicKey, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("private key read as public: %v", err)
	}
	for _, garbage := range [][]byte{nil, []byte("garbage"), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")} {
		if _, err := ParseKey(garbage, Opaque, Pem, PrivateKey, nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("garbage %q: %v", garbage, err)
		}
		if _, err := ParseKey(garbage, Opaque, Der, PrivateKey, nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("garbage DER %q: %v", garbage, err)
		}
	}
}

// TestKeyToPemEncrypted checks that an encrypted key we write is readable by
// OpenSSL with the passphrase, and only with it.
func TestKeyToPemEncrypted(t *testing.T) {
	dir := t.TempDir()
	signer, err := pki.NewKey(pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	k := NewKey(signer)
	p, err := k.ToPem([]byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(p), "ENCRYPTED PRIVATE KEY") {
		t.Fatalf("not encrypted:\n%s", p)
	}
	path := filepath.Join(dir, "k.pem")
	if err := os.WriteFile(path, p, 0o600); err != nil {
		t.Fatal(err)
	}
	plain := runOpenSSL(t, dir, "pkey", "-in", "k.pem", "-passin", "pass:s3cret")
	back, err := ParseKey(plain, Ec, Pem, PrivateKey, nil)
	if err != nil || !back.Equal(k) {
		t.Errorf("openssl could not read our encrypted key back: %v", err)
	}
	cmd := exec.Command(requireOpenSSL(t), "pkey", "-in", "k.pem", "-passin", "pass:wrong")
	cmd.Dir = dir
	if err := cmd.Run(); err == nil {
		t.Error("openssl accepted a wrong passphrase")
	}
	if back, err := ParseKey(p, Ec, Pem, PrivateKey, []byte("s3cret")); err != nil || !back.Equal(k) {
		t.Errorf("ParseKey of our encrypted key: %v", err)
	}
	if k.ToDer([]byte("s3cret")) != nil {
		t.Error("ToDer with a passphrase must be empty, as in Qt")
	}
	pub := k.Public()
	pp, _ := pub.ToPem([]byte("ignored"))
	if !strings.Contains(string(pp), "BEGIN PUBLIC KEY") {
		t.Error("public keys are never encrypted")
	}
}

func TestKeyEquality(t *testing.T) {
	a, _ := pki.NewKey(pki.ECDSAP256)
	b, _ := pki.NewKey(pki.ECDSAP256)
	ka, kb := NewKey(a), NewKey(b)
	tests := []struct {
		x, y Key
		want bool
	}{
		{Key{}, Key{}, true},
		{ka, Key{}, false},
		{ka, ka, true},
		{ka, NewKey(a), true},
		{ka, kb, false},
		{ka, ka.Public(), false},
		{ka.Public(), NewKey(a.Public()), true},
	}
	for i, tc := range tests {
		if got := tc.x.Equal(tc.y); got != tc.want {
			t.Errorf("%d: Equal = %v, want %v", i, got, tc.want)
		}
	}
	if (Key{}).Length() != -1 || !(Key{}).IsNull() || (Key{}).ToDer(nil) != nil {
		t.Error("null key")
	}
	if _, err := (Key{}).ToPem(nil); err == nil {
		t.Error("null key ToPem must fail")
	}
	if !NewKey("not a key").IsNull() {
		t.Error("NewKey of a non-key must be null")
	}
}

// TestEncodedPublicKey: a public key Go has no type for (X448 here, as a
// TLS library hands it over) keeps its DER, algorithm and size; bad input
// is refused.
func TestEncodedPublicKey(t *testing.T) {
	der, err := asn1.Marshal(struct {
		Algo pkix.AlgorithmIdentifier
		Key  asn1.BitString
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 101, 111}}, asn1.BitString{Bytes: bytes.Repeat([]byte{9}, 56), BitLength: 448}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewEncodedPublicKey(der, Opaque, 448)
	if err != nil {
		t.Fatal(err)
	}
	if k.IsNull() || k.Type() != PublicKey || k.Algorithm() != Opaque || k.Length() != 448 || !bytes.Equal(k.ToDer(nil), der) {
		t.Errorf("key %v %v %d", k.Type(), k.Algorithm(), k.Length())
	}
	if p, err := k.ToPem(nil); err != nil || !bytes.Contains(p, []byte("BEGIN PUBLIC KEY")) {
		t.Errorf("PEM %q %v", p, err)
	}
	h := k.Handle().([]byte)
	h[0] ^= 0xff
	if !bytes.Equal(k.ToDer(nil), der) || !k.Public().Equal(k) {
		t.Error("Handle must return a copy; Public is the key itself")
	}
	if other, _ := NewEncodedPublicKey(der, Dh, 448); other.Equal(k) {
		t.Error("keys of different algorithms are not equal")
	}
	for _, bad := range []struct {
		der  []byte
		alg  KeyAlgorithm
		bits int
	}{
		{der[:len(der)-1], Opaque, 448},
		{append(bytes.Clone(der), 0), Opaque, 448},
		{nil, Dh, 2048},
		{der, Rsa, 448},
		{der, Opaque, 0},
	} {
		if k, err := NewEncodedPublicKey(bad.der, bad.alg, bad.bits); !errors.Is(err, ErrMalformed) || !k.IsNull() {
			t.Errorf("%x %v %d: %v", bad.der, bad.alg, bad.bits, err)
		}
	}
}
