// Command sslsock is the command-line face of package ssl: certificate
// verification with Qt's complete error lists, certificate inspection, and a
// tour of the library on loopback.
//
// Usage:
//
//	sslsock connect [flags] HOST:PORT
//	sslsock serve [flags]
//	sslsock verify [--host H] [--ca FILE]... [--no-system-ca] [--purpose server|client] [--depth N] [--json] CHAIN.pem
//	sslsock cert show [--der] FILE
//	sslsock backends [--json]
//	sslsock bench [--duration D]
//	sslsock demo
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

// Error returns the message shown after "sslsock: ".
func (e usageError) Error() string { return e.msg }

const usage = `usage:
  sslsock connect [flags] HOST:PORT     connect, handshake, report, then relay stdin and the socket
  sslsock serve [flags]                 serve TLS (echo, www, discard, source:N)
  sslsock backends [--json]             the TLS backends, their protocols, features and ciphers
  sslsock bench [--duration 1s]         headline benchmarks against raw crypto/tls, as ratios
  sslsock demo                          a tour of certificate verification on a throwaway PKI
  sslsock verify [flags] CHAIN.pem      verify a chain (leaf first) and list every problem
  sslsock cert show [--der] FILE        print each certificate in FILE
run "sslsock COMMAND --help" for the flags of a command
`

func main() {
	os.Exit(runWith(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command line with no standard input.
func run(args []string, stdout, stderr io.Writer) int {
	return runWith(context.Background(), args, strings.NewReader(""), stdout, stderr)
}

// runWith executes one command line and returns the exit status: 0 success,
// 1 the operation failed (not encrypted, verification errors), 2 usage error.
func runWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	var status int
	switch args[0] {
	case "connect":
		status, err = runConnect(args[1:], stdin, stdout, stderr)
	case "serve":
		status, err = runServe(ctx, args[1:], stdout, stderr)
	case "backends":
		status, err = runBackends(args[1:], stdout, stderr)
	case "bench":
		status, err = runBench(args[1:], stdout, stderr)
	case "demo":
		status, err = runDemo(args[1:], stdout)
	case "verify":
		status, err = runVerify(args[1:], stdout, stderr)
	case "cert":
		status, err = runCert(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "sslsock: %s\n", ue.msg)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "sslsock: %v\n", err)
		return 1
	}
	return status
}
