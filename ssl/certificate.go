package ssl

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
	"unicode/utf8"

	// Register the digests Certificate.Digest offers.
	_ "crypto/md5"
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// Certificate is QSslCertificate: an X.509 certificate. It is a small value
// type; copies share the parsed certificate, which is never modified. The zero
// Certificate is Qt's null certificate: IsNull reports true and every
// accessor returns an empty value.
type Certificate struct {
	x *x509.Certificate
}

// SubjectInfo is QSslCertificate::SubjectInfo: a well-known attribute of a
// subject or issuer name.
type SubjectInfo int

// SubjectInfo values.
const (
	Organization               SubjectInfo = 0
	CommonName                 SubjectInfo = 1
	LocalityName               SubjectInfo = 2
	OrganizationalUnitName     SubjectInfo = 3
	CountryName                SubjectInfo = 4
	StateOrProvinceName        SubjectInfo = 5
	DistinguishedNameQualifier SubjectInfo = 6
	SerialNumber               SubjectInfo = 7
	EmailAddress               SubjectInfo = 8
)

var subjectInfoNames = newEnumTable("SubjectInfo", map[SubjectInfo]string{
	Organization: "Organization", CommonName: "CommonName", LocalityName: "LocalityName",
	OrganizationalUnitName: "OrganizationalUnitName", CountryName: "CountryName",
	StateOrProvinceName: "StateOrProvinceName", DistinguishedNameQualifier: "DistinguishedNameQualifier",
	SerialNumber: "SerialNumber", EmailAddress: "EmailAddress",
})

// subjectInfoAttr is the OpenSSL short name Qt uses for each SubjectInfo.
var subjectInfoAttr = map[SubjectInfo]string{
	Organization: "O", CommonName: "CN", LocalityName: "L", OrganizationalUnitName: "OU", CountryName: "C",
	StateOrProvinceName: "ST", DistinguishedNameQualifier: "dnQualifier", SerialNumber: "serialNumber",
	EmailAddress: "emailAddress",
}

// AlternativeNameEntryType is QSsl::AlternativeNameEntryType: the kind of a
// subject alternative name.
type AlternativeNameEntryType int

// AlternativeNameEntryType values.
const (
	EmailEntry     AlternativeNameEntryType = 0
	DnsEntry       AlternativeNameEntryType = 1
	IpAddressEntry AlternativeNameEntryType = 2
)

var alternativeNameEntryTypeNames = newEnumTable("AlternativeNameEntryType", map[AlternativeNameEntryType]string{
	EmailEntry: "EmailEntry", DnsEntry: "DnsEntry", IpAddressEntry: "IpAddressEntry",
})

// AlternativeName is one entry of Qt's subjectAlternativeNames() multimap.
type AlternativeName struct {
	Type  AlternativeNameEntryType
	Value string
}

// maxAltNameLen is Qt's limit: longer alternative names are ignored.
const maxAltNameLen = 8192

// NewCertificate wraps a certificate parsed by crypto/x509. A nil x gives the
// null Certificate.
func NewCertificate(x *x509.Certificate) Certificate { return Certificate{x: x} }

// ParseCertificate returns the first certificate in data, which holds PEM
// (blocks other than CERTIFICATE are skipped) or DER. It fails with an error
// matching ErrMalformed when data holds no certificate.
func ParseCertificate(data []byte, format EncodingFormat) (Certificate, error) {
	certs, err := parseCertificates(data, format, 1)
	if err != nil {
		return Certificate{}, err
	}
	return certs[0], nil
}

// ParseCertificates returns every certificate in data (PEM blocks, or
// concatenated DER), in order: QSslCertificate::fromData. Unlike Qt, which
// returns an empty list, a malformed certificate or data with none is an
// error matching ErrMalformed.
func ParseCertificates(data []byte, format EncodingFormat) ([]Certificate, error) {
	return parseCertificates(data, format, -1)
}

func parseCertificates(data []byte, format EncodingFormat, limit int) ([]Certificate, error) {
	var out []Certificate
	switch format {
	case Pem:
		rest := data
		for limit < 0 || len(out) < limit {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				continue
			}
			x, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, malformed(fmt.Sprintf("certificate %d", len(out)+1), err)
			}
			out = append(out, Certificate{x: x})
		}
	case Der:
		rest := data
		for len(rest) > 0 && (limit < 0 || len(out) < limit) {
			var raw asn1.RawValue
			next, err := asn1.Unmarshal(rest, &raw)
			if err != nil {
				return nil, malformed(fmt.Sprintf("DER certificate %d", len(out)+1), err)
			}
			x, err := x509.ParseCertificate(rest[:len(rest)-len(next)])
			if err != nil {
				return nil, malformed(fmt.Sprintf("DER certificate %d", len(out)+1), err)
			}
			out = append(out, Certificate{x: x})
			rest = next
		}
	default:
		return nil, fmt.Errorf("ssl: unknown encoding format %d", int(format))
	}
	if len(out) == 0 {
		if format == Pem {
			return nil, noPemCertificate(data) // says why
		}
		return nil, malformed("no certificate found", nil)
	}
	return out, nil
}

