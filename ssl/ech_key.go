package ssl

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/hpke"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"slices"
)

// Encrypted Client Hello keys of a server, and their files.
//
// The file format is the PEM pair OpenSSL's ECH support and
// draft-farrell-tls-pemesni use: for each key, its private key as PKCS#8
// ("PRIVATE KEY": X25519 for DHKEM(X25519, HKDF-SHA256), or an EC key for
// the P-256, P-384 and P-521 DHKEMs), followed by an "ECHCONFIG" block
// holding the base64 of an ECHConfigList with the key's one ECHConfig.
// A file may hold several pairs, newest first:
//
//	-----BEGIN PRIVATE KEY-----
//	MC4CAQAwBQYDK2VuBCIEIP…
//	-----END PRIVATE KEY-----
//	-----BEGIN ECHCONFIG-----
//	AEX+DQBBpQAgACD…
//	-----END ECHCONFIG-----

// HPKE identifiers (RFC 9180 §7).
const (
	hpkeDHKEMP256   = 0x0010
	hpkeDHKEMP384   = 0x0011
	hpkeDHKEMP521   = 0x0012
	hpkeDHKEMX25519 = 0x0020
	hpkeHKDFSHA256  = 0x0001
	hpkeAES128GCM   = 0x0001
	hpkeAES256GCM   = 0x0002
	hpkeChaCha20    = 0x0003
)

// EncryptedClientHelloKey is one Encrypted Client Hello (ECH) key of a
// server: an ECHConfig, which clients receive in an ECHConfigList, and the
// HPKE private key that opens what they encrypt with it. Keys are made by
// GenerateEncryptedClientHelloKey, NewEncryptedClientHelloKey or read from
// a file (LoadEncryptedClientHelloKeys) and set with
// Configuration.SetEncryptedClientHelloKeys. Beyond Qt, which has no ECH.
//
// The private key never appears in String, GoString or any error; the
// zero value is a null key.
type EncryptedClientHelloKey struct {
	config      echConfig
	private     []byte // HPKE SerializePrivateKey form (crypto/tls's PrivateKey)
	pkcs8       []byte // the private key as PKCS#8, for files
	sendAsRetry bool
}

// GenerateEncryptedClientHelloKey makes a new ECH key: an X25519 key pair
// (crypto/ecdh) and its ECHConfig — DHKEM(X25519, HKDF-SHA256), with
// HKDF-SHA256 and AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305, a random
// config id — naming publicName, the name clients put in the clear outer
// ClientHello (a DNS name of two labels or more; the server's certificate
// should be valid for it, so clients can authenticate a rejection). The
// key's configuration is sent as a retry configuration.
func GenerateEncryptedClientHelloKey(publicName string) (EncryptedClientHelloKey, error) {
	if !validECHPublicName(publicName) {
		return EncryptedClientHelloKey{}, invalidUserData(fmt.Sprintf("the ECH public name %q is not a DNS name of two labels or more", publicName))
	}
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return EncryptedClientHelloKey{}, err
	}
	var id [1]byte
	if _, err := rand.Read(id[:]); err != nil {
		return EncryptedClientHelloKey{}, err
	}
	c := echConfig{configID: id[0], kem: hpkeDHKEMX25519, publicKey: priv.PublicKey().Bytes(),
		suites:     []echCipherSuite{{hpkeHKDFSHA256, hpkeAES128GCM}, {hpkeHKDFSHA256, hpkeAES256GCM}, {hpkeHKDFSHA256, hpkeChaCha20}},
		publicName: publicName}
	if c.raw, err = c.marshal(); err != nil {
		return EncryptedClientHelloKey{}, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return EncryptedClientHelloKey{}, err
	}
	return EncryptedClientHelloKey{config: c, private: priv.Bytes(), pkcs8: pkcs8, sendAsRetry: true}, nil
}

