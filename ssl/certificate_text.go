package ssl

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"strings"
	"time"
)

// ToText returns a readable dump of the certificate in the spirit of
// `openssl x509 -text -noout` (QSslCertificate::toText). The layout is for
// people; do not parse it.
func (c Certificate) ToText() string {
	if c.x == nil {
		return ""
	}
	x := c.x
	var b strings.Builder
	w := func(indent int, format string, args ...any) {
		b.WriteString(strings.Repeat("    ", indent))
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	const stamp = "Jan _2 15:04:05 2006 MST"
	w(0, "Certificate:")
	w(1, "Data:")
	w(2, "Version: %d (0x%x)", x.Version, x.Version-1)
	w(2, "Serial Number: %s", c.SerialNumber())
	w(2, "Signature Algorithm: %s", x.SignatureAlgorithm)
	w(2, "Issuer: %s", c.Issuer())
	w(2, "Validity")
	w(3, "Not Before: %s", x.NotBefore.UTC().Format(stamp))
	w(3, "Not After : %s", x.NotAfter.UTC().Format(stamp))
	w(2, "Subject: %s", c.Subject())
	w(2, "Subject Public Key Info:")
	w(3, "Public Key Algorithm: %s", x.PublicKeyAlgorithm)
	switch k := x.PublicKey.(type) {
	case *rsa.PublicKey:
		w(4, "Public-Key: (%d bit)", k.N.BitLen())
		w(4, "Exponent: %d (0x%x)", k.E, k.E)
	case *ecdsa.PublicKey:
		w(4, "Public-Key: (%d bit)", k.Curve.Params().BitSize)
		w(4, "NIST CURVE: %s", k.Curve.Params().Name)
	default:
		if n := c.PublicKey().Length(); n > 0 {
			w(4, "Public-Key: (%d bit)", n)
		}
	}
	if exts := c.Extensions(); len(exts) > 0 {
		w(2, "X509v3 extensions:")
		for _, e := range exts {
			crit := ""
			if e.Critical {
				crit = " critical"
			}
			w(3, "%s:%s", e.Name, crit)
			w(4, "%s", e.valueString())
		}
	}
	w(1, "Signature Value:")
	sig := colonHex(x.Signature, false)
	for len(sig) > 54 {
		w(2, "%s", sig[:54])
		sig = sig[54:]
	}
	if sig != "" {
		w(2, "%s", sig)
	}
	w(1, "SHA-256 Fingerprint: %s", strings.ToUpper(colonHex(c.Digest(crypto.SHA256), false)))
	w(1, "Valid now: %v", !time.Now().Before(x.NotBefore) && !time.Now().After(x.NotAfter))
	return b.String()
}
