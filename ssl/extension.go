package ssl

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"strings"
)

// CertificateExtension is QSslCertificateExtension: one X.509v3 extension.
//
// Value is typed for the extensions Qt supports (Supported is true):
//   - basicConstraints: map[string]any{"ca": bool, "pathLenConstraint": int (when present)}
//   - authorityInfoAccess: map[string]any{"OCSP": string, "caIssuers": string}
//   - subjectKeyIdentifier: string, uppercase hex with ':' ("5F:90:…")
//   - authorityKeyIdentifier: map[string]any{"keyid": lowercase hex, "serial": *big.Int (when present)}
//
// For the others Value is a readable string where this package knows the
// extension (keyUsage, extendedKeyUsage, subjectAltName, …) and the raw DER
// bytes of the extension value otherwise.
type CertificateExtension struct {
	OID       string
	Name      string // OpenSSL's short name, or the OID when it has none
	Value     any
	Critical  bool
	Supported bool
}

var extensionNames = map[string]string{
	"2.5.29.19": "basicConstraints", "2.5.29.15": "keyUsage", "2.5.29.37": "extendedKeyUsage",
	"2.5.29.17": "subjectAltName", "2.5.29.18": "issuerAltName", "2.5.29.14": "subjectKeyIdentifier",
	"2.5.29.35": "authorityKeyIdentifier", "1.3.6.1.5.5.7.1.1": "authorityInfoAccess",
	"2.5.29.31": "crlDistributionPoints", "2.5.29.32": "certificatePolicies", "2.5.29.30": "nameConstraints",
	"2.5.29.36": "policyConstraints", "2.5.29.33": "policyMappings", "2.5.29.54": "inhibitAnyPolicy",
	"2.5.29.46": "freshestCRL", "1.3.6.1.4.1.11129.2.4.2": "ct_precert_scts", "1.3.6.1.5.5.7.1.24": "tlsfeature",
	"2.16.840.1.113730.1.1": "nsCertType", "2.16.840.1.113730.1.13": "nsComment",
	"1.3.6.1.4.1.11129.2.4.3": "ct_precert_poison",
}

var (
	oidExtKeyUsage         = "2.5.29.15"
	oidExtBasicConstraints = "2.5.29.19"
	oidExtExtKeyUsage      = "2.5.29.37"
)

// Extensions returns the certificate's extensions in the order they appear.
func (c Certificate) Extensions() []CertificateExtension {
	if c.x == nil {
		return nil
	}
	out := make([]CertificateExtension, 0, len(c.x.Extensions))
	for _, e := range c.x.Extensions {
		oid := e.Id.String()
		ext := CertificateExtension{OID: oid, Name: oid, Critical: e.Critical, Value: e.Value}
		if n, ok := extensionNames[oid]; ok {
			ext.Name = n
		}
		switch oid {
		case oidExtBasicConstraints:
			m := map[string]any{"ca": c.x.IsCA}
			if c.x.MaxPathLen > 0 || c.x.MaxPathLenZero {
				m["pathLenConstraint"] = c.x.MaxPathLen
			}
			ext.Value, ext.Supported = m, true
		case "1.3.6.1.5.5.7.1.1":
			m := map[string]any{}
			if len(c.x.OCSPServer) > 0 {
				m["OCSP"] = c.x.OCSPServer[0]
			}
			if len(c.x.IssuingCertificateURL) > 0 {
				m["caIssuers"] = c.x.IssuingCertificateURL[0]
			}
			ext.Value, ext.Supported = m, true
		case "2.5.29.14":
			ext.Value, ext.Supported = colonHex(c.x.SubjectKeyId, true), true
		case "2.5.29.35":
			if m, ok := parseAKID(e.Value); ok {
				ext.Value, ext.Supported = m, true
			}
		default:
			if s, ok := describeExtension(c.x, oid); ok {
				ext.Value = s
			}
		}
		out = append(out, ext)
	}
	return out
}

func colonHex(b []byte, upper bool) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = hex.EncodeToString([]byte{x})
	}
	s := strings.Join(parts, ":")
	if upper {
		s = strings.ToUpper(s)
	}
	return s
}

// parseAKID decodes AuthorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier,
// [1] authorityCertIssuer, [2] authorityCertSerialNumber }.
func parseAKID(der []byte) (map[string]any, bool) {
	var seq asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &seq); err != nil || len(rest) > 0 || seq.Tag != asn1.TagSequence {
		return nil, false
	}
	m := map[string]any{}
	body := seq.Bytes
	for len(body) > 0 {
		var f asn1.RawValue
		rest, err := asn1.Unmarshal(body, &f)
		if err != nil {
			return nil, false
		}
		body = rest
		if f.Class != asn1.ClassContextSpecific {
			continue
		}
		switch f.Tag {
		case 0:
			m["keyid"] = hex.EncodeToString(f.Bytes)
		case 2:
			m["serial"] = new(big.Int).SetBytes(f.Bytes)
		}
	}
	return m, true
}

