package ssl

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Where Unix systems keep their trust anchors: the bundle files and
// directories Go's crypto/x509 and Qt's OpenSSL backend read.
var (
	systemCaFiles = []string{
		"/etc/ssl/certs/ca-certificates.crt",
		"/etc/pki/tls/certs/ca-bundle.crt",
		"/etc/ssl/ca-bundle.pem",
		"/etc/pki/tls/cacert.pem",
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
		"/etc/ssl/cert.pem",
		"/usr/local/share/certs/ca-root-nss.crt",
	}
	systemCaDirs = []string{"/etc/ssl/certs", "/etc/pki/tls/certs"}
)

var systemCAs = sync.OnceValue(loadSystemCaCertificates)

// SystemCaCertificates returns the operating system's trust anchors
// (QSslConfiguration::systemCaCertificates), read once and shared: the
// bundle files and the *.pem / *.crt files of the usual directories, or the
// files SSL_CERT_FILE and SSL_CERT_DIR name. Certificates that crypto/x509
// cannot parse are skipped, duplicates dropped. Do not modify the slice.
func SystemCaCertificates() []Certificate { return systemCAs() }

func loadSystemCaCertificates() []Certificate {
	files, dirs := systemCaFiles, systemCaDirs
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		files = []string{f}
	}
	if d := os.Getenv("SSL_CERT_DIR"); d != "" {
		dirs = filepath.SplitList(d)
	}
	var out []Certificate
	seen := map[string]bool{}
	add := func(data []byte) {
		for len(data) > 0 {
			var block *pem.Block
			block, data = pem.Decode(data)
			if block == nil {
				return
			}
			if block.Type != "CERTIFICATE" || seen[string(block.Bytes)] {
				continue
			}
			x, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				continue
			}
			seen[string(block.Bytes)] = true
			out = append(out, Certificate{x: x})
		}
	}
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			add(data)
		}
	}
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if !strings.HasSuffix(name, ".pem") && !strings.HasSuffix(name, ".crt") {
				continue
			}
			if data, err := os.ReadFile(filepath.Join(d, name)); err == nil && bytes.Contains(data, []byte("CERTIFICATE")) {
				add(data)
			}
		}
	}
	return out
}
