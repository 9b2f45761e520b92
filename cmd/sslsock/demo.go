package main

import (
	"fmt"
	"io"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// runDemo mints a throwaway PKI and shows what the verifier reports for a
// good chain and for each classic defect, then how an ignore list of exact
// (code, certificate) pairs works.
func runDemo(args []string, w io.Writer) (int, error) {
	if len(args) > 0 {
		return 2, usageError{"demo takes no arguments"}
	}
	now := time.Now()
	root, err := pki.SelfSigned(pki.Spec{CommonName: "sslsock Demo Root", Organization: "sslsocket", IsCA: true})
	if err != nil {
		return 1, err
	}
	inter := root.MustIssue(pki.Spec{CommonName: "sslsock Demo Intermediate", Organization: "sslsocket", IsCA: true})
	leaf := inter.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	expired := inter.MustIssue(pki.Spec{CommonName: "old.localhost", DNSNames: []string{"old.localhost"},
		NotBefore: now.AddDate(0, 0, -30), NotAfter: now.AddDate(0, 0, -1)})
	self := pki.MustSelfSigned(pki.Spec{CommonName: "self.localhost", DNSNames: []string{"self.localhost"}})
	c := func(p *pki.Cert) ssl.Certificate { return ssl.NewCertificate(p.Cert) }
	roots := []ssl.Certificate{c(root)}

	fmt.Fprintln(w, "A throwaway PKI, minted just now:")
	printChain(w, []ssl.Certificate{c(leaf), c(inter), c(root)})

	cases := []struct {
		title string
		chain []ssl.Certificate
		host  string
	}{
		{"good chain for localhost", []ssl.Certificate{c(leaf), c(inter)}, "localhost"},
		{"same chain, wrong host name", []ssl.Certificate{c(leaf), c(inter)}, "example.com"},
		{"expired certificate for another name: every problem is listed", []ssl.Certificate{c(expired), c(inter)}, "localhost"},
		{"intermediate not sent", []ssl.Certificate{c(leaf)}, "localhost"},
		{"self-signed certificate", []ssl.Certificate{c(self)}, "self.localhost"},
	}
	for _, tc := range cases {
		fmt.Fprintf(w, "\n%s (host %q):\n", tc.title, tc.host)
		printErrors(w, ssl.VerifyChain(tc.chain, ssl.VerifyOptions{Roots: roots, HostName: tc.host}), tc.chain)
	}

	// Ignoring exactly one error, as QSslSocket::ignoreSslErrors(list) does.
	errs := ssl.VerifyChain([]ssl.Certificate{c(self)}, ssl.VerifyOptions{Roots: roots, HostName: "self.localhost"})
	ignore := []ssl.Error{ssl.NewError(ssl.SelfSignedCertificate, c(self))}
	fmt.Fprintf(w, "\nIgnoring exactly [SelfSignedCertificate for %s]:\n", c(self).SubjectDisplayName())
	fmt.Fprintf(w, "  all reported errors ignored: %v\n", allIgnored(errs, ignore))
	other := pki.MustSelfSigned(pki.Spec{CommonName: "self.localhost", DNSNames: []string{"self.localhost"}})
	errs = ssl.VerifyChain([]ssl.Certificate{c(other)}, ssl.VerifyOptions{Roots: roots, HostName: "self.localhost"})
	fmt.Fprintf(w, "  same name, different certificate -> still ignored: %v (the pair names the certificate)\n", allIgnored(errs, ignore))
	return 0, nil
}

// allIgnored is Qt's rule: every actual error must be in the ignore list.
func allIgnored(errs, ignore []ssl.Error) bool {
	for _, e := range errs {
		if !ssl.ContainsError(ignore, e) {
			return false
		}
	}
	return true
}
