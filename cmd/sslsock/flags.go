package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/sslsocket/sslsocket/ssl"
	"github.com/sslsocket/sslsocket/ssl/openssl"
)

// tlsFlags are the flags connect and serve share.
type tlsFlags struct {
	verify, protocol, ciphers, curves, alpn, backend string
	depth                                            int
	cas                                              []string
	noSystemCA                                       bool
	cert, key, pass                                  string
	keylog                                           string
}

func (f *tlsFlags) register(fs *pflag.FlagSet, verifyDefault, verifyHelp string) {
	fs.StringVar(&f.verify, "verify", verifyDefault, verifyHelp)
	fs.IntVar(&f.depth, "verify-depth", 0, "maximum number of intermediate certificates (0: no limit)")
	fs.StringArrayVar(&f.cas, "ca", nil, "trusted CA certificates: a PEM file, a directory of them (like -CApath) or a glob (repeatable)")
	fs.BoolVar(&f.noSystemCA, "no-system-ca", false, "do not trust the system's CA certificates")
	fs.StringVar(&f.cert, "cert", "", "local certificate chain (PEM, leaf first)")
	fs.StringVar(&f.key, "key", "", "private key of --cert (PEM or DER)")
	fs.StringVar(&f.pass, "pass", "", "passphrase of --key")
	fs.StringVar(&f.protocol, "protocol", "SecureProtocols", "protocol, as Qt names it (TlsV1_3, TlsV1_2OrLater, …; TLS1.3, tls13 and TLSv1.2+ are understood too)")
	fs.StringVar(&f.ciphers, "ciphers", "", "cipher list a:b:c (OpenSSL or IANA names)")
	fs.StringVar(&f.curves, "curves", "", "key-exchange groups a,b (X25519, prime256v1, …)")
	fs.StringVar(&f.alpn, "alpn", "", "ALPN protocols to offer, a,b (h2, http/1.1, …)")
	fs.StringVar(&f.backend, "backend", "", "TLS backend (see \"sslsock backends\")")
	fs.StringVar(&f.keylog, "keylog", "", "append the session secrets to this file, for Wireshark (default: $SSLKEYLOGFILE; dangerous)")
}

var verifyModes = map[string]ssl.PeerVerifyMode{"none": ssl.VerifyNone, "query": ssl.QueryPeer, "peer": ssl.VerifyPeer, "auto": ssl.AutoVerifyPeer}

