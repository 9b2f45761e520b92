package ssl

import (
	"crypto/tls"
	"strings"
	"sync"
)

// Cipher is QSslCipher: a cipher suite with OpenSSL's name and description
// fields, as Qt reports them. The zero Cipher is Qt's null cipher.
type Cipher struct {
	d *cipherDesc
}

// cipherDesc is one line of `openssl ciphers -v`, keyed by the IANA id.
type cipherDesc struct {
	id            uint16
	name          string // OpenSSL's name
	iana          string // the IANA name (RFC 8446, …; crypto/tls's)
	protoString   string // "TLSv1.3", "TLSv1.2", "TLSv1", "SSLv3"
	kx, au, enc   string
	used, support int
}

// The table's indexes: by IANA id, by OpenSSL name and by IANA name.
var cipherIndex = sync.OnceValue(func() (ix struct {
	byID   map[uint16]*cipherDesc
	byName map[string]*cipherDesc
	goTLS  map[uint16]bool
}) {
	ix.byID = make(map[uint16]*cipherDesc, len(cipherTable))
	ix.byName = make(map[string]*cipherDesc, 2*len(cipherTable))
	for i := range cipherTable {
		d := &cipherTable[i]
		ix.byID[d.id] = d
		ix.byName[d.name] = d
		if _, dup := ix.byName[d.iana]; !dup {
			ix.byName[d.iana] = d
		}
	}
	ix.goTLS = map[uint16]bool{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ix.goTLS[s.ID] = true
	}
	return ix
})

func cipherByID(id uint16) (Cipher, bool) {
	if d := cipherIndex().byID[id]; d != nil {
		return Cipher{d}, true
	}
	return Cipher{}, false
}

// CipherFromID returns the cipher with the IANA id (tls.TLS_*), or the null cipher.
func CipherFromID(id uint16) Cipher {
	c, _ := cipherByID(id)
	return c
}

// CipherByName returns the cipher with that OpenSSL name (or IANA name,
// "TLS_ECDHE_…"), or the null cipher (QSslCipher(name)). Every suite
// OpenSSL 3 or crypto/tls knows has a Cipher, whichever backend can
// negotiate it.
func CipherByName(name string) Cipher {
	if d := cipherIndex().byName[name]; d != nil {
		return Cipher{d}
	}
	return Cipher{}
}

// CipherByNameAndProtocol returns the supported cipher with that name and
// protocol, or the null cipher (QSslCipher(name, protocol)).
func CipherByNameAndProtocol(name string, p Protocol) Cipher {
	c := CipherByName(name)
	if c.IsNull() || c.Protocol() != p {
		return Cipher{}
	}
	return c
}

// ParseCiphers splits an OpenSSL-style "a:b:c" list (empty parts skipped)
// and keeps the names that denote a supported cipher, as
// QSslConfiguration::setCiphers(QString) does. Unknown names are returned
// separately so that callers can report them.
func ParseCiphers(list string) (ciphers []Cipher, unknown []string) {
	for _, name := range strings.Split(list, ":") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if c := CipherByName(name); !c.IsNull() {
			ciphers = append(ciphers, c)
		} else {
			unknown = append(unknown, name)
		}
	}
	return ciphers, unknown
}

// SupportedCiphers returns the cipher suites the active backend can
// negotiate (QSslConfiguration::supportedCiphers): on the go backend every
// suite crypto/tls implements, including the insecure ones that must be
// asked for by name; on the openssl backend what libssl offers (PSK, DHE,
// CCM, ARIA, CAMELLIA, … included), without the anonymous suites, as Qt.
// SupportedCiphersFor answers for a backend chosen per Configuration.
func SupportedCiphers() []Cipher { return SupportedCiphersFor("") }

// SupportedCiphersFor returns the cipher suites the named backend ("" for
// the active one) can negotiate; an unknown name gives an empty list.
func SupportedCiphersFor(backend string) []Cipher {
	if b := backendByName(backend); b != nil {
		return b.SupportedCiphers()
	}
	return nil
}

