package ssl

import "crypto/tls"

// EllipticCurve is QSslEllipticCurve: a named curve, identified by its
// OpenSSL NID. The zero EllipticCurve is invalid.
type EllipticCurve struct {
	id int
}

type curveDesc struct {
	nid        int
	short      string
	long       string
	tlsGroup   tls.CurveID // 0 when TLS has no code point for it
	goSupports bool        // crypto/tls can negotiate it
}

var curveTable = []curveDesc{
	{409, "prime192v1", "prime192v1", 19, false},
	{713, "secp224r1", "NIST/SECG curve over a 224 bit prime field", 21, false},
	{714, "secp256k1", "SECG curve over a 256 bit prime field", 22, false},
	{415, "prime256v1", "prime256v1", tls.CurveP256, true},
	{715, "secp384r1", "NIST/SECG curve over a 384 bit prime field", tls.CurveP384, true},
	{716, "secp521r1", "NIST/SECG curve over a 521 bit prime field", tls.CurveP521, true},
	{1034, "X25519", "X25519", tls.X25519, true},
	{1035, "X448", "X448", 30, false},
	{927, "brainpoolP256r1", "brainpoolP256r1", 26, false},
	{931, "brainpoolP384r1", "brainpoolP384r1", 27, false},
	{933, "brainpoolP512r1", "brainpoolP512r1", 28, false},
}

// nistAliases are the NIST names OpenSSL's EC_curve_nist2nid accepts.
var nistAliases = map[string]int{"P-192": 409, "P-224": 713, "P-256": 415, "P-384": 715, "P-521": 716}

func (c EllipticCurve) desc() *curveDesc {
	for i := range curveTable {
		if curveTable[i].nid == c.id {
			return &curveTable[i]
		}
	}
	return nil
}

// CurveFromShortName returns the curve with OpenSSL short name s ("prime256v1",
// "secp384r1", "X25519") or NIST name ("P-256"); case-sensitive, invalid when unknown.
func CurveFromShortName(s string) EllipticCurve {
	if nid, ok := nistAliases[s]; ok {
		return EllipticCurve{nid}
	}
	for _, d := range curveTable {
		if d.short == s {
			return EllipticCurve{d.nid}
		}
	}
	return EllipticCurve{}
}

// CurveFromLongName returns the curve with OpenSSL long name s, invalid when unknown.
func CurveFromLongName(s string) EllipticCurve {
	for _, d := range curveTable {
		if d.long == s {
			return EllipticCurve{d.nid}
		}
	}
	return EllipticCurve{}
}

// CurveFromTLSGroup returns the curve for a TLS named-group code point.
func CurveFromTLSGroup(id tls.CurveID) EllipticCurve {
	for _, d := range curveTable {
		if d.tlsGroup == id && id != 0 {
			return EllipticCurve{d.nid}
		}
	}
	return EllipticCurve{}
}

// NID returns OpenSSL's numeric identifier (0 for invalid).
func (c EllipticCurve) NID() int { return c.id }

// IsValid reports whether c names a curve.
func (c EllipticCurve) IsValid() bool { return c.desc() != nil }

// ShortName returns OpenSSL's short name ("" when invalid).
func (c EllipticCurve) ShortName() string {
	if d := c.desc(); d != nil {
		return d.short
	}
	return ""
}

// LongName returns OpenSSL's long name ("" when invalid).
func (c EllipticCurve) LongName() string {
	if d := c.desc(); d != nil {
		return d.long
	}
	return ""
}

// IsTlsNamedCurve reports whether TLS defines a named group for the curve.
func (c EllipticCurve) IsTlsNamedCurve() bool {
	d := c.desc()
	return d != nil && d.tlsGroup != 0
}

// TLSGroup returns the TLS named-group code point (0 when there is none).
func (c EllipticCurve) TLSGroup() tls.CurveID {
	if d := c.desc(); d != nil {
		return d.tlsGroup
	}
	return 0
}

// String returns the short name.
func (c EllipticCurve) String() string { return c.ShortName() }

// SupportedEllipticCurves returns the curves the go backend can negotiate.
func SupportedEllipticCurves() []EllipticCurve {
	var out []EllipticCurve
	for _, d := range curveTable {
		if d.goSupports {
			out = append(out, EllipticCurve{d.nid})
		}
	}
	return out
}
