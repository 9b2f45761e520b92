// Command bogo-shim is the shim BoringSSL's TLS test runner (BoGo) drives:
// it runs one side of each test's TLS connections through sslsocket's
// Socket API, on the go backend or (with -backend openssl or
// BOGO_SHIM_BACKEND=openssl) the openssl backend. See docs/bogo.md and
// run.sh beside this file.
package main

import (
	"os"

	"github.com/sslsocket/sslsocket/internal/bogo"
	_ "github.com/sslsocket/sslsocket/ssl/openssl" // the openssl backend, when libssl.so.3 is present
)

func main() {
	os.Exit(bogo.Run(os.Args[1:], os.Stdout, os.Stderr))
}
