package ssl_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// Verify a chain and list every problem, as QSslCertificate::verify does.
func ExampleVerifyChain() {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Example Root", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "www.example.com", DNSNames: []string{"www.example.com"}})

	chain := []ssl.Certificate{ssl.NewCertificate(leaf.Cert)}
	errs := ssl.VerifyChain(chain, ssl.VerifyOptions{
		Roots:    []ssl.Certificate{ssl.NewCertificate(root.Cert)},
		HostName: "mail.example.com",
	})
	for _, e := range errs {
		fmt.Println(e.Code.String(), "-", e.Certificate.SubjectDisplayName())
	}
	// Output:
	// HostNameMismatch - www.example.com
}

// Errors work with errors.Is: match a code, or an exact (code, certificate) pair.
func ExampleVerificationError() {
	self := pki.MustSelfSigned(pki.Spec{CommonName: "self.test", DNSNames: []string{"self.test"}})
	cert := ssl.NewCertificate(self.Cert)
	errs := ssl.VerifyChain([]ssl.Certificate{cert}, ssl.VerifyOptions{Roots: []ssl.Certificate{}, HostName: "self.test"})
	err := error(&ssl.VerificationError{Errors: errs})

	fmt.Println(errors.Is(err, ssl.SelfSignedCertificate))
	fmt.Println(errors.Is(err, ssl.NewError(ssl.SelfSignedCertificate, cert)))
	fmt.Println(errors.Is(err, ssl.CertificateExpired))
	fmt.Println(err)
	// Output:
	// true
	// true
	// false
	// ssl: certificate verification failed: SelfSignedCertificate: The certificate is self-signed, and untrusted (self.test)
}

// Load certificates the way QSslCertificate::fromPath does, with a wildcard.
func ExampleCertificatesFromPath() {
	dir, err := os.MkdirTemp("", "certs")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{"a", "b"} {
		c := pki.MustSelfSigned(pki.Spec{CommonName: name + ".test"})
		if err := os.WriteFile(filepath.Join(dir, name+".pem"), c.CertPEM(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	certs, err := ssl.CertificatesFromPath(filepath.Join(dir, "*.pem"), ssl.Pem, ssl.Wildcard)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range certs {
		fmt.Println(c.SubjectInfo(ssl.CommonName))
	}
	// Output:
	// [a.test]
	// [b.test]
}

// Read an encrypted private key; a wrong passphrase is reported as such.
func ExampleParseKey() {
	signer, err := pki.NewKey(pki.ECDSAP256)
	if err != nil {
		log.Fatal(err)
	}
	encrypted, err := ssl.NewKey(signer).ToPem([]byte("secret"))
	if err != nil {
		log.Fatal(err)
	}
	key, err := ssl.ParseKey(encrypted, ssl.Ec, ssl.Pem, ssl.PrivateKey, []byte("secret"))
	fmt.Println(key.Algorithm(), key.Length(), err)

	_, err = ssl.ParseKey(encrypted, ssl.Ec, ssl.Pem, ssl.PrivateKey, []byte("wrong"))
	fmt.Println(errors.Is(err, ssl.ErrBadPassphrase))
	// Output:
	// Ec 256 <nil>
	// true
}

// Look up a cipher by the OpenSSL name Qt uses.
func ExampleCipherByName() {
	c := ssl.CipherByName("ECDHE-ECDSA-AES256-GCM-SHA384")
	fmt.Println(c.Protocol(), c.KeyExchangeMethod(), c.AuthenticationMethod(), c.EncryptionMethod(), c.UsedBits())
	fmt.Println(c.IANAName())
	// Output:
	// TlsV1_2 ECDH ECDSA AESGCM(256) 256
	// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
}

// Qt's host-name rules, wildcards included.
func ExampleMatchesHostname() {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Root", IsCA: true})
	c := ssl.NewCertificate(root.MustIssue(pki.Spec{CommonName: "Example", DNSNames: []string{"*.example.com"}}).Cert)
	for _, host := range []string{"www.example.com", "a.b.example.com", "example.com"} {
		fmt.Println(host, ssl.MatchesHostname(c, host))
	}
	// Output:
	// www.example.com true
	// a.b.example.com false
	// example.com false
}

// Inspect a certificate.
func ExampleCertificate_ToText() {
	c := ssl.NewCertificate(pki.MustSelfSigned(pki.Spec{CommonName: "dump.test", DNSNames: []string{"dump.test"}}).Cert)
	text := c.ToText()
	fmt.Println(strings.Contains(text, "Subject: CN = dump.test"), strings.Contains(text, "DNS:dump.test"))
	// Output:
	// true true
}
