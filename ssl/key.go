package ssl

import (
	"bytes"
	"crypto"
	//lint:ignore SA1019 DSA keys are parsed and encoded for Qt compatibility, never used to sign
	"crypto/dsa"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"

	"github.com/youmark/pkcs8"
)

// Key is QSslKey: a public or private key. The zero Key is Qt's null key.
// Key holds a crypto/ecdsa, crypto/rsa, crypto/ed25519, crypto/ecdh or
// crypto/dsa key; Handle returns it. A public key Go has no type for (a
// finite-field DH or X448 key-exchange key, an EC key on a curve such as
// brainpool) is held as its SubjectPublicKeyInfo DER (NewEncodedPublicKey).
type Key struct {
	typ KeyType
	alg KeyAlgorithm
	k   any
}

// pkcs8Options encrypts keys as OpenSSL 3 does by default (PBES2,
// AES-256-CBC), with a stronger PBKDF2 than its 2048 iterations.
var pkcs8Options = &pkcs8.Opts{
	Cipher:  pkcs8.AES256CBC,
	KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 16, IterationCount: 100000, HMACHash: crypto.SHA256},
}

// NewKey wraps a key from the crypto packages: *rsa.PrivateKey,
// *ecdsa.PrivateKey, ed25519.PrivateKey, *ecdh.PrivateKey, *dsa.PrivateKey or
// their public counterparts. Anything else gives the null Key.
func NewKey(k any) Key {
	switch t := k.(type) {
	case *rsa.PrivateKey:
		return Key{PrivateKey, Rsa, t}
	case *rsa.PublicKey:
		return Key{PublicKey, Rsa, t}
	case *ecdsa.PrivateKey:
		return Key{PrivateKey, Ec, t}
	case *ecdsa.PublicKey:
		return Key{PublicKey, Ec, t}
	case *dsa.PrivateKey:
		return Key{PrivateKey, Dsa, t}
	case *dsa.PublicKey:
		return Key{PublicKey, Dsa, t}
	case ed25519.PrivateKey:
		return Key{PrivateKey, Opaque, t}
	case ed25519.PublicKey:
		return Key{PublicKey, Opaque, t}
	case *ecdh.PrivateKey:
		return Key{PrivateKey, Opaque, t}
	case *ecdh.PublicKey:
		return Key{PublicKey, Opaque, t}
	}
	return Key{}
}

// encodedPublicKey is a public key Go has no type for, as a TLS library
// reported it: its SubjectPublicKeyInfo DER and its size in bits.
type encodedPublicKey struct {
	der  []byte
	bits int
}