// CertificatesFromFile reads every certificate in the file at path
// (QSslCertificate::fromFile).
func CertificatesFromFile(path string, format EncodingFormat) ([]Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := ParseCertificates(data, format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}

// IsNull reports whether c is the null certificate.
func (c Certificate) IsNull() bool { return c.x == nil }

// X509 returns the parsed certificate (nil for the null certificate). It is
// shared: do not modify it.
func (c Certificate) X509() *x509.Certificate { return c.x }

// Equal reports whether both certificates have the same DER encoding; two null
// certificates are equal.
func (c Certificate) Equal(o Certificate) bool {
	if c.x == nil || o.x == nil {
		return c.x == nil && o.x == nil
	}
	return c.x == o.x || bytes.Equal(c.x.Raw, o.x.Raw)
}

// ToDer returns the DER encoding (nil for the null certificate).
func (c Certificate) ToDer() []byte {
	if c.x == nil {
		return nil
	}
	return bytes.Clone(c.x.Raw)
}

// ToPem returns the PEM encoding: 64-column base64, "\n" line ends and a
// trailing newline (nil for the null certificate).
func (c Certificate) ToPem() []byte {
	if c.x == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.x.Raw})
}

// Digest returns the hash of the DER encoding with h (crypto.MD5, crypto.SHA1,
// crypto.SHA256, …). Like Qt, the null certificate hashes the empty input.
// It returns nil when h is not linked into the program.
func (c Certificate) Digest(h crypto.Hash) []byte {
	if !h.Available() {
		return nil
	}
	d := h.New()
	if c.x != nil {
		d.Write(c.x.Raw)
	}
	return d.Sum(nil)
}

// SHA256 returns the lowercase hex SHA-256 fingerprint, the identifier the
// command-line tool and JSON output use for certificates ("" for null).
func (c Certificate) SHA256() string {
	if c.x == nil {
		return ""
	}
	return hex.EncodeToString(c.Digest(crypto.SHA256))
}

// SerialNumber returns the serial number in Qt's format: lowercase hex bytes
// separated by ':' ("01:02:ff"; a serial of 17 gives "11").
func (c Certificate) SerialNumber() string {
	if c.x == nil || c.x.SerialNumber == nil {
		return ""
	}
	return serialString(c.x.SerialNumber)
}

func serialString(n *big.Int) string {
	b := new(big.Int).Abs(n).Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	var s []byte
	for i, x := range b {
		if i > 0 {
			s = append(s, ':')
		}
		s = hex.AppendEncode(s, []byte{x})
	}
	if n.Sign() < 0 {
		return "-" + string(s)
	}
	return string(s)
}

// Version returns the X.509 version as Qt does: "1" or "3" ("" for null).
func (c Certificate) Version() string {
	if c.x == nil {
		return ""
	}
	return fmt.Sprint(c.x.Version)
}

// EffectiveDate returns the start of the validity period, in UTC.
func (c Certificate) EffectiveDate() time.Time {
	if c.x == nil {
		return time.Time{}
	}
	return c.x.NotBefore.UTC()
}

// ExpiryDate returns the end of the validity period, in UTC.
func (c Certificate) ExpiryDate() time.Time {
	if c.x == nil {
		return time.Time{}
	}
	return c.x.NotAfter.UTC()
}

// SubjectInfo returns the values of one subject attribute, in DN order
// (a name may hold an attribute several times).
func (c Certificate) SubjectInfo(info SubjectInfo) []string {
	return c.SubjectInfoAttribute(subjectInfoAttr[info])
}

// IssuerInfo returns the values of one issuer attribute, in DN order.
func (c Certificate) IssuerInfo(info SubjectInfo) []string {
	return c.IssuerInfoAttribute(subjectInfoAttr[info])
}

// SubjectInfoAttribute returns the values of the subject attribute named by
// its OpenSSL short name ("CN", "O", "emailAddress", …) or dotted OID.
func (c Certificate) SubjectInfoAttribute(attr string) []string {
	if c.x == nil {
		return nil
	}
	return nameValues(c.x.Subject, attr)
}

// IssuerInfoAttribute returns the values of the issuer attribute named by its
// OpenSSL short name or dotted OID.
func (c Certificate) IssuerInfoAttribute(attr string) []string {
	if c.x == nil {
		return nil
	}
	return nameValues(c.x.Issuer, attr)
}

