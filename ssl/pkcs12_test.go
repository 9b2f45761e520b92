package ssl

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// TestImportPkcs12 loads bundles written by OpenSSL 3 (default, AES/SHA-256)
// and with -legacy (RC2/3DES).
func TestImportPkcs12(t *testing.T) {
	dir := t.TempDir()
	root := pki.MustSelfSigned(pki.Spec{CommonName: "P12 Root", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "p12.test", Key: pki.RSA2048})
	if _, _, err := leaf.WriteFiles(dir, "leaf"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), root.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, variant := range []struct {
		name  string
		extra []string
	}{{"openssl3 default", nil}, {"legacy", []string{"-legacy"}}} {
		t.Run(variant.name, func(t *testing.T) {
			out := filepath.Join(dir, variant.name+".p12")
			args := append([]string{"pkcs12", "-export", "-in", "leaf.pem", "-inkey", "leaf.key", "-certfile", "ca.pem",
				"-passout", "pass:p12pass", "-out", out}, variant.extra...)
			runOpenSSL(t, dir, args...)
			data := readFile(t, out)
			got, err := ImportPkcs12(bytes.NewReader(data), "p12pass")
			if err != nil {
				t.Fatal(err)
			}
			if !got.Certificate.Equal(certOf(leaf)) || !got.Key.Equal(NewKey(leaf.Key)) ||
				len(got.CaCertificates) != 1 || !got.CaCertificates[0].Equal(certOf(root)) {
				t.Errorf("content: %+v", got)
			}
			if _, err := ImportPkcs12(bytes.NewReader(data), "wrong"); !errors.Is(err, ErrBadPassphrase) {
				t.Errorf("wrong passphrase: %v", err)
			}
		})
	}
	// A bundle without a key fails, as in Qt.
	runOpenSSL(t, dir, "pkcs12", "-export", "-nokeys", "-in", "leaf.pem", "-passout", "pass:x", "-out", "nokey.p12")
	if _, err := ImportPkcs12(bytes.NewReader(readFile(t, filepath.Join(dir, "nokey.p12"))), "x"); err == nil {
		t.Error("bundle without a key accepted")
	}
	if _, err := ImportPkcs12(bytes.NewReader([]byte("garbage")), "x"); !errors.Is(err, ErrMalformed) {
		t.Errorf("garbage: %v", err)
	}
}