// goSupportedCiphers is every suite crypto/tls implements: the go
// backend's SupportedCiphers.
func goSupportedCiphers() []Cipher {
	var out []Cipher
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if c, ok := cipherByID(s.ID); ok {
			out = append(out, c)
		}
	}
	return out
}

// goCipherSuite reports whether crypto/tls implements the suite: the go
// backend refuses a Configuration naming any other (ErrUnsupported).
func goCipherSuite(c Cipher) bool { return !c.IsNull() && cipherIndex().goTLS[c.ID()] }

// DefaultCiphers returns the ciphers a configuration uses when it names
// none, on the active backend. On the go backend: crypto/tls's secure
// suites (Qt's rule — supported minus anonymous, at least 128 bits —
// would also admit RC4 and RSA key exchange; those stay available by name
// only). On another backend, Qt's rule: its supported suites of at least
// 128 bits, none anonymous or without encryption.
func DefaultCiphers() []Cipher {
	b := activeBackend()
	if b == nil || b.Name() == "go" {
		var out []Cipher
		for _, s := range tls.CipherSuites() {
			if c, ok := cipherByID(s.ID); ok {
				out = append(out, c)
			}
		}
		return out
	}
	var out []Cipher
	for _, c := range b.SupportedCiphers() {
		if c.UsedBits() >= 128 && c.AuthenticationMethod() != "None" && c.EncryptionMethod() != "None" {
			out = append(out, c)
		}
	}
	return out
}

// desc returns the description, empty for the null cipher.
func (c Cipher) desc() cipherDesc {
	if c.d == nil {
		return cipherDesc{}
	}
	return *c.d
}

// IsNull reports whether c is the null cipher.
func (c Cipher) IsNull() bool { return c.d == nil }

// ID returns the IANA cipher suite id (0 for null).
func (c Cipher) ID() uint16 {
	return c.desc().id
}

// Name returns the OpenSSL name Qt reports ("ECDHE-RSA-AES128-GCM-SHA256").
func (c Cipher) Name() string {
	return c.desc().name
}

// IANAName returns the IANA (and crypto/tls) name ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").
func (c Cipher) IANAName() string {
	return c.desc().iana
}

// ProtocolString returns OpenSSL's protocol column ("TLSv1.2", "SSLv3", …).
func (c Cipher) ProtocolString() string {
	return c.desc().protoString
}

// Protocol maps ProtocolString as Qt does; "SSLv3" and the empty string give UnknownProtocol.
func (c Cipher) Protocol() Protocol {
	switch c.ProtocolString() {
	case "TLSv1":
		return TlsV1_0
	case "TLSv1.1":
		return TlsV1_1
	case "TLSv1.2":
		return TlsV1_2
	case "TLSv1.3":
		return TlsV1_3
	}
	return UnknownProtocol
}

// KeyExchangeMethod returns OpenSSL's Kx= value ("ECDH", "RSA", "any").
func (c Cipher) KeyExchangeMethod() string {
	return c.desc().kx
}

// AuthenticationMethod returns OpenSSL's Au= value ("RSA", "ECDSA", "any").
func (c Cipher) AuthenticationMethod() string {
	return c.desc().au
}

// EncryptionMethod returns OpenSSL's Enc= value ("AESGCM(128)").
func (c Cipher) EncryptionMethod() string {
	return c.desc().enc
}

// UsedBits returns the effective strength in bits (112 for 3DES).
func (c Cipher) UsedBits() int {
	return c.desc().used
}

// SupportedBits returns the algorithm's key size in bits (168 for 3DES).
func (c Cipher) SupportedBits() int {
	return c.desc().support
}

// Equal reports Qt's cipher equality: same name and protocol.
func (c Cipher) Equal(o Cipher) bool { return c.Name() == o.Name() && c.Protocol() == o.Protocol() }

// String returns the OpenSSL name.
func (c Cipher) String() string { return c.Name() }
