package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sslsocket/sslsocket/ssl"
	"github.com/sslsocket/sslsocket/ssl/openssl"
)

type backendInfo struct {
	Name      string   `json:"name"`
	Active    bool     `json:"active"`
	Version   string   `json:"version"`
	Protocols []string `json:"protocols"`
	Features  []string `json:"features"`
	Classes   []string `json:"classes"`
	Ciphers   []string `json:"ciphers"`
	// InsecureCiphers are the ciphers of Ciphers that are broken or weak
	// (crypto/tls's InsecureCipherSuites: RC4, 3DES, RSA key exchange, CBC
	// with SHA-256; and NULL, export, anonymous, DES, MD5 by name).
	InsecureCiphers []string `json:"insecureCiphers"`
	// Unavailable says why a backend built into sslsock cannot be used.
	Unavailable string `json:"unavailable,omitempty"`
}

func (a *app) backendsCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "backends",
		Short: "the TLS backends, their protocols, features and ciphers",
		Args:  exactArgs(0, "no arguments"),
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.RunE = a.command(func([]string) (int, error) { return runBackends(asJSON, a.stdout) })
	return c
}

func runBackends(asJSON bool, stdout io.Writer) (int, error) {
	var infos []backendInfo
	for _, name := range ssl.AvailableBackends() {
		info := backendInfo{Name: name, Active: name == ssl.ActiveBackend()}
		for _, p := range ssl.SupportedProtocols(name) {
			info.Protocols = append(info.Protocols, p.String())
		}
		for _, f := range ssl.SupportedFeatures(name) {
			info.Features = append(info.Features, f.String())
		}
		for _, c := range ssl.ImplementedClasses(name) {
			info.Classes = append(info.Classes, c.String())
		}
		info.Version = ssl.SslLibraryVersionStringFor(name)
		info.InsecureCiphers = []string{}
		for _, c := range ssl.SupportedCiphersFor(name) {
			info.Ciphers = append(info.Ciphers, c.Name())
			if insecureCipher(c) {
				info.InsecureCiphers = append(info.InsecureCiphers, c.Name())
			}
		}
		infos = append(infos, info)
	}
	if !openssl.Available() {
		infos = append(infos, backendInfo{Name: "openssl", Unavailable: openssl.LoadError().Error()})
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return 0, enc.Encode(infos)
	}
	for _, b := range infos {
		if b.Unavailable != "" {
			fmt.Fprintf(stdout, "%s (unavailable): %s\n", b.Name, b.Unavailable)
			continue
		}
		active := ""
		if b.Active {
			active = " (active)"
		}
		fmt.Fprintf(stdout, "%s%s %s\n  protocols: %s\n  features:  %s\n  classes:   %s\n", b.Name, active, b.Version,
			strings.Join(b.Protocols, " "), strings.Join(b.Features, " "), strings.Join(b.Classes, " "))
		var good []string
		for _, c := range b.Ciphers {
			if !contains(b.InsecureCiphers, c) {
				good = append(good, c)
			}
		}
		if len(good) > 0 {
			fmt.Fprintf(stdout, "  ciphers:   %s\n", strings.Join(good, " "))
		}
		if len(b.InsecureCiphers) > 0 {
			fmt.Fprintf(stdout, "  INSECURE:  %s (RC4, 3DES, RSA key exchange, CBC with SHA-256, NULL, export, anonymous: only for old peers)\n", strings.Join(b.InsecureCiphers, " "))
		}
	}
	return 0, nil
}

// insecureCipher reports whether c is broken or weak: what crypto/tls lists
// in InsecureCipherSuites (RC4, 3DES, RSA key exchange, CBC with SHA-256),
// and by name what only OpenSSL offers (NULL, export, anonymous, DES, MD5).
func insecureCipher(c ssl.Cipher) bool {
	for _, s := range tls.InsecureCipherSuites() {
		if s.ID == c.ID() && c.ID() != 0 {
			return true
		}
	}
	name := strings.ToUpper(c.Name() + " " + c.IANAName())
	for _, weak := range []string{"RC4", "3DES", "DES-CBC", "_DES_", "NULL", "EXP", "ANON", "ADH-", "AECDH-", "MD5"} {
		if strings.Contains(name, weak) {
			return true
		}
	}
	return false
}
