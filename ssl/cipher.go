package ssl

import (
	"crypto/tls"
	"strings"
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
	protoString   string // "TLSv1.3", "TLSv1.2", "TLSv1", "SSLv3"
	kx, au, enc   string
	used, support int
}

// cipherTable describes every suite crypto/tls implements.
var cipherTable = []cipherDesc{
	{tls.TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256", "TLSv1.3", "any", "any", "AESGCM(128)", 128, 128},
	{tls.TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384", "TLSv1.3", "any", "any", "AESGCM(256)", 256, 256},
	{tls.TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256", "TLSv1.3", "any", "any", "CHACHA20/POLY1305(256)", 256, 256},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.2", "ECDH", "ECDSA", "AESGCM(128)", 128, 128},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2", "ECDH", "RSA", "AESGCM(128)", 128, 128},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", "TLSv1.2", "ECDH", "ECDSA", "AESGCM(256)", 256, 256},
	{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", "TLSv1.2", "ECDH", "RSA", "AESGCM(256)", 256, 256},
	{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305", "TLSv1.2", "ECDH", "ECDSA", "CHACHA20/POLY1305(256)", 256, 256},
	{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305", "TLSv1.2", "ECDH", "RSA", "CHACHA20/POLY1305(256)", 256, 256},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE-ECDSA-AES128-SHA", "TLSv1", "ECDH", "ECDSA", "AES(128)", 128, 128},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA", "TLSv1", "ECDH", "RSA", "AES(128)", 128, 128},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "ECDHE-ECDSA-AES256-SHA", "TLSv1", "ECDH", "ECDSA", "AES(256)", 256, 256},
	{tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA", "TLSv1", "ECDH", "RSA", "AES(256)", 256, 256},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "ECDHE-ECDSA-AES128-SHA256", "TLSv1.2", "ECDH", "ECDSA", "AES(128)", 128, 128},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ECDHE-RSA-AES128-SHA256", "TLSv1.2", "ECDH", "RSA", "AES(128)", 128, 128},
	{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256", "TLSv1.2", "RSA", "RSA", "AESGCM(128)", 128, 128},
	{tls.TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384", "TLSv1.2", "RSA", "RSA", "AESGCM(256)", 256, 256},
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA256, "AES128-SHA256", "TLSv1.2", "RSA", "RSA", "AES(128)", 128, 128},
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA", "SSLv3", "RSA", "RSA", "AES(128)", 128, 128},
	{tls.TLS_RSA_WITH_AES_256_CBC_SHA, "AES256-SHA", "SSLv3", "RSA", "RSA", "AES(256)", 256, 256},
	{tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, "ECDHE-RSA-DES-CBC3-SHA", "TLSv1", "ECDH", "RSA", "3DES(168)", 112, 168},
	{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, "DES-CBC3-SHA", "SSLv3", "RSA", "RSA", "3DES(168)", 112, 168},
	{tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA, "ECDHE-ECDSA-RC4-SHA", "TLSv1", "ECDH", "ECDSA", "RC4(128)", 128, 128},
	{tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA, "ECDHE-RSA-RC4-SHA", "TLSv1", "ECDH", "RSA", "RC4(128)", 128, 128},
	{tls.TLS_RSA_WITH_RC4_128_SHA, "RC4-SHA", "SSLv3", "RSA", "RSA", "RC4(128)", 128, 128},
}

func cipherByID(id uint16) (Cipher, bool) {
	for i := range cipherTable {
		if cipherTable[i].id == id {
			return Cipher{&cipherTable[i]}, true
		}
	}
	return Cipher{}, false
}

// CipherFromID returns the cipher with the IANA id (tls.TLS_*), or the null cipher.
func CipherFromID(id uint16) Cipher {
	c, _ := cipherByID(id)
	return c
}

// CipherByName returns the supported cipher with that OpenSSL name (or IANA
// name, "TLS_ECDHE_…"), or the null cipher (QSslCipher(name)).
func CipherByName(name string) Cipher {
	for i := range cipherTable {
		if cipherTable[i].name == name {
			return Cipher{&cipherTable[i]}
		}
	}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if s.Name == name {
			return CipherFromID(s.ID)
		}
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

// SupportedCiphers returns every cipher suite the go backend can negotiate,
// including the insecure ones that must be asked for by name.
func SupportedCiphers() []Cipher {
	var out []Cipher
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if c, ok := cipherByID(s.ID); ok {
			out = append(out, c)
		}
	}
	return out
}

// DefaultCiphers returns the ciphers a configuration uses when it names
// none: crypto/tls's secure suites. Qt's rule (supported minus anonymous,
// at least 128 bits) would also admit RC4 and RSA key exchange; those stay
// available by name only.
func DefaultCiphers() []Cipher {
	var out []Cipher
	for _, s := range tls.CipherSuites() {
		if c, ok := cipherByID(s.ID); ok {
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
	if c.d == nil {
		return ""
	}
	return tls.CipherSuiteName(c.d.id)
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
