package main

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

func (a *app) certCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "cert",
		Short: "show or mint certificates",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return usagef("cert needs a subcommand: show, new or ech-new (see \"sslsock cert --help\")")
		},
	}
	c.AddCommand(a.certShowCommand(), a.certNewCommand(), a.certECHNewCommand())
	return c
}

func (a *app) certShowCommand() *cobra.Command {
	var der bool
	c := &cobra.Command{
		Use:   "show [--der] FILE",
		Short: "print each certificate in FILE (fingerprints in the form --ignore takes)",
		Args:  exactArgs(1, "exactly one file"),
	}
	c.Flags().BoolVar(&der, "der", false, "FILE holds DER, not PEM")
	c.RunE = a.command(func(args []string) (int, error) {
		data, err := os.ReadFile(args[0])
		if err != nil {
			return 2, inputError("", args[0], err, "")
		}
		format := ssl.Pem
		if der {
			format = ssl.Der
		}
		certs, err := ssl.ParseCertificates(data, format)
		if err != nil {
			return 2, inputError("", args[0], err, "use --der")
		}
		for _, c := range certs {
			fmt.Fprint(a.stdout, c.ToText())
			fmt.Fprintf(a.stdout, "  sha256 (for --ignore CODE@SHA256): %s\n", c.SHA256())
		}
		return 0, nil
	})
	return c
}

// certNewOpts are cert new's flags.
type certNewOpts struct {
	kind, cn, sans, keyType string
	issuerCert, issuerKey   string
	issuerPass              string
	out                     string
	days                    int
	force, chain            bool
	daysSet                 bool // --days was given
	p12                     bool
	p12Pass                 string
}

func (a *app) certNewCommand() *cobra.Command {
	var o certNewOpts
	c := &cobra.Command{
		Use:   "new [flags] --out PREFIX",
		Short: "mint a CA, intermediate, server or client certificate (PREFIX.pem and PREFIX.key)",
		Example: `  sslsock cert new --type ca --cn "My CA" --out ca
  sslsock cert new --san example.test,127.0.0.1 --issuer-cert ca.pem --issuer-key ca.key --out server --chain --p12`,
		Args: exactArgs(0, "no arguments (the output goes to --out PREFIX)"),
	}
	fs := c.Flags()
	fs.StringVar(&o.kind, "type", "leaf", "ca, intermediate, leaf (a server) or client")
	fs.StringVar(&o.cn, "cn", "", "common name (default: the first --san; for leaves without --san, localhost)")
	fs.StringVar(&o.sans, "san", "", "subject alternative names a,b: DNS names (*.example.com too) and IP addresses")
	fs.IntVar(&o.days, "days", 0, "validity in days (default: 365 for CAs, 30 for others; never beyond the issuer's)")
	fs.StringVar(&o.keyType, "key-type", "ecdsa-p256", "key type: ecdsa-p256, ecdsa-p384, rsa-2048 or ed25519")
	fs.StringVar(&o.issuerCert, "issuer-cert", "", "issuing CA certificate (PEM); none: self-signed")
	fs.StringVar(&o.issuerKey, "issuer-key", "", "issuing CA's private key")
	fs.StringVar(&o.issuerPass, "issuer-pass", "", "passphrase of --issuer-key")
	fs.StringVar(&o.out, "out", "", "write PREFIX.pem and PREFIX.key (required)")
	fs.BoolVar(&o.force, "force", false, "overwrite existing files")
	fs.BoolVar(&o.chain, "chain", false, "also write PREFIX-chain.pem: the certificate, then the issuer's chain from --issuer-cert")
	fs.BoolVar(&o.p12, "p12", false, "also write PREFIX.p12 (PKCS#12: key, certificate and issuer chain)")
	fs.StringVar(&o.p12Pass, "p12-pass", "", "password of PREFIX.p12 (default: empty)")
	c.RunE = a.command(func([]string) (int, error) {
		o.daysSet = fs.Changed("days")
		return a.runCertNew(&o)
	})
	return c
}