// NewEncodedPublicKey wraps a public key Go has no type for — the
// finite-field DH key of a DHE exchange (Dh), an X448 key (Opaque, as Qt
// reports X25519 and X448 keys), an EC key on a curve crypto/ecdsa lacks
// (Ec) — from its SubjectPublicKeyInfo DER (i2d_PUBKEY) and its size in bits
// as OpenSSL counts it (EVP_PKEY_get_bits: the prime's for DH). Backends use
// it for Configuration.EphemeralServerKey. Algorithm and Length report alg
// and bits, ToDer and ToPem the DER, Handle a copy of it. Malformed DER, a
// non-positive size or an algorithm other than Dh, Ec or Opaque gives an
// error matching ErrMalformed.
func NewEncodedPublicKey(der []byte, alg KeyAlgorithm, bits int) (Key, error) {
	var spki struct {
		Algo      pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(der, &spki); err != nil || len(rest) > 0 || len(spki.PublicKey.Bytes) == 0 {
		return Key{}, malformed("not a SubjectPublicKeyInfo", err)
	}
	if alg != Dh && alg != Ec && alg != Opaque {
		return Key{}, malformed(fmt.Sprintf("an encoded public key cannot be a %s key", alg), nil)
	}
	if bits <= 0 {
		return Key{}, malformed(fmt.Sprintf("invalid key size %d", bits), nil)
	}
	return Key{PublicKey, alg, &encodedPublicKey{der: bytes.Clone(der), bits: bits}}, nil
}

// ParseKey decodes a key, as QSslKey's constructor does. alg is the expected
// algorithm; Opaque accepts any (Ed25519 keys only load that way, since Qt has
// no name for them). passphrase decrypts encrypted PEM (legacy "Proc-Type:
// 4,ENCRYPTED") and encrypted PKCS#8 (PEM or DER); it is ignored for keys that
// are not encrypted. A missing or wrong passphrase gives an error matching
// ErrBadPassphrase; undecodable data one matching ErrMalformed.
func ParseKey(data []byte, alg KeyAlgorithm, format EncodingFormat, typ KeyType, passphrase []byte) (Key, error) {
	var k any
	var err error
	switch format {
	case Pem:
		k, err = parsePemKey(data, typ, passphrase)
	case Der:
		k, err = parseDerKey(data, typ, passphrase)
	default:
		return Key{}, fmt.Errorf("ssl: unknown encoding format %d", int(format))
	}
	if err != nil {
		return Key{}, err
	}
	key := NewKey(k)
	if key.IsNull() {
		return Key{}, malformed(fmt.Sprintf("unsupported key type %T", k), nil)
	}
	if key.typ != typ {
		return Key{}, malformed(fmt.Sprintf("expected a %s, found a %s", typ, key.typ), nil)
	}
	if alg != Opaque && key.alg != alg {
		return Key{}, malformed(fmt.Sprintf("expected a %s key, found a %s key", alg, key.alg), nil)
	}
	return key, nil
}

func parsePemKey(data []byte, typ KeyType, passphrase []byte) (any, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, malformed("no PEM key found", nil)
		}
		switch block.Type {
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			if typ != PrivateKey {
				continue
			}
			der := block.Bytes
			//lint:ignore SA1019 legacy encrypted PEM keys must stay readable (we never write them)
			if x509.IsEncryptedPEMBlock(block) {
				if len(passphrase) == 0 {
					return nil, fmt.Errorf("ssl: encrypted key: %w", ErrBadPassphrase)
				}
				//lint:ignore SA1019 see above
				plain, err := x509.DecryptPEMBlock(block, passphrase)
				if err != nil {
					return nil, fmt.Errorf("ssl: encrypted key: %w", ErrBadPassphrase)
				}
				k, err := parsePrivateDer(plain, block.Type)
				if err != nil { // a wrong passphrase can decrypt to well-padded garbage
					return nil, fmt.Errorf("ssl: encrypted key: %w", ErrBadPassphrase)
				}
				return k, nil
			}
			if block.Type == "ENCRYPTED PRIVATE KEY" {
				return parseEncryptedPKCS8(der, passphrase)
			}
			return parsePrivateDer(der, block.Type)
		case "PUBLIC KEY", "RSA PUBLIC KEY":
			if typ != PublicKey {
				continue
			}
			return parsePublicDer(block.Bytes)
		}
	}
}

func parseEncryptedPKCS8(der, passphrase []byte) (any, error) {
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("ssl: encrypted PKCS#8 key: %w", ErrBadPassphrase)
	}
	k, err := pkcs8.ParsePKCS8PrivateKey(der, passphrase)
	if err != nil {
		var info struct {
			Algo pkix.AlgorithmIdentifier
			Data []byte
		}
		if _, aerr := asn1.Unmarshal(der, &info); aerr != nil {
			return nil, malformed("encrypted PKCS#8 key", aerr)
		}
		return nil, fmt.Errorf("ssl: encrypted PKCS#8 key: %w", ErrBadPassphrase)
	}
	return k, nil
}

func parseDerKey(der []byte, typ KeyType, passphrase []byte) (any, error) {
	if typ == PublicKey {
		return parsePublicDer(der)
	}
	if k, err := parsePrivateDer(der, ""); err == nil {
		return k, nil
	}
	if len(passphrase) > 0 {
		return parseEncryptedPKCS8(der, passphrase)
	}
	var info struct {
		Algo pkix.AlgorithmIdentifier
		Data []byte
	}
	if rest, err := asn1.Unmarshal(der, &info); err == nil && len(rest) == 0 && len(info.Data) > 0 {
		return nil, fmt.Errorf("ssl: encrypted PKCS#8 key: %w", ErrBadPassphrase)
	}
	return nil, malformed("DER private key", nil)
}

