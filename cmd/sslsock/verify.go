package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/sslsocket/sslsocket/ssl"
)

func (a *app) verifyCommand() *cobra.Command {
	var (
		host, purpose string
		cas, extra    []string
		noSystem      bool
		depth         int
		asJSON, der   bool
	)
	c := &cobra.Command{
		Use:   "verify [flags] CHAIN.pem",
		Short: "verify a certificate chain (leaf first) and list every problem",
		Example: `  sslsock verify --host example.com chain.pem
  sslsock verify --no-system-ca --ca root.pem --untrusted intermediate.pem leaf.pem
  sslsock verify chain.pem --no-system-ca --ca root.pem --json`,
		Args: exactArgs(1, "exactly one file: the chain, leaf first"),
	}
	fs := c.Flags()
	fs.StringVar(&host, "host", "", "host name the leaf must be valid for")
	fs.StringArrayVar(&cas, "ca", nil, "trusted CA certificates: a PEM file, a directory of them or a glob (repeatable)")
	fs.BoolVar(&noSystem, "no-system-ca", false, "do not trust the system's CA certificates")
	fs.StringArrayVar(&extra, "untrusted", nil, "intermediate certificates (PEM) to build the chain with, not trusted (like openssl verify -untrusted; repeatable)")
	fs.StringVar(&purpose, "purpose", "server", "what the leaf must be fit for: server, client or any")
	fs.IntVar(&depth, "depth", 0, "maximum number of intermediate certificates (0: no limit)")
	fs.BoolVar(&der, "der", false, "CHAIN holds DER certificates, not PEM")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	c.RunE = a.command(func(args []string) (int, error) {
		purposes := map[string]ssl.Purpose{"server": ssl.PurposeServerAuth, "client": ssl.PurposeClientAuth, "any": ssl.PurposeAny}
		p, ok := purposes[purpose]
		if !ok {
			return 2, usagef("--purpose must be server, client or any, not %q", purpose)
		}
		if depth < 0 {
			return 2, usagef("--depth must not be negative (0 means no limit)")
		}
		roots, err := loadRoots(cas, noSystem)
		if err != nil {
			return exitFor(err), err
		}
		format := ssl.Pem
		if der {
			format = ssl.Der
		}
		chain, err := ssl.CertificatesFromFile(args[0], format)
		if err != nil {
			return 2, inputError("", args[0], err, "use --der")
		}
		for _, f := range extra { // after the file's own, as a server would send them
			certs, err := ssl.CertificatesFromFile(f, ssl.Pem)
			if err != nil {
				return 2, inputError("--untrusted", f, err, pemOnlyHint(f))
			}
			for _, c := range certs {
				if !slices.ContainsFunc(chain, c.Equal) {
					chain = append(chain, c)
				}
			}
		}
		errs := ssl.VerifyChain(chain, ssl.VerifyOptions{HostName: host, Depth: depth, Purpose: p, Roots: roots})
		if asJSON {
			out := struct {
				Valid  bool        `json:"valid"`
				Chain  []jsonCert  `json:"chain"`
				Errors []jsonError `json:"errors"`
			}{len(errs) == 0, toJSONChain(chain, false), toJSONErrors(errs, host)}
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(out); err != nil {
				return 1, err
			}
		} else {
			printChain(a.stdout, chain, false)
			printErrors(a.stdout, errs, chain, host)
		}
		if len(errs) > 0 {
			return 1, nil
		}
		return 0, nil
	})
	return c
}

// printErrors prints a verification result: every problem, or a verdict
// that there is none.
func printErrors(w io.Writer, errs []ssl.Error, chain []ssl.Certificate, host string) {
	if len(errs) == 0 {
		fmt.Fprintln(w, "  verified: no errors")
		return
	}
	for _, e := range errs {
		fmt.Fprintf(w, "  %-34s %s (%s)\n", e.Code.String(), problemText(e, host), whichCert(e.Certificate, chain))
	}
}