// check validates the flags that need no file: usage errors, before any
// file is read or connection made.
func (f *tlsFlags) check() error {
	if _, ok := verifyModes[f.verify]; !ok {
		return usagef("--verify must be none, query, peer or auto, not %q", f.verify)
	}
	if f.depth < 0 {
		return usagef("--verify-depth must not be negative (0 means no limit)")
	}
	if f.backend == "openssl" && !openssl.Available() {
		return fmt.Errorf("the openssl backend is unavailable: %w", openssl.LoadError())
	}
	if f.backend != "" && !contains(ssl.AvailableBackends(), f.backend) {
		return usagef("unknown backend %q (available: %s)", f.backend, strings.Join(ssl.AvailableBackends(), ", "))
	}
	if _, err := parseProtocolFlag(f.protocol); err != nil {
		return err
	}
	if f.ciphers != "" {
		var probe ssl.Configuration
		if unknown := probe.SetCiphersString(f.ciphers); len(unknown) > 0 {
			return usagef("--ciphers: unknown cipher(s) %s", strings.Join(unknown, ", "))
		}
	}
	if _, err := parseCurves(f.curves); err != nil {
		return err
	}
	if (f.cert == "") != (f.key == "") {
		return usagef("--cert and --key go together")
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func parseCurves(list string) ([]ssl.EllipticCurve, error) {
	var curves []ssl.EllipticCurve
	if list == "" {
		return nil, nil
	}
	for _, name := range strings.Split(list, ",") {
		c := ssl.CurveFromShortName(strings.TrimSpace(name))
		if !c.IsValid() {
			return nil, usagef("--curves: unknown curve %q", name)
		}
		curves = append(curves, c)
	}
	return curves, nil
}

// backendName is the backend the connection uses: --backend, else the active one.
func (f *tlsFlags) backendName() string {
	if f.backend != "" {
		return f.backend
	}
	return ssl.ActiveBackend()
}

// configuration turns the flags into an ssl.Configuration. Call check first.
func (f *tlsFlags) configuration(stderr io.Writer) (ssl.Configuration, error) {
	var cfg ssl.Configuration
	if err := f.check(); err != nil {
		return cfg, err
	}
	if f.backend != "" {
		ssl.SetActiveBackend(f.backend) // fails once a socket used the active one: the configuration decides
		cfg.SetBackend(f.backend)
	}
	cfg.SetPeerVerifyMode(verifyModes[f.verify])
	cfg.SetPeerVerifyDepth(f.depth)
	p, _ := parseProtocolFlag(f.protocol)
	cfg.SetProtocol(p)
	if f.ciphers != "" {
		cfg.SetCiphersString(f.ciphers)
	}
	curves, _ := parseCurves(f.curves)
	if len(curves) > 0 {
		cfg.SetEllipticCurves(curves)
	}
	if f.alpn != "" {
		cfg.SetAllowedNextProtocols(strings.Split(f.alpn, ","))
	}
	if len(f.cas) > 0 || f.noSystemCA {
		roots, err := loadRoots(f.cas, f.noSystemCA)
		if err != nil {
			return cfg, err
		}
		cfg.SetCaCertificates(roots)
	}
	if f.cert != "" {
		if err := cfg.LoadKeyPair(f.cert, f.key, []byte(f.pass)); err != nil {
			if errors.Is(err, ssl.ErrBadPassphrase) {
				return cfg, usageError{msg: fmt.Sprintf("--key %s: wrong or missing passphrase (--pass)", f.key), err: err}
			}
			return cfg, inputError("--cert/--key:", "", err, pemOnlyHint(f.cert))
		}
	}
	if err := openKeyLog(&cfg, f.keylog, stderr); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// openKeyLog sets up --keylog or $SSLKEYLOGFILE, and says so: the file
// lets anyone decrypt the traffic.
func openKeyLog(cfg *ssl.Configuration, path string, stderr io.Writer) error {
	source := "--keylog"
	if path == "" {
		path, source = os.Getenv("SSLKEYLOGFILE"), "SSLKEYLOGFILE"
	}
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	cfg.SetKeyLogWriter(f) // closed when the process ends
	fmt.Fprintf(stderr, "sslsock: writing TLS session secrets to %s (%s): anyone with that file can decrypt this traffic\n", path, source)
	return nil
}

// loadRoots reads --ca files, directories and globs, plus the system's
// roots unless noSystem.
func loadRoots(patterns []string, noSystem bool) ([]ssl.Certificate, error) {
	roots := []ssl.Certificate{}
	if !noSystem {
		roots = append(roots, ssl.SystemCaCertificates()...)
	}
	seen := map[string]bool{}
	for _, r := range roots {
		seen[r.SHA256()] = true
	}
	for _, pattern := range patterns {
		certs, err := certificatesFrom(pattern)
		if err != nil {
			return nil, inputError("--ca", pattern, err, pemOnlyHint(pattern))
		}
		if len(certs) == 0 {
			return nil, usagef("--ca %s: no PEM certificate found (no file, or none holding a certificate)", pattern)
		}
		for _, c := range certs {
			if !seen[c.SHA256()] {
				seen[c.SHA256()] = true
				roots = append(roots, c)
			}
		}
	}
	return roots, nil
}

// certificatesFrom reads a PEM file, every PEM file of a directory (as
// OpenSSL's -CApath, hashed names included), or the files a glob matches.
func certificatesFrom(pattern string) ([]ssl.Certificate, error) {
	if st, err := os.Stat(pattern); err == nil && st.IsDir() {
		entries, err := os.ReadDir(pattern)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		var out []ssl.Certificate
		for _, n := range names {
			p := filepath.Join(pattern, n)
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
				continue
			}
			if certs, err := ssl.CertificatesFromFile(p, ssl.Pem); err == nil {
				out = append(out, certs...)
			}
		}
		return out, nil
	}
	syntax := ssl.FixedString
	if strings.ContainsAny(pattern, "*?[") {
		syntax = ssl.Wildcard
	}
	return ssl.CertificatesFromPath(pattern, ssl.Pem, syntax)
}

// isTerminal reports whether r is a terminal (not a pipe, a file or
// /dev/null).
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ignoreSpec is one --ignore: a code, and the certificate's SHA-256 ("" for any).
type ignoreSpec struct {
	code ssl.ErrorCode
	sha  string
}

// parseIgnore reads CODE or CODE@FINGERPRINT.
func parseIgnore(s string) (ignoreSpec, error) {
	name, fp, hasAt := strings.Cut(s, "@")
	code, err := ssl.ParseErrorCode(strings.TrimSpace(name))
	if err != nil {
		return ignoreSpec{}, usagef("--ignore %q: unknown error code %q (use the names the report prints, e.g. HostNameMismatch)", s, name)
	}
	if !hasAt {
		return ignoreSpec{code: code}, nil
	}
	sha, err := parseFingerprint(fp)
	if err != nil {
		return ignoreSpec{}, usagef("--ignore %q: %v", s, err)
	}
	return ignoreSpec{code: code, sha: sha}, nil
}

// parseFingerprint accepts a SHA-256 fingerprint as sslsock and openssl
// print it: 64 hex digits, or 32 colon-separated pairs (any case), with an
// optional "sha256:" or "SHA256 Fingerprint=" prefix. It returns lowercase
// hex.
func parseFingerprint(s string) (string, error) {
	t := strings.TrimSpace(s)
	low := strings.ToLower(t)
	for _, prefix := range []string{"sha256 fingerprint=", "sha-256 fingerprint:", "sha256:", "sha-256:", "sha256="} {
		if strings.HasPrefix(low, prefix) {
			low = strings.TrimSpace(low[len(prefix):])
			break
		}
	}
	if strings.Contains(low, ":") {
		parts := strings.Split(low, ":")
		for _, p := range parts {
			if len(p) != 2 {
				return "", fmt.Errorf("%q is not a SHA-256 fingerprint (32 colon-separated hex pairs or 64 hex digits)", s)
			}
		}
		low = strings.Join(parts, "")
	}
	if len(low) != 64 || strings.Trim(low, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%q is not a SHA-256 fingerprint (64 hex digits, or 32 colon-separated pairs)", s)
	}
	return low, nil
}
