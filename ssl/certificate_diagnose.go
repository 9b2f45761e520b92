package ssl

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrLooksLikeDer matches, via errors.Is (together with ErrMalformed), the
// error for data read as PEM that holds no PEM block but starts as DER
// does (an ASN.1 SEQUENCE): read it with Der instead.
var ErrLooksLikeDer = errors.New("ssl: the data looks like DER (binary), not PEM")

// noPemCertificate explains why PEM data gave no certificate: a CERTIFICATE
// block without its END line (a truncated file), one whose base64 does
// not decode, only other blocks (a key given for a certificate), DER
// given as PEM, or no PEM at all. The result matches ErrMalformed.
func noPemCertificate(data []byte) error {
	const begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
	if i := bytes.Index(data, []byte(begin)); i >= 0 {
		rest := data[i+len(begin):]
		j := bytes.Index(rest, []byte(end))
		if j < 0 {
			return malformed("no certificate found: the PEM data is truncated (BEGIN CERTIFICATE without its END line)", nil)
		}
		body := strings.Join(strings.Fields(string(rest[:j])), "")
		if _, err := base64.StdEncoding.DecodeString(body); err != nil {
			return malformed("no certificate found: the base64 between BEGIN and END CERTIFICATE is broken", err)
		}
		return malformed("no certificate found: the CERTIFICATE block is not valid PEM (headers or line breaks)", nil)
	}
	var types []string
	for rest := data; ; {
		var block []byte
		k := bytes.Index(rest, []byte("-----BEGIN "))
		if k < 0 {
			break
		}
		block = rest[k+len("-----BEGIN "):]
		e := bytes.Index(block, []byte("-----"))
		if e < 0 {
			break
		}
		types = append(types, string(block[:e]))
		rest = block[e:]
	}
	if len(types) > 0 {
		what := "no certificate found: the PEM data holds " + strings.Join(types, ", ")
		for _, t := range types {
			if strings.Contains(t, "PRIVATE KEY") {
				what += " (a private key, not a certificate)"
				break
			}
		}
		return malformed(what, nil)
	}
	if len(data) > 1 && data[0] == 0x30 {
		return derNotPem{}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return malformed("no certificate found: the data is empty", nil)
	}
	return malformed(fmt.Sprintf("no certificate found: no -----BEGIN CERTIFICATE----- block in %d bytes", len(data)), nil)
}

// derNotPem is DER data read as PEM: it matches ErrMalformed and
// ErrLooksLikeDer.
type derNotPem struct{}

// Error says what the data looks like.
func (derNotPem) Error() string {
	return "ssl: no certificate found: the data looks like DER (binary), not PEM"
}

// Unwrap makes the error match ErrMalformed and ErrLooksLikeDer.
func (derNotPem) Unwrap() []error { return []error{errParse, ErrLooksLikeDer} }
