package main

import (
	"fmt"
	"io"
	"os"

	"github.com/sslsocket/sslsocket/ssl"
)

func runCert(args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 || args[0] != "show" {
		return 2, usageError{"usage: sslsock cert show [--der] FILE"}
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
