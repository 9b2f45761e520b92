package ssl

import (
	"errors"
	"fmt"
	"io"

	"software.sslmate.com/src/go-pkcs12"
)

// Pkcs12 is the content of a PKCS#12 (.p12, .pfx) bundle.
type Pkcs12 struct {
	Key            Key
	Certificate    Certificate
	CaCertificates []Certificate
}

// ImportPkcs12 decodes a PKCS#12 bundle (QSslCertificate::importPkcs12): the
// private key, its certificate and any CA certificates. Both OpenSSL 3's
// default files (PBES2/AES, SHA-256 MAC) and legacy (RC2/3DES) ones load.
// A bundle without a private key is an error, as in Qt. A wrong passphrase
// gives an error matching ErrBadPassphrase; undecodable data one matching
// ErrMalformed.
func ImportPkcs12(r io.Reader, passphrase string) (Pkcs12, error) {
	data, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return Pkcs12{}, err
	}
	key, cert, cas, err := pkcs12.DecodeChain(data, passphrase)
	if err != nil {
		if errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption) {
			return Pkcs12{}, fmt.Errorf("ssl: PKCS#12: %w", ErrBadPassphrase)
		}
		return Pkcs12{}, malformed("PKCS#12", err)
	}
	k := NewKey(key)
	if k.IsNull() || k.Type() != PrivateKey {
		return Pkcs12{}, malformed("PKCS#12: unable to convert private key", nil)
	}
	out := Pkcs12{Key: k, Certificate: NewCertificate(cert)}
	for _, c := range cas {
		out.CaCertificates = append(out.CaCertificates, NewCertificate(c))
	}
	return out, nil
}
