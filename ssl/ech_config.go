package ssl

import (
	"crypto/hpke"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
)

// The ECHConfig and ECHConfigList wire encoding (RFC 9849 §4,
// draft-ietf-tls-esni-18 before it; version 0xfe0d): a small TLS
// presentation-language structure this file reads and writes. It is
// encoding only; the cryptography (HPKE) is crypto/hpke's and crypto/tls's.

// echVersion is the ECHConfig version crypto/tls implements.
const echVersion = 0xfe0d

// ErrMalformedECHConfigList matches (errors.Is) an ECH configuration list
// that does not parse, or holds no configuration a client can use. It also
// matches ErrInvalidUserData.
var ErrMalformedECHConfigList = fmt.Errorf("%w: malformed ECH configuration list", ErrInvalidUserData)

// echCipherSuite is an HpkeSymmetricCipherSuite.
type echCipherSuite struct{ kdf, aead uint16 }

// echConfig is one ECHConfig of version 0xfe0d.
type echConfig struct {
	raw           []byte // the whole ECHConfig, as on the wire (crypto/tls wants it byte for byte)
	configID      uint8
	kem           uint16
	publicKey     []byte
	suites        []echCipherSuite
	maxNameLength uint8
	publicName    string
	extensions    []uint16 // the extension types
}

// marshal encodes the ECHConfig (version, length, contents).
func (c *echConfig) marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddUint16(echVersion)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(c.configID)
		b.AddUint16(c.kem)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c.publicKey) })
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, s := range c.suites {
				b.AddUint16(s.kdf)
				b.AddUint16(s.aead)
			}
		})
		b.AddUint8(c.maxNameLength)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(c.publicName)) })
		b.AddUint16(0) // no extensions
	})
	return b.Bytes()
}

// marshalECHConfigList wraps encoded ECHConfigs into an ECHConfigList.
func marshalECHConfigList(configs ...[]byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, c := range configs {
			b.AddBytes(c)
		}
	})
	return b.Bytes()
}

// parseECHConfig reads one ECHConfig from s. Configurations of other
// versions are skipped (ok false, no error), as RFC 9849 asks.
func parseECHConfig(s *cryptobyte.String) (c echConfig, ok bool, err error) {
	start := *s
	var version uint16
	var body cryptobyte.String
	if !s.ReadUint16(&version) || !s.ReadUint16LengthPrefixed(&body) {
		return c, false, errors.New("truncated ECHConfig")
	}
	if version != echVersion {
		return c, false, nil
	}
	c.raw = append([]byte(nil), start[:4+len(body)]...)
	var pub, suites, name, exts cryptobyte.String
	if !body.ReadUint8(&c.configID) || !body.ReadUint16(&c.kem) || !body.ReadUint16LengthPrefixed(&pub) ||
		!body.ReadUint16LengthPrefixed(&suites) || !body.ReadUint8(&c.maxNameLength) ||
		!body.ReadUint8LengthPrefixed(&name) || !body.ReadUint16LengthPrefixed(&exts) || !body.Empty() {
		return c, false, errors.New("malformed ECHConfig contents")
	}
	c.publicKey, c.publicName = append([]byte(nil), pub...), string(name)
	for !suites.Empty() {
		var cs echCipherSuite
		if !suites.ReadUint16(&cs.kdf) || !suites.ReadUint16(&cs.aead) {
			return c, false, errors.New("malformed ECHConfig cipher suites")
		}
		c.suites = append(c.suites, cs)
	}
	for !exts.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&data) {
			return c, false, errors.New("malformed ECHConfig extensions")
		}
		c.extensions = append(c.extensions, typ)
	}
	return c, true, nil
}

// parseECHConfigList reads an ECHConfigList: every ECHConfig of version
// 0xfe0d in it, in order.
func parseECHConfigList(data []byte) ([]echConfig, error) {
	s := cryptobyte.String(data)
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) || !s.Empty() {
		return nil, fmt.Errorf("%w: the length does not match (%d bytes)", ErrMalformedECHConfigList, len(data))
	}
	if list.Empty() {
		return nil, fmt.Errorf("%w: the list is empty", ErrMalformedECHConfigList)
	}
	var out []echConfig
	for !list.Empty() {
		c, ok, err := parseECHConfig(&list)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedECHConfigList, err)
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// usable reports why a client cannot use c ("" when it can), by the rules
// crypto/tls's client applies when it picks a configuration: a valid DNS
// public name, no mandatory extension, a KEM, KDF and AEAD it implements,
// a public key the KEM accepts.
func (c *echConfig) usable() string {
	if !validECHPublicName(c.publicName) {
		return fmt.Sprintf("public name %q is not a DNS name of two labels or more", c.publicName)
	}
	for _, e := range c.extensions {
		if e&0x8000 != 0 {
			return fmt.Sprintf("mandatory extension 0x%04x is not supported", e)
		}
	}
	kem, err := hpke.NewKEM(c.kem)
	if err != nil {
		return fmt.Sprintf("KEM 0x%04x is not supported", c.kem)
	}
	if _, err := kem.NewPublicKey(c.publicKey); err != nil {
		return "its public key is not valid for its KEM"
	}
	if _, ok := c.suite(); !ok {
		return "none of its cipher suites is supported"
	}
	return ""
}

// suite is the first cipher suite crypto/hpke implements.
func (c *echConfig) suite() (echCipherSuite, bool) {
	for _, s := range c.suites {
		if _, err := hpke.NewKDF(s.kdf); err != nil {
			continue
		}
		if _, err := hpke.NewAEAD(s.aead); err != nil {
			continue
		}
		return s, true
	}
	return echCipherSuite{}, false
}

// pickECHConfig returns the configuration a client uses from list: the
// first usable one (crypto/tls's choice), or an error naming why none is.
func pickECHConfig(list []byte) (echConfig, error) {
	configs, err := parseECHConfigList(list)
	if err != nil {
		return echConfig{}, err
	}
	var why []string
	for _, c := range configs {
		reason := c.usable()
		if reason == "" {
			return c, nil
		}
		why = append(why, fmt.Sprintf("config %d: %s", c.configID, reason))
	}
	if len(configs) == 0 {
		why = append(why, "no configuration of version 0xfe0d")
	}
	return echConfig{}, fmt.Errorf("%w: no configuration this client can use (%s)", ErrMalformedECHConfigList, strings.Join(why, "; "))
}

// validECHPublicName is crypto/tls's test of a public name: a DNS name
// of at least two labels, letters, digits and inner hyphens only.
func validECHPublicName(name string) bool {
	if len(name) > 253 {
		return false
	}
	labels := strings.Split(name, ".")
	if len(labels) <= 1 {
		return false
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && r != '-' {
				return false
			}
		}
	}
	return true
}