// runCertNew mints a CA, intermediate, server leaf or client certificate.
func (a *app) runCertNew(o *certNewOpts) (int, error) {
	if o.out == "" {
		return 2, usagef("cert new needs --out PREFIX")
	}
	if o.daysSet && o.days <= 0 {
		return 2, usagef("--days must be positive, not %d", o.days)
	}
	if !o.daysSet {
		o.days = 30
		if o.kind == "ca" || o.kind == "intermediate" {
			o.days = 365
		}
	}
	if (o.issuerCert == "") != (o.issuerKey == "") {
		return 2, usagef("--issuer-cert and --issuer-key go together")
	}
	keyType, err := parseKeyTypeFlag(o.keyType)
	if err != nil {
		return 2, err
	}
	var names []string
	for _, n := range strings.Split(o.sans, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	spec := pki.Spec{CommonName: o.cn, Key: keyType, NotAfter: time.Now().Add(time.Duration(o.days) * 24 * time.Hour)}
	if spec.CommonName == "" && len(names) > 0 {
		spec.CommonName = names[0]
	}
	switch o.kind {
	case "ca", "intermediate":
		spec.IsCA = true
		if spec.CommonName == "" {
			spec.CommonName = "sslsock " + o.kind
		}
		if o.kind == "intermediate" && o.issuerCert == "" {
			return 2, usagef("an intermediate needs --issuer-cert and --issuer-key")
		}
	case "leaf":
		spec.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		if spec.CommonName == "" {
			spec.CommonName = "localhost"
		}
		if len(names) == 0 {
			names = []string{spec.CommonName}
		}
	case "client":
		spec.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		if spec.CommonName == "" {
			spec.CommonName = "client"
		}
	default:
		return 2, usagef("--type must be ca, intermediate, leaf or client, not %q", o.kind)
	}
	for _, n := range names {
		ip, err := parseSAN(n)
		switch {
		case err != nil && o.sans == "":
			return 2, usagef("--cn %q is not a DNS name, and a server certificate without --san takes its name from --cn: give --san", n)
		case err != nil:
			return 2, err
		case ip != nil:
			spec.IPs = append(spec.IPs, ip)
		default:
			spec.DNSNames = append(spec.DNSNames, n)
		}
	}
	paths := []string{o.out + ".pem", o.out + ".key"}
	if o.chain {
		paths = append(paths, o.out+"-chain.pem")
	}
	if o.p12 {
		paths = append(paths, o.out+".p12")
	}
	if !o.force {
		for _, p := range paths {
			if _, err := os.Lstat(p); err == nil {
				return 1, fmt.Errorf("%s exists; not overwriting it without --force", p)
			}
		}
	}

	var issuerChain []ssl.Certificate
	var c *pki.Cert
	if o.issuerCert == "" {
		c, err = pki.SelfSigned(spec)
	} else {
		var issuer *pki.Cert
		issuer, issuerChain, err = loadIssuer(o.issuerCert, o.issuerKey, o.issuerPass)
		if err != nil {
			return 2, inputError("", "", err, pemOnlyHint(o.issuerCert))
		}
		if spec.NotAfter.After(issuer.Cert.NotAfter) {
			spec.NotAfter = issuer.Cert.NotAfter
			fmt.Fprintf(a.stderr, "sslsock: note: validity shortened to the issuer's, until %s\n", issuer.Cert.NotAfter.Format("2006-01-02 15:04 MST"))
		}
		c, err = issuer.Issue(spec)
	}
	if err != nil {
		return 1, err
	}
	files := map[string][]byte{o.out + ".pem": c.CertPEM(), o.out + ".key": c.KeyPEM()}
	if o.chain {
		bundle := c.CertPEM()
		for _, x := range issuerChain {
			bundle = append(bundle, x.ToPem()...)
		}
		files[o.out+"-chain.pem"] = bundle
	}
	if o.p12 {
		var cas []*x509.Certificate
		for _, x := range issuerChain {
			cas = append(cas, x.X509())
		}
		der, err := pkcs12.Modern.Encode(c.Key, c.Cert, cas, o.p12Pass)
		if err != nil {
			return 1, fmt.Errorf("PKCS#12: %w", err)
		}
		files[o.out+".p12"] = der
	}
	for _, p := range paths {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".key") || strings.HasSuffix(p, ".p12") {
			mode = 0o600
		}
		if err := writeFile(p, files[p], mode, o.force); err != nil {
			return 1, err
		}
	}
	leaf := ssl.NewCertificate(c.Cert)
	fmt.Fprintf(a.stdout, "wrote %s (%s; sha256 %s)\n", strings.Join(paths, ", "), leaf.Subject(), leaf.SHA256())
	return 0, nil
}

