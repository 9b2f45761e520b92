package openssl

import "crypto/tls"

// groupFromNID maps what SSL_get_negotiated_group returns — an OpenSSL NID,
// or TLSEXT_nid_unknown (0x1000000) with the TLS group id in the low bits
// for groups that have no NID (X25519MLKEM768 on libssl 3.5 and later) —
// to the TLS named-group code point. libssl 3.0 negotiates no
// post-quantum group; this backend reports whatever the library did.
func groupFromNID(nid int) tls.CurveID {
	const nidUnknown = 0x1000000
	if nid&nidUnknown != 0 {
		return tls.CurveID(nid & 0xffff)
	}
	switch nid {
	case 415: // NID_X9_62_prime256v1
		return tls.CurveP256
	case 715: // NID_secp384r1
		return tls.CurveP384
	case 716: // NID_secp521r1
		return tls.CurveP521
	case 1034: // NID_X25519
		return tls.X25519
	case 1035: // NID_X448
		return 30
	case 927: // NID_brainpoolP256r1 (TLS 1.2 code point)
		return 26
	case 931: // NID_brainpoolP384r1
		return 27
	case 933: // NID_brainpoolP512r1
		return 28
	case 1126, 1127, 1128, 1129, 1130: // NID_ffdhe2048 … NID_ffdhe8192
		return tls.CurveID(256 + nid - 1126)
	}
	return 0
}
