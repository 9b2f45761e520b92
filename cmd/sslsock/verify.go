package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/sslsocket/sslsocket/ssl"
)

// multiFlag collects a repeatable string flag.
type multiFlag []string

// String lists the values given so far.
func (m *multiFlag) String() string { return strings.Join(*m, ",") }

// Set adds one value.
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// jsonError is one verification problem in --json output.
type jsonError struct {
	Code        string  `json:"code"`
	Certificate *string `json:"certificate"`
	Message     string  `json:"message"`
}

func toJSONErrors(errs []ssl.Error) []jsonError {
	out := make([]jsonError, 0, len(errs))
	for _, e := range errs {
		je := jsonError{Code: e.Code.String(), Message: e.Error()}
		if !e.Certificate.IsNull() {
			s := e.Certificate.SHA256()
			je.Certificate = &s
		}
		out = append(out, je)
	}
	return out
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return usageError{"help requested"}
		}
		return usageError{err.Error()}
	}
	return nil
}

func runVerify(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlagSet("verify", stderr)
	host := fs.String("host", "", "host name the leaf must be valid for")
	var cas multiFlag
	fs.Var(&cas, "ca", "trusted CA certificates: a file or a glob (repeatable)")
	noSystem := fs.Bool("no-system-ca", false, "do not trust the system's CA certificates")
	purpose := fs.String("purpose", "server", "what the leaf must be fit for: server, client or any")
	depth := fs.Int("depth", 0, "maximum number of intermediates (0: no limit)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parseFlags(fs, args); err != nil {
		return 2, err
	}
	if fs.NArg() != 1 {
		return 2, usageError{"verify takes exactly one file: the chain, leaf first"}
	}
	opts := ssl.VerifyOptions{HostName: *host, Depth: *depth}
	switch *purpose {
	case "server":
		opts.Purpose = ssl.PurposeServerAuth
	case "client":
		opts.Purpose = ssl.PurposeClientAuth
	case "any":
		opts.Purpose = ssl.PurposeAny
	default:
		return 2, usageError{fmt.Sprintf("--purpose must be server, client or any, not %q", *purpose)}
	}
	roots := []ssl.Certificate{}
	if !*noSystem {
		roots = append(roots, ssl.SystemCaCertificates()...)
	}
	for _, pattern := range cas {
		syntax := ssl.FixedString
		if strings.ContainsAny(pattern, "*?[") {
			syntax = ssl.Wildcard
		}
		certs, err := ssl.CertificatesFromPath(pattern, ssl.Pem, syntax)
		if err != nil {
			return 1, fmt.Errorf("--ca %s: %w", pattern, err)
		}
		if len(certs) == 0 {
			return 1, fmt.Errorf("--ca %s: no certificate found", pattern)
		}
		roots = append(roots, certs...)
	}
	opts.Roots = roots
	chain, err := ssl.CertificatesFromFile(fs.Arg(0), ssl.Pem)
	if err != nil {
		return 1, err
	}
	errs := ssl.VerifyChain(chain, opts)
	if *asJSON {
		out := struct {
			Valid  bool        `json:"valid"`
			Chain  []jsonCert  `json:"chain"`
			Errors []jsonError `json:"errors"`
		}{len(errs) == 0, toJSONChain(chain), toJSONErrors(errs)}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return 1, err
		}
	} else {
		printChain(stdout, chain)
		printErrors(stdout, errs, chain)
	}
	if len(errs) > 0 {
		return 1, nil
	}
	return 0, nil
}

// jsonCert is one certificate in --json output.
type jsonCert struct {
	Subject   string `json:"subject"`
	Issuer    string `json:"issuer"`
	Serial    string `json:"serial"`
	SHA256    string `json:"sha256"`
	NotBefore string `json:"notBefore"`
	NotAfter  string `json:"notAfter"`
}

func toJSONChain(chain []ssl.Certificate) []jsonCert {
	out := make([]jsonCert, 0, len(chain))
	for _, c := range chain {
		out = append(out, jsonCert{c.Subject(), c.Issuer(), c.SerialNumber(), c.SHA256(),
			c.EffectiveDate().Format("2006-01-02T15:04:05Z"), c.ExpiryDate().Format("2006-01-02T15:04:05Z")})
	}
	return out
}

func printChain(w io.Writer, chain []ssl.Certificate) {
	for i, c := range chain {
		fmt.Fprintf(w, "  [%d] %s\n      issuer %s\n      valid %s .. %s  sha256 %s…\n", i, c.Subject(), c.Issuer(),
			c.EffectiveDate().Format("2006-01-02"), c.ExpiryDate().Format("2006-01-02"), c.SHA256()[:16])
	}
}

func printErrors(w io.Writer, errs []ssl.Error, chain []ssl.Certificate) {
	if len(errs) == 0 {
		fmt.Fprintln(w, "  verified: no errors")
		return
	}
	for _, e := range errs {
		where := "no certificate"
		for i, c := range chain {
			if c.Equal(e.Certificate) {
				where = fmt.Sprintf("certificate [%d]", i)
			}
		}
		if where == "no certificate" && !e.Certificate.IsNull() {
			where = e.Certificate.SubjectDisplayName()
		}
		fmt.Fprintf(w, "  %-34s %s (%s)\n", e.Code.String(), e.Error(), where)
	}
}