// parsePrivateDer tries the encoding the PEM type names, or every known one.
func parsePrivateDer(der []byte, pemType string) (any, error) {
	try := []func([]byte) (any, error){
		parsePKCS8,
		func(b []byte) (any, error) { return x509.ParsePKCS1PrivateKey(b) },
		func(b []byte) (any, error) { return x509.ParseECPrivateKey(b) },
		parseDSAPrivateKey,
	}
	switch pemType {
	case "RSA PRIVATE KEY":
		try = try[1:2]
	case "EC PRIVATE KEY":
		try = try[2:3]
	case "DSA PRIVATE KEY":
		try = try[3:4]
	case "PRIVATE KEY":
		try = try[0:1]
	}
	if len(der) > 1<<20 {
		return nil, malformed("private key larger than 1 MiB", nil)
	}
	var first error
	for _, f := range try {
		k, err := f(der)
		if err == nil {
			return k, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, malformed("private key", first)
}

func parsePublicDer(der []byte) (any, error) {
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS1PublicKey(der)
	if err != nil {
		return nil, malformed("public key", err)
	}
	return k, nil
}

// parsePKCS8 is x509.ParsePKCS8PrivateKey plus DSA, which it lacks.
func parsePKCS8(der []byte) (any, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err == nil {
		return k, nil
	}
	var p8 struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}
	if rest, aerr := asn1.Unmarshal(der, &p8); aerr != nil || len(rest) > 0 || !p8.Algo.Algorithm.Equal(oidDSA) {
		return nil, err
	}
	var params struct{ P, Q, G *big.Int }
	if _, aerr := asn1.Unmarshal(p8.Algo.Parameters.FullBytes, &params); aerr != nil {
		return nil, aerr
	}
	x := new(big.Int)
	if _, aerr := asn1.Unmarshal(p8.PrivateKey, &x); aerr != nil {
		return nil, aerr
	}
	if params.P == nil || params.Q == nil || params.G == nil || params.P.Sign() <= 0 || params.P.BitLen() > 16384 ||
		x.Sign() <= 0 || x.Cmp(params.Q) >= 0 {
		return nil, errors.New("invalid DSA private key")
	}
	y := new(big.Int).Exp(params.G, x, params.P)
	return &dsa.PrivateKey{PublicKey: dsa.PublicKey{Parameters: dsa.Parameters{P: params.P, Q: params.Q, G: params.G}, Y: y}, X: x}, nil
}

// dsaPrivateKey is OpenSSL's traditional DSA key encoding.
type dsaPrivateKey struct {
	Version       int
	P, Q, G, Y, X *big.Int
}

func parseDSAPrivateKey(der []byte) (any, error) {
	var k dsaPrivateKey
	rest, err := asn1.Unmarshal(der, &k)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 || k.Version != 0 || k.P == nil || k.Q == nil || k.G == nil || k.Y == nil || k.X == nil ||
		k.P.Sign() <= 0 || k.Q.Sign() <= 0 || k.G.Sign() <= 0 || k.Y.Sign() <= 0 || k.X.Sign() <= 0 {
		return nil, errors.New("invalid DSA private key")
	}
	return &dsa.PrivateKey{PublicKey: dsa.PublicKey{Parameters: dsa.Parameters{P: k.P, Q: k.Q, G: k.G}, Y: k.Y}, X: k.X}, nil
}

// IsNull reports whether k is the null key.
func (k Key) IsNull() bool { return k.k == nil }

// Type reports whether k is a private or a public key.
func (k Key) Type() KeyType { return k.typ }

// Algorithm returns the key's algorithm (Opaque for Ed25519 and X25519).
func (k Key) Algorithm() KeyAlgorithm { return k.alg }

// Handle returns the underlying crypto key (nil for the null key); for a key
// Go has no type for (NewEncodedPublicKey), its SubjectPublicKeyInfo DER as
// a []byte.
func (k Key) Handle() any {
	if e, ok := k.k.(*encodedPublicKey); ok {
		return bytes.Clone(e.der)
	}
	return k.k
}

// Public returns the public half of a private key, or k itself.
func (k Key) Public() Key {
	if s, ok := k.k.(interface{ Public() crypto.PublicKey }); ok && k.typ == PrivateKey {
		return NewKey(s.Public())
	}
	if d, ok := k.k.(*dsa.PrivateKey); ok {
		return NewKey(&d.PublicKey)
	}
	return k
}

// Length returns the key size in bits as OpenSSL counts it, or -1 for the null key.
func (k Key) Length() int {
	switch t := k.k.(type) {
	case *rsa.PrivateKey:
		return t.N.BitLen()
	case *rsa.PublicKey:
		return t.N.BitLen()
	case *ecdsa.PrivateKey:
		return t.Curve.Params().BitSize
	case *ecdsa.PublicKey:
		return t.Curve.Params().BitSize
	case *dsa.PrivateKey:
		return t.P.BitLen()
	case *dsa.PublicKey:
		return t.P.BitLen()
	case ed25519.PrivateKey, ed25519.PublicKey:
		return 256
	case *ecdh.PrivateKey:
		return ecdhBits(t.Curve())
	case *ecdh.PublicKey:
		return ecdhBits(t.Curve())
	case *encodedPublicKey:
		return t.bits
	}
	return -1
}

func ecdhBits(c ecdh.Curve) int {
	switch c {
	case ecdh.X25519():
		return 253
	case ecdh.P256():
		return 256
	case ecdh.P384():
		return 384
	case ecdh.P521():
		return 521
	}
	return -1
}

// ToDer returns the DER encoding: the traditional form for RSA, EC and DSA
// private keys, PKCS#8 for others, SubjectPublicKeyInfo for public keys.
// As in Qt, a private key with a non-empty passphrase gives nil (encrypted
// DER is not a format), as do null keys.
func (k Key) ToDer(passphrase []byte) []byte {
	if k.k == nil || (k.typ == PrivateKey && len(passphrase) > 0) {
		return nil
	}
	der, _, err := k.encode()
	if err != nil {
		return nil
	}
	return der
}

// ToPem returns the PEM encoding. A private key with a non-empty passphrase
// is written as encrypted PKCS#8 (PBES2, AES-256-CBC, PBKDF2-HMAC-SHA256) —
// stronger than the DES-EDE3 legacy PEM Qt writes; OpenSSL and Qt read both.
// Public keys are never encrypted.
func (k Key) ToPem(passphrase []byte) ([]byte, error) {
	if k.k == nil {
		return nil, errors.New("ssl: null key")
	}
	if k.typ == PrivateKey && len(passphrase) > 0 {
		der, err := pkcs8.MarshalPrivateKey(k.k, passphrase, pkcs8Options)
		if err != nil {
			return nil, fmt.Errorf("ssl: encrypting key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), nil
	}
	der, typ, err := k.encode()
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), nil
}

func (k Key) encode() ([]byte, string, error) {
	switch t := k.k.(type) {
	case *rsa.PrivateKey:
		return x509.MarshalPKCS1PrivateKey(t), "RSA PRIVATE KEY", nil
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(t)
		return der, "EC PRIVATE KEY", err
	case *dsa.PrivateKey:
		der, err := asn1.Marshal(dsaPrivateKey{0, t.P, t.Q, t.G, t.Y, t.X})
		return der, "DSA PRIVATE KEY", err
	case *dsa.PublicKey:
		der, err := marshalDSAPublicKey(t)
		return der, "PUBLIC KEY", err
	case *encodedPublicKey:
		return bytes.Clone(t.der), "PUBLIC KEY", nil
	}
	if k.typ == PrivateKey {
		der, err := x509.MarshalPKCS8PrivateKey(k.k)
		return der, "PRIVATE KEY", err
	}
	der, err := x509.MarshalPKIXPublicKey(k.k)
	return der, "PUBLIC KEY", err
}

var oidDSA = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}

func marshalDSAPublicKey(k *dsa.PublicKey) ([]byte, error) {
	params, err := asn1.Marshal(struct{ P, Q, G *big.Int }{k.P, k.Q, k.G})
	if err != nil {
		return nil, err
	}
	y, err := asn1.Marshal(k.Y)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(struct {
		Algo      pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}{pkix.AlgorithmIdentifier{Algorithm: oidDSA, Parameters: asn1.RawValue{FullBytes: params}},
		asn1.BitString{Bytes: y, BitLength: 8 * len(y)}})
}

// Equal reports Qt's key equality: both null, or the same algorithm, type,
// length and encoding.
func (k Key) Equal(o Key) bool {
	if k.k == nil || o.k == nil {
		return k.k == nil && o.k == nil
	}
	if k.alg != o.alg || k.typ != o.typ || k.Length() != o.Length() {
		return false
	}
	return bytes.Equal(k.ToDer(nil), o.ToDer(nil))
}
