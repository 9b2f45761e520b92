package ssl

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// LoadKeyPair reads a certificate chain (PEM, leaf first) and the leaf's
// private key (PEM or DER; PKCS#1, SEC 1 or PKCS#8, encrypted ones with
// passphrase) and sets both, like tls.LoadX509KeyPair. It fails, leaving
// the configuration unchanged, when a file cannot be read or decoded (the
// error matches ErrMalformed or ErrBadPassphrase) or when the key is not the
// leaf's (ErrInvalidUserData).
func (c *Configuration) LoadKeyPair(certFile, keyFile string, passphrase []byte) error {
	chain, err := readChainFile(certFile)
	if err != nil {
		return err
	}
	key, err := readPrivateKeyFile(keyFile, passphrase)
	if err != nil {
		return err
	}
	if err := keyMatchesCertificate(key, chain[0]); err != nil {
		return fmt.Errorf("%s and %s: %w", certFile, keyFile, err)
	}
	c.SetLocalCertificateChain(chain)
	c.SetPrivateKey(key)
	return nil
}

// SetLocalCertificateChainFile sets the local certificate chain from a PEM
// file holding the leaf first, then its intermediates.
func (c *Configuration) SetLocalCertificateChainFile(path string) error {
	chain, err := readChainFile(path)
	if err != nil {
		return err
	}
	c.SetLocalCertificateChain(chain)
	return nil
}

// SetPrivateKeyFile sets the private key from a PEM or DER file, decrypting
// it with passphrase when it is encrypted.
func (c *Configuration) SetPrivateKeyFile(path string, passphrase []byte) error {
	key, err := readPrivateKeyFile(path, passphrase)
	if err != nil {
		return err
	}
	c.SetPrivateKey(key)
	return nil
}

// SetCaCertificatesFile replaces the trusted CA certificates with those of
// a PEM file (stopping the on-demand use of the system's roots, as
// SetCaCertificates does).
func (c *Configuration) SetCaCertificatesFile(path string) error {
	certs, err := CertificatesFromFile(path, Pem)
	if err != nil {
		return err // names the file
	}
	if len(certs) == 0 {
		return fmt.Errorf("%s: %w", path, malformed("no PEM certificate found", nil))
	}
	c.SetCaCertificates(certs)
	return nil
}

// SetOcspStapleFile sets the DER OCSP response a server staples. A file
// that is not an OCSP response is refused here; Listen also refuses one
// about another certificate or expired.
func (c *Configuration) SetOcspStapleFile(path string) error {
	der, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(c.LocalCertificateChain()) > 0 {
		if err := checkStaple(der, c.LocalCertificateChain(), time.Now()); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	} else if err := checkStapleSyntax(der); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	c.SetOcspStaple(der)
	return nil
}

func readChainFile(path string) ([]Certificate, error) {
	chain, err := CertificatesFromFile(path, Pem)
	if err != nil {
		return nil, err // names the file
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%s: %w", path, malformed("no PEM certificate found", nil))
	}
	return chain, nil
}

func readPrivateKeyFile(path string, passphrase []byte) (Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Key{}, err
	}
	format := Der
	if strings.Contains(string(data), "-----BEGIN") {
		format = Pem
	}
	key, err := ParseKey(data, Opaque, format, PrivateKey, passphrase)
	if err != nil {
		if errors.Is(err, ErrBadPassphrase) {
			return Key{}, fmt.Errorf("%s: wrong or missing passphrase: %w", path, err)
		}
		return Key{}, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}