var keyUsageNames = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "Digital Signature"}, {x509.KeyUsageContentCommitment, "Non Repudiation"},
	{x509.KeyUsageKeyEncipherment, "Key Encipherment"}, {x509.KeyUsageDataEncipherment, "Data Encipherment"},
	{x509.KeyUsageKeyAgreement, "Key Agreement"}, {x509.KeyUsageCertSign, "Certificate Sign"},
	{x509.KeyUsageCRLSign, "CRL Sign"}, {x509.KeyUsageEncipherOnly, "Encipher Only"},
	{x509.KeyUsageDecipherOnly, "Decipher Only"},
}

var extKeyUsageNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny: "Any Extended Key Usage", x509.ExtKeyUsageServerAuth: "TLS Web Server Authentication",
	x509.ExtKeyUsageClientAuth: "TLS Web Client Authentication", x509.ExtKeyUsageCodeSigning: "Code Signing",
	x509.ExtKeyUsageEmailProtection: "E-mail Protection", x509.ExtKeyUsageTimeStamping: "Time Stamping",
	x509.ExtKeyUsageOCSPSigning: "OCSP Signing", x509.ExtKeyUsageIPSECEndSystem: "IPSec End System",
	x509.ExtKeyUsageIPSECTunnel: "IPSec Tunnel", x509.ExtKeyUsageIPSECUser: "IPSec User",
	x509.ExtKeyUsageMicrosoftServerGatedCrypto: "Microsoft Server Gated Crypto",
	x509.ExtKeyUsageNetscapeServerGatedCrypto:  "Netscape Server Gated Crypto",
}

// describeExtension renders the extensions whose meaning crypto/x509 parses
// in the style of OpenSSL's printers.
func describeExtension(x *x509.Certificate, oid string) (string, bool) {
	switch oid {
	case oidExtKeyUsage:
		var parts []string
		for _, k := range keyUsageNames {
			if x.KeyUsage&k.bit != 0 {
				parts = append(parts, k.name)
			}
		}
		return strings.Join(parts, ", "), true
	case "2.5.29.37":
		var parts []string
		for _, u := range x.ExtKeyUsage {
			parts = append(parts, extKeyUsageNames[u])
		}
		for _, u := range x.UnknownExtKeyUsage {
			parts = append(parts, u.String())
		}
		return strings.Join(parts, ", "), true
	case "2.5.29.17":
		var parts []string
		for _, d := range x.DNSNames {
			parts = append(parts, "DNS:"+d)
		}
		for _, e := range x.EmailAddresses {
			parts = append(parts, "email:"+e)
		}
		for _, ip := range x.IPAddresses {
			parts = append(parts, "IP Address:"+ipString(net.IP(ip)))
		}
		for _, u := range x.URIs {
			parts = append(parts, "URI:"+u.String())
		}
		return strings.Join(parts, ", "), true
	case "2.5.29.31":
		var parts []string
		for _, u := range x.CRLDistributionPoints {
			parts = append(parts, "URI:"+u)
		}
		return strings.Join(parts, ", "), true
	case "2.5.29.32":
		var parts []string
		for _, p := range x.Policies {
			parts = append(parts, "Policy: "+p.String())
		}
		return strings.Join(parts, ", "), true
	case "2.5.29.30":
		var parts []string
		for _, d := range x.PermittedDNSDomains {
			parts = append(parts, "Permitted DNS:"+d)
		}
		for _, d := range x.ExcludedDNSDomains {
			parts = append(parts, "Excluded DNS:"+d)
		}
		for _, n := range x.PermittedIPRanges {
			parts = append(parts, "Permitted IP:"+n.String())
		}
		for _, n := range x.ExcludedIPRanges {
			parts = append(parts, "Excluded IP:"+n.String())
		}
		return strings.Join(parts, ", "), true
	}
	return "", false
}

func (e CertificateExtension) valueString() string {
	switch v := e.Value.(type) {
	case string:
		return v
	case []byte:
		return colonHex(v, false)
	case map[string]any:
		keys := []string{"ca", "pathLenConstraint", "keyid", "serial", "OCSP", "caIssuers"}
		var parts []string
		for _, k := range keys {
			if x, ok := v[k]; ok {
				parts = append(parts, fmt.Sprintf("%s: %v", k, x))
			}
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(e.Value)
}
