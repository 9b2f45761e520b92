package main

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"

	"github.com/sslsocket/sslsocket/ssl"
)

func runCert(args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) > 0 && args[0] == "new" {
		return runCertNew(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "show" {
		return 2, usageError{"usage: sslsock cert show [--der] FILE | sslsock cert new [flags]"}
	}
	fs := newFlagSet("cert show", stderr)
	der := fs.Bool("der", false, "FILE holds DER, not PEM")
	if err := parseFlags(fs, args[1:]); err != nil {
		return 2, err
	}
	if fs.NArg() != 1 {
		return 2, usageError{"cert show takes exactly one file"}
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return 1, err
	}
	format := ssl.Pem
	if *der {
		format = ssl.Der
	}
	certs, err := ssl.ParseCertificates(data, format)
	if err != nil {
		return 1, fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	for _, c := range certs {
		fmt.Fprint(stdout, c.ToText())
	}
	return 0, nil
}

// runCertNew mints a CA, intermediate, server leaf or client certificate.
func runCertNew(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlagSet("cert new", stderr)
	kind := fs.String("type", "leaf", "ca, intermediate, leaf or client")
	cn := fs.String("cn", "", "common name (default: localhost for leaves)")
	sans := fs.String("san", "", "subject alternative names a,b (IP addresses are recognised)")
	days := fs.Int("days", 30, "validity in days")
	keyType := fs.String("key-type", "ecdsa-p256", "ecdsa-p256, ecdsa-p384, rsa-2048 or ed25519")
	issuerCert := fs.String("issuer-cert", "", "issuing CA certificate (PEM); none: self-signed")
	issuerKey := fs.String("issuer-key", "", "issuing CA key (PEM)")
	out := fs.String("out", "", "write OUT.pem and OUT.key (required)")
	if err := parseFlags(fs, args); err != nil {
		return 2, err
	}
	if *out == "" || fs.NArg() != 0 {
		return 2, usageError{"cert new needs --out PREFIX and no arguments"}
	}
	spec := pki.Spec{CommonName: *cn, Key: pki.KeyType(*keyType), NotAfter: time.Now().Add(time.Duration(*days) * 24 * time.Hour)}
	switch *kind {
	case "ca", "intermediate":
		spec.IsCA = true
		if spec.CommonName == "" {
			spec.CommonName = "sslsock " + *kind
		}
	case "leaf":
		spec.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		if spec.CommonName == "" {
			spec.CommonName = "localhost"
		}
		if *sans == "" {
			*sans = spec.CommonName
		}
	case "client":
		spec.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		if spec.CommonName == "" {
			spec.CommonName = "client"
		}
	default:
		return 2, usageError{fmt.Sprintf("--type must be ca, intermediate, leaf or client, not %q", *kind)}
	}
	for _, n := range strings.Split(*sans, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if ip := net.ParseIP(n); ip != nil {
			spec.IPs = append(spec.IPs, ip)
		} else {
			spec.DNSNames = append(spec.DNSNames, n)
		}
	}
	if _, err := pki.NewKey(spec.Key); err != nil {
		return 2, usageError{err.Error()}
	}
	var c *pki.Cert
	var err error
	if *issuerCert == "" {
		if *kind == "intermediate" {
			return 2, usageError{"an intermediate needs --issuer-cert and --issuer-key"}
		}
		c, err = pki.SelfSigned(spec)
	} else {
		certs, cerr := ssl.CertificatesFromFile(*issuerCert, ssl.Pem)
		if cerr != nil {
			return 1, cerr
		}
		keyPEM, kerr := os.ReadFile(*issuerKey)
		if kerr != nil {
			return 1, kerr
		}
		key, kerr := ssl.ParseKey(keyPEM, ssl.Opaque, ssl.Pem, ssl.PrivateKey, nil)
		if kerr != nil {
			return 1, fmt.Errorf("%s: %w", *issuerKey, kerr)
		}
		signer, ok := key.Handle().(crypto.Signer)
		if !ok {
			return 1, fmt.Errorf("%s: not a signing key", *issuerKey)
		}
		c, err = (&pki.Cert{Cert: certs[0].X509(), Key: signer}).Issue(spec)
	}
	if err != nil {
		return 1, err
	}
	certPath, keyPath, err := c.WriteFiles(filepath.Dir(*out), filepath.Base(*out))
	if err != nil {
		return 1, err
	}
	fmt.Fprintf(stdout, "wrote %s and %s (%s, sha256 %s)\n", certPath, keyPath, ssl.NewCertificate(c.Cert).Subject(), ssl.NewCertificate(c.Cert).SHA256())
	return 0, nil
}
