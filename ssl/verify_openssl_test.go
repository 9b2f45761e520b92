package ssl

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// x509ErrToQt is Qt's mapping of OpenSSL's X509_V_ERR codes (reference §1.2);
// anything else is UnspecifiedError.
var x509ErrToQt = map[int]ErrorCode{
	2: UnableToGetIssuerCertificate, 4: UnableToDecryptCertificateSignature, 6: UnableToDecodeIssuerPublicKey,
	7: CertificateSignatureFailed, 9: CertificateNotYetValid, 10: CertificateExpired, 13: InvalidNotBeforeField,
	14: InvalidNotAfterField, 18: SelfSignedCertificate, 19: SelfSignedCertificateInChain,
	20: UnableToGetLocalIssuerCertificate, 21: UnableToVerifyFirstCertificate, 23: CertificateRevoked,
	24: InvalidCaCertificate, 25: PathLengthExceeded, 26: InvalidPurpose, 27: CertificateUntrusted,
	28: CertificateRejected,
	// OpenSSL 3 renumbered X509_V_ERR_INVALID_CA ("invalid CA certificate");
	// Qt maps the symbol, so both numbers are InvalidCaCertificate.
	79: InvalidCaCertificate,
}

// requireOpenSSL returns the openssl binary; the tests need it (.ci/run installs it).
func requireOpenSSL(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("the openssl command is required for interop tests (Debian package openssl; .ci/run installs it)")
	}
	return p
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// opensslVerifyErrors serves chain with `openssl s_server`, connects with
// `openssl s_client` trusting root (its callback continues past every error)
// and returns the errors it printed as Qt codes with their depths.
func opensslVerifyErrors(t *testing.T, openssl string, chain []*pki.Cert, root *pki.Cert, depth int) []wantErr {
	t.Helper()
	dir := t.TempDir()
	certPath, keyPath, err := chain[0].WriteFiles(dir, "leaf")
	if err != nil {
		t.Fatal(err)
	}
	chainPath := filepath.Join(dir, "chain.pem")
	rootPath := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(chainPath, append(pki.ChainPEM(chain[1:]...), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rootPath, root.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	port := freePort(t)
	// The server side runs at security level 0 so that it can serve weak
	// keys and signatures; the client keeps the system's level (2 on Debian),
	// as Qt does.
	args := []string{"s_server", "-accept", fmt.Sprintf("127.0.0.1:%d", port), "-naccept", "1",
		"-cert", certPath, "-key", keyPath, "-cipher", "DEFAULT:@SECLEVEL=0"}
	if len(chain) > 1 {
		args = append(args, "-cert_chain", chainPath)
	}
	srv := exec.CommandContext(ctx, openssl, args...)
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	srv.Stderr = srv.Stdout
	stdin, err := srv.StdinPipe() // s_server quits on EOF: hold stdin open
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cancel(); _ = srv.Wait() }()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "ACCEPT") {
				close(ready)
				signalled = true
			}
		}
		if !signalled {
			close(ready)
		}
	}()
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatal("openssl s_server did not start")
	}
	cargs := []string{"s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", port), "-CAfile", rootPath, "-servername", "x.test"}
	if depth > 0 {
		cargs = append(cargs, "-verify_depth", strconv.Itoa(depth))
	}
	cli := exec.CommandContext(ctx, openssl, cargs...)
	cli.Stdin = strings.NewReader("")
	text, _ := cli.CombinedOutput()
	return parseSClientErrors(string(text))
}

var (
	depthLine = regexp.MustCompile(`^depth=(\d+) `)
	errorLine = regexp.MustCompile(`^verify error:num=(\d+):`)
)

func parseSClientErrors(text string) []wantErr {
	var out []wantErr
	depth := -1
	for _, line := range strings.Split(text, "\n") {
		if m := depthLine.FindStringSubmatch(line); m != nil {
			depth, _ = strconv.Atoi(m[1])
		}
		if m := errorLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			code, ok := x509ErrToQt[n]
			if !ok {
				code = UnspecifiedError
			}
			out = append(out, wantErr{code, depth})
		}
	}
	return out
}

// TestVerifyMatchesOpenSSL runs every generated bad chain (weak keys and
// signatures included) through OpenSSL's verifier and requires our list
// (less the errors Qt adds itself: HostNameMismatch, CertificateBlacklisted)
// to be OpenSSL's, code for code and certificate for certificate, in the
// same order. Where the verifier deliberately differs, OpenSSL must still
// say what the case records (so the difference stays known).
func TestVerifyMatchesOpenSSL(t *testing.T) {
	openssl := requireOpenSSL(t)
	for _, tc := range append(badChains(t), weakChains(t)...) {
		if tc.purpose != PurposeServerAuth {
			continue // s_client verifies servers
		}
		t.Run(tc.name, func(t *testing.T) {
			want := opensslVerifyErrors(t, openssl, tc.chain, tc.root, tc.depth)
			var chain []Certificate
			for _, c := range tc.chain {
				chain = append(chain, certOf(c))
			}
			built := append(append([]Certificate{}, chain...), certOf(tc.root))
			errs := VerifyChain(chain, VerifyOptions{Roots: []Certificate{certOf(tc.root)}, Depth: tc.depth})
			var got []wantErr
			for _, e := range errs {
				at := -2
				for i, c := range built {
					if c.Equal(e.Certificate) {
						at = i
						break
					}
				}
				got = append(got, wantErr{e.Code, at})
			}
			if tc.openssl != nil {
				if fmt.Sprint(want) != fmt.Sprint(tc.openssl) {
					t.Errorf("openssl %v, recorded %v", want, tc.openssl)
				}
				want = tc.want
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("ours    %v\nopenssl %v", got, want)
			}
		})
	}
}