// NewEncryptedClientHelloKey pairs an ECHConfig (or an ECHConfigList
// holding exactly one) with its private key, as PKCS#8 DER. It checks that
// the configuration parses and is usable, and that the private key is the
// one of the configuration's public key. The key is sent as a retry
// configuration (see SetSendAsRetry).
func NewEncryptedClientHelloKey(config, pkcs8 []byte) (EncryptedClientHelloKey, error) {
	c, err := parseOneECHConfig(config)
	if err != nil {
		return EncryptedClientHelloKey{}, err
	}
	if why := c.usable(); why != "" {
		return EncryptedClientHelloKey{}, invalidUserData("the ECH configuration cannot be used: " + why)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return EncryptedClientHelloKey{}, invalidUserData("the ECH private key is not a PKCS#8 private key") // no detail: it is secret
	}
	var priv *ecdh.PrivateKey
	switch k := parsed.(type) {
	case *ecdh.PrivateKey:
		priv = k
	case *ecdsa.PrivateKey:
		if priv, err = k.ECDH(); err != nil {
			return EncryptedClientHelloKey{}, invalidUserData("the ECH private key's curve has no HPKE KEM")
		}
	default:
		return EncryptedClientHelloKey{}, invalidUserData(fmt.Sprintf("the ECH private key is a %T, not an X25519 or NIST curve key", parsed))
	}
	want := map[ecdh.Curve]uint16{ecdh.X25519(): hpkeDHKEMX25519, ecdh.P256(): hpkeDHKEMP256,
		ecdh.P384(): hpkeDHKEMP384, ecdh.P521(): hpkeDHKEMP521}[priv.Curve()]
	if want != c.kem {
		return EncryptedClientHelloKey{}, invalidUserData(fmt.Sprintf("the ECH private key does not suit the configuration's KEM 0x%04x", c.kem))
	}
	kem, err := hpke.NewKEM(c.kem)
	if err != nil {
		return EncryptedClientHelloKey{}, invalidUserData(fmt.Sprintf("KEM 0x%04x is not supported", c.kem))
	}
	hk, err := kem.NewPrivateKey(priv.Bytes())
	if err != nil || !bytes.Equal(hk.PublicKey().Bytes(), c.publicKey) {
		return EncryptedClientHelloKey{}, invalidUserData(fmt.Sprintf("the ECH private key does not belong to configuration %d (public name %q)", c.configID, c.publicName))
	}
	return EncryptedClientHelloKey{config: c, private: priv.Bytes(), pkcs8: slices.Clone(pkcs8), sendAsRetry: true}, nil
}

// parseOneECHConfig reads an ECHConfig, or an ECHConfigList of one.
func parseOneECHConfig(data []byte) (echConfig, error) {
	if list, err := parseECHConfigList(data); err == nil {
		if len(list) != 1 {
			return echConfig{}, fmt.Errorf("%w: a key needs exactly one configuration, the list has %d", ErrMalformedECHConfigList, len(list))
		}
		return list[0], nil
	}
	wrapped, err := marshalECHConfigList(data)
	if err != nil {
		return echConfig{}, fmt.Errorf("%w: %v", ErrMalformedECHConfigList, err)
	}
	list, err := parseECHConfigList(wrapped)
	if err != nil {
		return echConfig{}, err
	}
	if len(list) != 1 {
		return echConfig{}, fmt.Errorf("%w: not one ECHConfig of version 0xfe0d", ErrMalformedECHConfigList)
	}
	return list[0], nil
}

// IsNull reports whether k holds no key.
func (k EncryptedClientHelloKey) IsNull() bool { return len(k.private) == 0 }

// Config returns the ECHConfig, as clients receive it.
func (k EncryptedClientHelloKey) Config() []byte { return slices.Clone(k.config.raw) }

// ConfigID returns the configuration's id (clients name it in the outer ClientHello).
func (k EncryptedClientHelloKey) ConfigID() uint8 { return k.config.configID }

// PublicName returns the name clients send in clear with this configuration.
func (k EncryptedClientHelloKey) PublicName() string { return k.config.publicName }

// SendAsRetry reports whether a server sends this key's configuration to a
// client whose ECH it could not open (RFC 9849 retry configurations).
func (k EncryptedClientHelloKey) SendAsRetry() bool { return k.sendAsRetry }

// SetSendAsRetry chooses whether the key's configuration is sent as a
// retry configuration: keep a retired key (still opening what clients with
// an old configuration send) but stop handing it out.
func (k *EncryptedClientHelloKey) SetSendAsRetry(on bool) { k.sendAsRetry = on }

