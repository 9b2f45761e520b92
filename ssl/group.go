package ssl

import (
	"crypto/tls"
	"strings"
)

// GroupName names a TLS key-exchange group (SessionKeyExchangeGroup) as
// the IANA registry does: "X25519MLKEM768", "X25519", "secp256r1",
// "X448", "ffdhe2048", …; "group N" for one it does not know, "" for 0.
func GroupName(id tls.CurveID) string {
	switch {
	case id == 0:
		return ""
	case id >= 23 && id <= 25:
		return [...]string{"secp256r1", "secp384r1", "secp521r1"}[id-23]
	case id == 30:
		return "X448"
	case id >= 26 && id <= 28:
		return [...]string{"brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1"}[id-26]
	case id >= 256 && id <= 260:
		return [...]string{"ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"}[id-256]
	}
	name := id.String()
	if strings.HasPrefix(name, "CurveID(") {
		return "group " + strings.TrimSuffix(strings.TrimPrefix(name, "CurveID("), ")")
	}
	return name
}