// writeFile creates path; without force it never replaces a file that
// appeared meanwhile.
func writeFile(path string, data []byte, mode os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// loadIssuer reads the issuing CA: its certificate (the first of the file;
// the rest is its chain), its key, which must match, and checks that it
// may issue certificates.
func loadIssuer(certFile, keyFile, pass string) (*pki.Cert, []ssl.Certificate, error) {
	var cfg ssl.Configuration
	if err := cfg.LoadKeyPair(certFile, keyFile, []byte(pass)); err != nil {
		if errors.Is(err, ssl.ErrBadPassphrase) {
			return nil, nil, fmt.Errorf("%s: wrong or missing passphrase (--issuer-pass)", keyFile)
		}
		return nil, nil, err
	}
	chain := cfg.LocalCertificateChain()
	x := chain[0].X509()
	if !x.BasicConstraintsValid || !x.IsCA {
		return nil, nil, fmt.Errorf("%s: %q is not a CA certificate (no basicConstraints CA:TRUE); it cannot issue certificates", certFile, chain[0].SubjectDisplayName())
	}
	if x.KeyUsage != 0 && x.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, nil, fmt.Errorf("%s: %q may not sign certificates (its keyUsage lacks keyCertSign)", certFile, chain[0].SubjectDisplayName())
	}
	if time.Now().After(x.NotAfter) {
		return nil, nil, fmt.Errorf("%s: the issuer expired on %s", certFile, x.NotAfter.Format("2006-01-02"))
	}
	signer, ok := cfg.PrivateKey().Handle().(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s: not a signing key", keyFile)
	}
	return &pki.Cert{Cert: x, Key: signer}, chain, nil
}

// parseSAN checks one --san entry: an IP address (returned), or a DNS name
// — letters, digits and hyphens in labels of 1 to 63 bytes, no hyphen at
// either end of a label, 253 bytes at most, a "*." wildcard only in front.
func parseSAN(n string) (net.IP, error) {
	if ip := net.ParseIP(n); ip != nil {
		return ip, nil
	}
	if strings.Trim(n, "0123456789.") == "" || strings.Contains(n, ":") {
		return nil, usagef("--san %q is not a valid IP address", n)
	}
	name := strings.TrimPrefix(strings.TrimSuffix(n, "."), "*.")
	bad := func(why string) (net.IP, error) {
		return nil, usagef("--san %q is not a valid DNS name (%s)", n, why)
	}
	if len(name) == 0 || len(name) > 253 {
		return bad("1 to 253 bytes")
	}
	for _, label := range strings.Split(name, ".") {
		switch {
		case label == "":
			return bad("an empty label")
		case len(label) > 63:
			return bad("a label longer than 63 bytes")
		case label[0] == '-' || label[len(label)-1] == '-':
			return bad("a label starts or ends with '-'")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				if r == '*' {
					return bad("'*' only as the whole first label, as in *.example.com")
				}
				return bad(fmt.Sprintf("%q is not a letter, digit or '-'", r))
			}
		}
	}
	return nil, nil
}