// String describes the key without its secret.
func (k EncryptedClientHelloKey) String() string {
	if k.IsNull() {
		return "ECH key (null)"
	}
	return fmt.Sprintf("ECH key (config %d, public name %s, KEM 0x%04x)", k.config.configID, k.config.publicName, k.config.kem)
}

// GoString is String: %#v never prints the private key.
func (k EncryptedClientHelloKey) GoString() string { return k.String() }

// MarshalECHConfigList returns the ECHConfigList clients need for keys
// (Configuration.SetEncryptedClientHelloConfigList; in DNS, the "ech"
// parameter of an HTTPS record), their configurations in order.
func MarshalECHConfigList(keys ...EncryptedClientHelloKey) ([]byte, error) {
	var configs [][]byte
	for _, k := range keys {
		if k.IsNull() {
			return nil, invalidUserData("a null ECH key has no configuration")
		}
		configs = append(configs, k.config.raw)
	}
	if len(configs) == 0 {
		return nil, invalidUserData("no ECH key")
	}
	return marshalECHConfigList(configs...)
}

// Pem names of the key file's blocks.
const (
	pemPrivateKey = "PRIVATE KEY"
	pemECHConfig  = "ECHCONFIG"
)

// MarshalEncryptedClientHelloKeys encodes keys in the key file format
// (PEM: each key's PKCS#8 private key, then its ECHConfigList), in order.
// The result holds private keys: write it with mode 0600.
func MarshalEncryptedClientHelloKeys(keys ...EncryptedClientHelloKey) ([]byte, error) {
	var out bytes.Buffer
	for _, k := range keys {
		if k.IsNull() || len(k.pkcs8) == 0 {
			return nil, invalidUserData("a null ECH key cannot be written")
		}
		list, err := marshalECHConfigList(k.config.raw)
		if err != nil {
			return nil, err
		}
		_ = pem.Encode(&out, &pem.Block{Type: pemPrivateKey, Bytes: k.pkcs8})
		_ = pem.Encode(&out, &pem.Block{Type: pemECHConfig, Bytes: list})
	}
	return out.Bytes(), nil
}

// ErrMalformedECHKeyFile matches (errors.Is) a key file that is not in the
// ECH key file format; it also matches ErrInvalidUserData.
var ErrMalformedECHKeyFile = fmt.Errorf("%w: malformed ECH key file", ErrInvalidUserData)

// ParseEncryptedClientHelloKeys reads keys in the key file format: pairs
// of a PRIVATE KEY block and the ECHCONFIG block of its configuration.
// Other PEM blocks and text between blocks are not allowed; errors never
// quote the private key.
func ParseEncryptedClientHelloKeys(data []byte) ([]EncryptedClientHelloKey, error) {
	var keys []EncryptedClientHelloKey
	rest := data
	for n := 1; ; n++ {
		var keyBlock, cfgBlock *pem.Block
		keyBlock, rest = pem.Decode(rest)
		if keyBlock == nil {
			if len(bytes.TrimSpace(rest)) > 0 {
				return nil, fmt.Errorf("%w: key %d: not a PEM block (truncated or corrupt?)", ErrMalformedECHKeyFile, n)
			}
			break
		}
		if keyBlock.Type != pemPrivateKey || len(keyBlock.Headers) > 0 {
			return nil, fmt.Errorf("%w: key %d: a %q block where a %q block belongs", ErrMalformedECHKeyFile, n, keyBlock.Type, pemPrivateKey)
		}
		cfgBlock, rest = pem.Decode(rest)
		if cfgBlock == nil || cfgBlock.Type != pemECHConfig {
			return nil, fmt.Errorf("%w: key %d: the private key is not followed by its %q block", ErrMalformedECHKeyFile, n, pemECHConfig)
		}
		k, err := NewEncryptedClientHelloKey(cfgBlock.Bytes, keyBlock.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: key %d: %w", ErrMalformedECHKeyFile, n, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no key in it", ErrMalformedECHKeyFile)
	}
	return keys, nil
}

// LoadEncryptedClientHelloKeys reads a key file (see
// ParseEncryptedClientHelloKeys); errors name the file.
func LoadEncryptedClientHelloKeys(path string) ([]EncryptedClientHelloKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	keys, err := ParseEncryptedClientHelloKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}
