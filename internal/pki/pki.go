// Package pki mints throwaway certificate authorities, intermediates, leaves
// and client certificates, with any of the defects the verifier must
// report. It is for tests, the demo and the command-line tool's default
// server identity; nothing it makes should be trusted beyond one process.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// KeyType selects the key algorithm of a minted certificate.
type KeyType string

// Key types.
const (
	ECDSAP256 KeyType = "ecdsa-p256" // the default: fast to generate
	ECDSAP384 KeyType = "ecdsa-p384"
	RSA2048   KeyType = "rsa-2048"
	Ed25519   KeyType = "ed25519"
)

// Spec describes one certificate. The zero Spec gives a leaf valid from an
// hour ago for a day, with an ECDSA P-256 key and no names.
type Spec struct {
	CommonName   string
	Organization string
	DNSNames     []string
	IPs          []net.IP
	Emails       []string
	// NotBefore and NotAfter default to now-1h and now+24h.
	NotBefore, NotAfter time.Time
	// IsCA marks a CA: basicConstraints CA:TRUE and keyCertSign|cRLSign.
	IsCA bool
	// NoBasicConstraints leaves the basicConstraints extension out.
	NoBasicConstraints bool
	// PathLen sets pathLenConstraint when not nil.
	PathLen *int
	// KeyUsage overrides the default key usage (0 keeps the default).
	KeyUsage x509.KeyUsage
	// NoKeyUsage leaves the keyUsage extension out.
	NoKeyUsage bool
	// ExtKeyUsage defaults to serverAuth+clientAuth for leaves, none for CAs.
	ExtKeyUsage []x509.ExtKeyUsage
	// NoExtKeyUsage leaves the extendedKeyUsage extension out of a leaf.
	NoExtKeyUsage bool
	Key           KeyType
	// Serial defaults to a random 128-bit number.
	Serial *big.Int
	// BadSignature corrupts the signature after signing.
	BadSignature bool
	// OCSPServer sets the authorityInfoAccess OCSP URL.
	OCSPServer []string
}

// Cert is a minted certificate with its private key.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// PathLen returns a pointer to n, for Spec.PathLen.
func PathLen(n int) *int { return &n }

// NewKey generates a private key of type t.
func NewKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case "", ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("pki: unknown key type %q", t)
}

// SelfSigned mints a self-signed certificate (a root CA when s.IsCA).
func SelfSigned(s Spec) (*Cert, error) { return issue(s, nil) }

// Issue mints a certificate signed by c.
func (c *Cert) Issue(s Spec) (*Cert, error) { return issue(s, c) }

// MustSelfSigned is SelfSigned for tests and examples: it panics on error.
func MustSelfSigned(s Spec) *Cert { return must(SelfSigned(s)) }

// MustIssue is Issue for tests and examples: it panics on error.
func (c *Cert) MustIssue(s Spec) *Cert { return must(c.Issue(s)) }

func must(c *Cert, err error) *Cert {
	if err != nil {
		panic(err)
	}
	return c
}

func issue(s Spec, parent *Cert) (*Cert, error) {
	key, err := NewKey(s.Key)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if s.NotBefore.IsZero() {
		s.NotBefore = now.Add(-time.Hour)
	}
	if s.NotAfter.IsZero() {
		s.NotAfter = now.Add(24 * time.Hour)
	}
	serial := s.Serial
	if serial == nil {
		serial, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		if err != nil {
			return nil, err
		}
		serial.Add(serial, big.NewInt(1))
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: s.CommonName},
		DNSNames:              s.DNSNames,
		IPAddresses:           s.IPs,
		EmailAddresses:        s.Emails,
		NotBefore:             s.NotBefore,
		NotAfter:              s.NotAfter,
		BasicConstraintsValid: !s.NoBasicConstraints,
		IsCA:                  s.IsCA,
		OCSPServer:            s.OCSPServer,
	}
	if s.Organization != "" {
		tmpl.Subject.Organization = []string{s.Organization}
	}
	if s.PathLen != nil {
		tmpl.MaxPathLen = *s.PathLen
		tmpl.MaxPathLenZero = *s.PathLen == 0
	} else {
		tmpl.MaxPathLen = -1
	}
	switch {
	case s.NoKeyUsage:
	case s.KeyUsage != 0:
		tmpl.KeyUsage = s.KeyUsage
	case s.IsCA:
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	default:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := key.(*rsa.PrivateKey); ok {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
	}
	switch {
	case s.ExtKeyUsage != nil:
		tmpl.ExtKeyUsage = s.ExtKeyUsage
	case !s.IsCA && !s.NoExtKeyUsage:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	signerCert, signerKey := tmpl, key
	if parent != nil {
		signerCert, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signerKey)
	if err != nil {
		return nil, err
	}
	if s.BadSignature {
		der[len(der)-3] ^= 0x55
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Cert{Cert: cert, Key: key}, nil
}

// CertPEM returns the certificate in PEM.
func (c *Cert) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})
}

// KeyPEM returns the private key as unencrypted PKCS#8 PEM.
func (c *Cert) KeyPEM() []byte {
	der, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		panic(err) // every key NewKey makes can be marshalled
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// ChainPEM concatenates the PEM of several certificates.
func ChainPEM(certs ...*Cert) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, c.CertPEM()...)
	}
	return out
}

// WriteFiles writes name.pem (the certificate) and name.key (its key) in dir
// and returns their paths.
func (c *Cert) WriteFiles(dir, name string) (certPath, keyPath string, err error) {
	certPath, keyPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	if err = os.WriteFile(certPath, c.CertPEM(), 0o644); err != nil {
		return "", "", err
	}
	if err = os.WriteFile(keyPath, c.KeyPEM(), 0o600); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// MustIssueServerOnly mints, under issuer, a leaf whose extendedKeyUsage is
// serverAuth alone (the receiver only names the subject to copy).
func (c *Cert) MustIssueServerOnly(issuer *Cert) *Cert {
	return issuer.MustIssue(Spec{CommonName: c.Cert.Subject.CommonName + " (server only)",
		DNSNames: c.Cert.DNSNames, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
}
