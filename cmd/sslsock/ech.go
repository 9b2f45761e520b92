package main

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sslsocket/sslsocket/ssl"
)

// Encrypted Client Hello on the command line: cert ech-new makes a key
// file, serve --ech-key serves with it and prints the configuration list,
// connect --ech-config uses that list.

func (a *app) certECHNewCommand() *cobra.Command {
	var publicName, out string
	var force bool
	c := &cobra.Command{
		Use:   "ech-new --public-name NAME --out FILE",
		Short: "make an Encrypted Client Hello key (X25519) and its configuration; print the configuration list clients need",
		Long: `ech-new makes an Encrypted Client Hello key: an X25519 HPKE key pair and its
ECHConfig naming --public-name, the name clients send in clear (the server's
certificate should be valid for it too). FILE gets the private key (PKCS#8 PEM,
mode 0600) followed by its ECHCONFIG block — the PEM format OpenSSL's ECH
support uses. The base64 configuration list printed is what a client needs:
"sslsock connect --ech-config BASE64" (or the "ech" parameter of a DNS HTTPS record).`,
		Example: `  sslsock cert ech-new --public-name public.example.com --out ech.pem
  sslsock serve --cert server.pem --key server.key --ech-key ech.pem`,
		Args: exactArgs(0, "no arguments (the key goes to --out FILE)"),
	}
	flags := c.Flags()
	flags.StringVar(&publicName, "public-name", "", "the name clients send in clear (a DNS name of two labels or more; required)")
	flags.StringVar(&out, "out", "", "the key file to write (required)")
	flags.BoolVar(&force, "force", false, "overwrite an existing file")
	c.RunE = a.command(func([]string) (int, error) {
		if publicName == "" || out == "" {
			return 2, usagef("ech-new needs --public-name NAME and --out FILE")
		}
		key, err := ssl.GenerateEncryptedClientHelloKey(publicName)
		if err != nil {
			return 2, usagef("--public-name: %v", err)
		}
		data, err := ssl.MarshalEncryptedClientHelloKeys(key)
		if err != nil {
			return 1, err
		}
		if err := writeFile(out, data, 0o600, force); err != nil {
			return 1, err
		}
		list, err := ssl.MarshalECHConfigList(key)
		if err != nil {
			return 1, err
		}
		fmt.Fprintf(a.stdout, "wrote %s (config id %d, public name %s)\nECH configuration list (for --ech-config):\n%s\n",
			out, key.ConfigID(), key.PublicName(), base64.StdEncoding.EncodeToString(list))
		return 0, nil
	})
	return c
}

// loadECHKeys reads serve's --ech-key files, in order, and returns the
// keys and the configuration list to print.
func loadECHKeys(paths []string) ([]ssl.EncryptedClientHelloKey, []byte, error) {
	var keys []ssl.EncryptedClientHelloKey
	for _, p := range paths {
		k, err := ssl.LoadEncryptedClientHelloKeys(p)
		if err != nil {
			return nil, nil, fmt.Errorf("--ech-key: %w", err)
		}
		keys = append(keys, k...)
	}
	list, err := ssl.MarshalECHConfigList(keys...)
	return keys, list, err
}

// echPublicNames lists the keys' public names, each once.
func echPublicNames(keys []ssl.EncryptedClientHelloKey) []string {
	var names []string
	for _, k := range keys {
		if !contains(names, k.PublicName()) {
			names = append(names, k.PublicName())
		}
	}
	return names
}

// readECHConfigArg reads connect's --ech-config: base64 (standard or URL
// alphabet, padded or not), or a file holding base64 text, the raw list,
// or PEM with one ECHCONFIG block (a key file: only that block is read).
func readECHConfigArg(arg string) ([]byte, error) {
	data, err := os.ReadFile(arg)
	switch {
	case err == nil:
		if block, rest := pem.Decode(data); block != nil || bytes.Contains(data, []byte("-----BEGIN")) {
			var found [][]byte
			for b := block; b != nil; b, rest = pem.Decode(rest) {
				if b.Type == "ECHCONFIG" {
					found = append(found, b.Bytes)
				}
			}
			if len(found) != 1 {
				return nil, fmt.Errorf("--ech-config %s: want one ECHCONFIG PEM block, found %d (pass the base64 list `sslsock serve --ech-key` prints)", arg, len(found))
			}
			return found[0], nil
		}
		if list, ok := decodeBase64(strings.TrimSpace(string(data))); ok {
			return list, nil
		}
		return data, nil // the raw list
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("--ech-config: %w", err)
	}
	if list, ok := decodeBase64(arg); ok {
		return list, nil
	}
	return nil, usagef("--ech-config %q is neither a file nor base64", arg)
}

func decodeBase64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) > 0 {
			return b, true
		}
	}
	return nil, false
}

// jsonECH is what connect's report says about Encrypted Client Hello.
type jsonECH struct {
	// Accepted: the handshake used ECH.
	Accepted bool `json:"accepted"`
	// PublicName is the name sent in clear (the outer ClientHello).
	PublicName string `json:"publicName"`
	// InnerServerName is the encrypted name ("" when none was sent).
	InnerServerName string `json:"innerServerName"`
	// RetryConfigList is, after a rejection, the server's configuration
	// list to connect again with (base64).
	RetryConfigList string `json:"retryConfigList,omitempty"`
}

// echWords describes ECH for the text report.
func echWords(e *jsonECH) string {
	if e.Accepted {
		inner := e.InnerServerName
		if inner == "" {
			inner = "none"
		}
		return fmt.Sprintf("accepted (in clear: %s; encrypted: %s)", e.PublicName, inner)
	}
	return fmt.Sprintf("not accepted (the server saw only %s)", e.PublicName)
}