// SubjectInfoAttributes lists the attribute names present in the subject, in
// DN order, each once.
func (c Certificate) SubjectInfoAttributes() []string {
	if c.x == nil {
		return nil
	}
	return nameAttributes(c.x.Subject)
}

// IssuerInfoAttributes lists the attribute names present in the issuer.
func (c Certificate) IssuerInfoAttributes() []string {
	if c.x == nil {
		return nil
	}
	return nameAttributes(c.x.Issuer)
}

// SubjectDisplayName returns the first CN, else the first O, else the first
// OU, else "".
func (c Certificate) SubjectDisplayName() string {
	if c.x == nil {
		return ""
	}
	return displayName(c.x.Subject)
}

// IssuerDisplayName is SubjectDisplayName for the issuer.
func (c Certificate) IssuerDisplayName() string {
	if c.x == nil {
		return ""
	}
	return displayName(c.x.Issuer)
}

// Subject returns the subject name in OpenSSL's one-line form, in DN order
// ("C = DE, O = Example, CN = www.example.com").
func (c Certificate) Subject() string {
	if c.x == nil {
		return ""
	}
	return dnString(c.x.Subject)
}

// Issuer returns the issuer name in the form Subject uses.
func (c Certificate) Issuer() string {
	if c.x == nil {
		return ""
	}
	return dnString(c.x.Issuer)
}

// SubjectAlternativeNames returns the DNS, email and IP entries of the
// subjectAltName extension, in that order of kinds; other kinds and entries
// of 8192 bytes or more are left out, as in Qt.
func (c Certificate) SubjectAlternativeNames() []AlternativeName {
	if c.x == nil {
		return nil
	}
	var out []AlternativeName
	for _, d := range c.x.DNSNames {
		if len(d) < maxAltNameLen {
			out = append(out, AlternativeName{DnsEntry, d})
		}
	}
	for _, e := range c.x.EmailAddresses {
		if len(e) < maxAltNameLen {
			out = append(out, AlternativeName{EmailEntry, e})
		}
	}
	for _, ip := range c.x.IPAddresses {
		out = append(out, AlternativeName{IpAddressEntry, ipString(ip)})
	}
	return out
}

func ipString(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil && len(ip) == net.IPv4len {
		return v4.String()
	}
	return ip.String()
}

// IsSelfSigned reports whether the certificate names itself as its issuer and
// may have signed itself (matching key identifiers, keyCertSign allowed): Qt's
// X509_check_issued(cert, cert) test. The signature itself is not checked.
func (c Certificate) IsSelfSigned() bool {
	return c.x != nil && checkIssued(c.x, c.x)
}

// PublicKey returns the certificate's public key.
func (c Certificate) PublicKey() Key {
	if c.x == nil {
		return Key{}
	}
	return NewKey(c.x.PublicKey)
}

// nameAttrShort maps attribute OIDs to OpenSSL's short names.
var nameAttrShort = map[string]string{
	"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
	"2.5.4.5": "serialNumber", "2.5.4.46": "dnQualifier", "1.2.840.113549.1.9.1": "emailAddress",
	"2.5.4.9": "street", "2.5.4.17": "postalCode", "2.5.4.4": "SN", "2.5.4.42": "GN", "2.5.4.43": "initials",
	"2.5.4.44": "generationQualifier", "2.5.4.12": "title", "2.5.4.41": "name", "2.5.4.65": "pseudonym",
	"2.5.4.15": "businessCategory", "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
	"1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC", "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
	"1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL", "2.5.4.97": "organizationIdentifier",
}

func attrName(oid asn1.ObjectIdentifier) string {
	s := oid.String()
	if n, ok := nameAttrShort[s]; ok {
		return n
	}
	return s
}

func attrValue(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []byte:
		if utf8.Valid(t) {
			return string(t)
		}
		return hex.EncodeToString(t)
	}
	return fmt.Sprint(v)
}

func nameValues(n pkix.Name, attr string) []string {
	var out []string
	for _, atv := range n.Names {
		if attrName(atv.Type) == attr || atv.Type.String() == attr {
			out = append(out, attrValue(atv.Value))
		}
	}
	return out
}

func nameAttributes(n pkix.Name) []string {
	var out []string
	seen := map[string]bool{}
	for _, atv := range n.Names {
		a := attrName(atv.Type)
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

func displayName(n pkix.Name) string {
	for _, attr := range []string{"CN", "O", "OU"} {
		if v := nameValues(n, attr); len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func dnString(n pkix.Name) string {
	var b bytes.Buffer
	for i, atv := range n.Names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = %s", attrName(atv.Type), attrValue(atv.Value))
	}
	return b.String()
}
