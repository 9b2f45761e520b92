package ssl

import (
	//lint:ignore SA1019 crypto/x509 still parses DSA keys, which must be rated like OpenSSL rates them
	"crypto/dsa"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
)

// Qt on a stock Debian OpenSSL 3 verifies at security level 2 (Debian's
// openssl.cnf sets it), which asks for 112 bits of security from every key in
// the chain and from the digest of every signature but the trust anchor's.
// What fails it is an error in the list (Qt surfaces OpenSSL's
// X509_V_ERR_EE_KEY_TOO_SMALL, _CA_KEY_TOO_SMALL and _CA_MD_TOO_WEAK as
// UnspecifiedError), so the user sees it and can ignore it explicitly.
const (
	securityLevel     = 2
	securityLevelBits = 112 // OpenSSL's minimum bits for level 2
)

// keySecurityBits is OpenSSL's EVP_PKEY_get_security_bits for the key types
// crypto/x509 parses, with a short name for messages; ok is false for a key
// type it does not know (nothing is claimed about those).
func keySecurityBits(pub any) (bits int, name string, ok bool) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		n := k.N.BitLen()
		return bnSecurityBits(n, -1), fmt.Sprintf("RSA %d bits", n), true
	case *dsa.PublicKey:
		l, n := k.P.BitLen(), k.Q.BitLen()
		return bnSecurityBits(l, n), fmt.Sprintf("DSA %d/%d bits", l, n), true
	case *ecdsa.PublicKey:
		p := k.Curve.Params()
		return p.N.BitLen() / 2, fmt.Sprintf("EC %s (%d bits)", p.Name, p.N.BitLen()), true
	case ed25519.PublicKey:
		return 128, "Ed25519", true
	case *ecdh.PublicKey:
		switch k.Curve() {
		case ecdh.X25519():
			return 128, "X25519", true
		case ecdh.P256():
			return 128, "EC P-256", true
		case ecdh.P384():
			return 192, "EC P-384", true
		case ecdh.P521():
			return 256, "EC P-521", true
		}
	}
	return 0, "", false
}

// bnSecurityBits is OpenSSL's BN_security_bits: the strength of a finite
// field or factoring key of l bits (and a subgroup of n bits, -1 if none),
// per NIST SP 800-57.
func bnSecurityBits(l, n int) int {
	var bits int
	switch {
	case l >= 15360:
		bits = 256
	case l >= 7680:
		bits = 192
	case l >= 3072:
		bits = 128
	case l >= 2048:
		bits = 112
	case l >= 1024:
		bits = 80
	default:
		return 0
	}
	if n == -1 {
		return bits
	}
	n /= 2
	if n < 80 {
		return 0
	}
	return min(bits, n)
}

// minKeyBits is what a key of that family needs for security level 2, for
// the message.
func minKeyBits(pub any) string {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "2048 bits"
	case *dsa.PublicKey:
		return "2048/224 bits"
	}
	return "224 bits"
}

// weakKeyDetail returns why x's key is below security level 2, or "".
// leaf selects OpenSSL's wording ("EE" for the end entity, "CA" above it).
func weakKeyDetail(x *x509.Certificate, leaf bool) string {
	bits, name, ok := keySecurityBits(x.PublicKey)
	if !ok || bits >= securityLevelBits {
		return ""
	}
	who := "CA"
	if leaf {
		who = "EE"
	}
	return fmt.Sprintf("%s certificate key too weak: %s (%d bits of security); OpenSSL security level %d requires %s",
		who, name, bits, securityLevel, minKeyBits(x.PublicKey))
}

// weakDigests are the signature algorithms whose digest is below security
// level 2 (OpenSSL 3 rates SHA-1 at 63 bits and MD5 at 39).
var weakDigests = map[x509.SignatureAlgorithm]string{
	x509.MD2WithRSA:    "MD2",
	x509.MD5WithRSA:    "MD5",
	x509.SHA1WithRSA:   "SHA-1",
	x509.DSAWithSHA1:   "SHA-1",
	x509.ECDSAWithSHA1: "SHA-1",
}

// weakSignatureDetail returns why x's signature is below security level 2, or "".
func weakSignatureDetail(x *x509.Certificate) string {
	digest, ok := weakDigests[x.SignatureAlgorithm]
	if !ok {
		return ""
	}
	return fmt.Sprintf("CA signature digest algorithm too weak: %s (%s); OpenSSL security level %d requires at least SHA-224",
		x.SignatureAlgorithm, digest, securityLevel)
}
