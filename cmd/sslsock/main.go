// Command sslsock is the command-line face of package ssl, in the spirit of
// openssl s_client/s_server, gnutls-cli and curl -v: connect to a TLS
// server (with STARTTLS) and see every certificate problem, serve TLS,
// verify chains, mint certificates, compare the TLS engines and measure.
//
// Usage:
//
//	sslsock connect [flags] HOST:PORT
//	sslsock serve [flags]
//	sslsock verify [flags] CHAIN.pem
//	sslsock cert show [--der] FILE
//	sslsock cert new [flags] --out PREFIX
//	sslsock backends [--json]
//	sslsock bench [--duration D]
//	sslsock demo
//	sslsock completion bash|zsh|fish|powershell
//
// Flags may come before or after the arguments. "sslsock COMMAND --help"
// lists a command's flags. Exit status: 0 success, 1 the operation failed
// (not encrypted, certificate problems, a fatal alert), 2 bad usage (an
// unreadable or invalid input file included), before any connection.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sslsocket/sslsocket/ssl"
	_ "github.com/sslsocket/sslsocket/ssl/openssl" // the "openssl" backend, when libssl 3 loads
)

// usageError is a bad command line, or an input file named on it that
// cannot be read or is not what it should be: exit status 2, before any
// connection.
type usageError struct {
	msg string
	err error // the cause, if any
}

// Error returns the message shown after "sslsock: ".
func (e usageError) Error() string { return e.msg }

// Unwrap returns the cause.
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{msg: fmt.Sprintf(format, args...)} }

func main() {
	code := runWith(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	// A connection closed after a fatal alert finishes its orderly close
	// (at most 2 s) so that the peer reads the alert, not a reset.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	_ = ssl.WaitForOrderlyCloses(ctx)
	cancel()
	os.Exit(code)
}

// run executes one command line with no standard input.
func run(args []string, stdout, stderr io.Writer) int {
	return runWith(context.Background(), args, strings.NewReader(""), stdout, stderr)
}

// app is one invocation: its streams and the exit status a command chose.
type app struct {
	ctx             context.Context
	stdin           io.Reader
	stdout, stderr  io.Writer
	status          int
	stdinIsTerminal bool
}

// version is the module version the binary was built from.
func version() string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	return fmt.Sprintf("%s (%s)", v, runtime.Version())
}

// runWith executes one command line and returns the exit status: 0 success,
// 1 the operation failed, 2 usage error.
func runWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, stdinIsTerminal: isTerminal(stdin)}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "sslsock: %s\n", cleanMessage(ue.msg))
		return 2
	case err != nil && (strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") ||
		strings.Contains(err.Error(), "accepts ") || strings.HasPrefix(err.Error(), "invalid argument")):
		fmt.Fprintf(stderr, "sslsock: %v (see \"sslsock --help\")\n", err)
		return 2
	case err != nil:
		fmt.Fprintf(stderr, "sslsock: %s\n", cleanMessage(err.Error()))
		return 1
	}
	return a.status
}

// rootCommand builds the command tree for one invocation.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "sslsock",
		Short: "TLS from the command line, with Qt's complete certificate error lists",
		Long: `sslsock connects to and serves TLS, verifies certificate chains and mints
certificates, reporting every problem with a certificate chain (as Qt's
QSslSocket does), not only the first.

Flags may come before or after the arguments. Exit status: 0 success,
1 the operation failed (not encrypted, certificate problems, a fatal
alert), 2 bad usage before any connection, an unreadable or invalid input
file included.`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q (see \"sslsock --help\")", args[0])
			}
			c.SetOut(a.stderr)
			_ = c.Usage()
			return usagef("a command is needed")
		},
	}
	root.SetVersionTemplate("sslsock {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usagef("%s: %v (see \"%s --help\")", c.Name(), err, c.CommandPath())
	})
	root.AddCommand(a.connectCommand(), a.serveCommand(), a.verifyCommand(), a.certCommand(),
		a.backendsCommand(), a.benchCommand(), a.demoCommand())
	return root
}

// command wraps a command's body: it returns (exit status, error).
func (a *app) command(fn func(args []string) (int, error)) func(*cobra.Command, []string) error {
	return func(_ *cobra.Command, args []string) error {
		status, err := fn(args)
		a.status = status
		return err
	}
}

// exactArgs is cobra.ExactArgs with a usage error that says what is expected.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s (see \"%s --help\")", c.CommandPath(), what, c.CommandPath())
		}
		return nil
	}
}

// exitFor is the exit status for an error from flag handling.
func exitFor(err error) int {
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
