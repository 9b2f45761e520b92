package main

import (
	"strings"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// cliProtocols are the protocols --protocol offers (a stream socket takes
// no DTLS, and UnknownProtocol is no choice), in the order --help lists them.
var cliProtocols = []ssl.Protocol{ssl.SecureProtocols, ssl.TlsV1_3, ssl.TlsV1_3OrLater, ssl.TlsV1_2, ssl.TlsV1_2OrLater,
	ssl.TlsV1_1, ssl.TlsV1_1OrLater, ssl.TlsV1_0, ssl.TlsV1_0OrLater, ssl.AnyProtocol}

// squash folds the ways people write a protocol or key type: case, "v",
// '.', '_', '-' and spaces do not matter ("TLS1.3", "tls13", "TLSv1_3",
// "TlsV1_3" are one).
func squash(s string) string {
	s = strings.ToLower(s)
	s = strings.NewReplacer(".", "", "_", "", "-", "", " ", "", "tlsv", "tls").Replace(s)
	return s
}

// parseProtocolFlag reads --protocol: Qt's names (TlsV1_3) and the usual
// spellings of them (TLS1.3, tls13, tlsv1.3, tls1.2+ for OrLater). The
// error lists the names.
func parseProtocolFlag(s string) (ssl.Protocol, error) {
	want := squash(s)
	if strings.HasSuffix(want, "+") {
		want = strings.TrimSuffix(want, "+") + "orlater"
	}
	for _, p := range cliProtocols {
		if squash(p.String()) == want {
			return p, nil
		}
	}
	if p, err := ssl.ParseProtocol(s); err == nil && p != ssl.UnknownProtocol && !p.IsDtls() { // the decimal value
		return p, nil
	}
	return 0, usagef("--protocol: unknown protocol %q (use one of %s; TLS1.3, tls13 and TLSv1.2+ are understood too)", s, protocolNames())
}

func protocolNames() string {
	var names []string
	for _, p := range cliProtocols {
		names = append(names, p.String())
	}
	return strings.Join(names, ", ")
}

// keyTypes are cert new's --key-type values.
var keyTypes = []pki.KeyType{pki.ECDSAP256, pki.ECDSAP384, pki.RSA2048, pki.Ed25519}

// parseKeyTypeFlag reads --key-type (case and separators do not matter:
// ECDSA-P256, ecdsa_p256, RSA2048). The error lists the names.
func parseKeyTypeFlag(s string) (pki.KeyType, error) {
	var names []string
	for _, k := range keyTypes {
		if squash(string(k)) == squash(s) {
			return k, nil
		}
		names = append(names, string(k))
	}
	return "", usagef("--key-type: unknown key type %q (use one of %s)", s, strings.Join(names, ", "))
}
