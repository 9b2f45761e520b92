package ssl

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// limboCase is the part of an x509-limbo test case the verifier consumes.
type limboCase struct {
	ID                     string   `json:"id"`
	Description            string   `json:"description"`
	ValidationKind         string   `json:"validation_kind"`
	TrustedCerts           []string `json:"trusted_certs"`
	UntrustedIntermediates []string `json:"untrusted_intermediates"`
	PeerCertificate        string   `json:"peer_certificate"`
	ValidationTime         *string  `json:"validation_time"`
	ExtendedKeyUsage       []string `json:"extended_key_usage"`
	ExpectedResult         string   `json:"expected_result"`
	ExpectedPeerName       *struct {
		Kind  string `json:"kind"`
		Value string `json:"value"`
	} `json:"expected_peer_name"`
	MaxChainDepth *int `json:"max_chain_depth"`
}

// limboSHA256 is the digest of testdata/x509-limbo/limbo.json.gz recorded in
// testdata/x509-limbo/README.md.
const limboSHA256 = "cd82e0124b138ab7c5757cc0dab5c6f59baea5a529e22a25e888061c1faaa947"

// limboPath is the suite vendored in the repository; $SSLSOCKET_LIMBO
// overrides it (to try another version of the suite).
func limboPath() (path string, vendored bool) {
	if p := os.Getenv("SSLSOCKET_LIMBO"); p != "" {
		return p, false
	}
	return filepath.Join("testdata", "x509-limbo", "limbo.json.gz"), true
}

func loadLimbo(t *testing.T) []limboCase {
	t.Helper()
	path, vendored := limboPath()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("x509-limbo suite: %v", err)
	}
	if sum := sha256.Sum256(data); vendored && hex.EncodeToString(sum[:]) != limboSHA256 {
		t.Fatalf("%s: sha256 %x, want %s (see testdata/x509-limbo/README.md)", path, sum, limboSHA256)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var suite struct {
		Version   int         `json:"version"`
		Testcases []limboCase `json:"testcases"`
	}
	if err := json.NewDecoder(zr).Decode(&suite); err != nil {
		t.Fatal(err)
	}
	if suite.Version != 1 || len(suite.Testcases) == 0 {
		t.Fatalf("%s: schema version %d with %d cases; this test reads version 1", path, suite.Version, len(suite.Testcases))
	}
	return suite.Testcases
}

// limboOutcome is how one case went.
type limboOutcome struct {
	ours, x509OK bool
	errs         []Error
	parseErr     error
}

func runLimboCase(c limboCase) limboOutcome {
	parse := func(s string) (Certificate, error) { return ParseCertificate([]byte(s), Pem) }
	leaf, err := parse(c.PeerCertificate)
	if err != nil {
		return limboOutcome{parseErr: err}
	}
	chain := []Certificate{leaf}
	for _, s := range c.UntrustedIntermediates {
		x, err := parse(s)
		if err != nil {
			return limboOutcome{parseErr: err}
		}
		chain = append(chain, x)
	}
	roots := []Certificate{}
	for _, s := range c.TrustedCerts {
		x, err := parse(s)
		if err != nil {
			return limboOutcome{parseErr: err}
		}
		roots = append(roots, x)
	}
	opts := VerifyOptions{Roots: roots, Time: time.Now()}
	if c.ValidationTime != nil {
		if tm, err := time.Parse(time.RFC3339, *c.ValidationTime); err == nil {
			opts.Time = tm
		}
	}
	if c.ExpectedPeerName != nil && (c.ExpectedPeerName.Kind == "DNS" || c.ExpectedPeerName.Kind == "IP") {
		opts.HostName = c.ExpectedPeerName.Value
	}
	if c.ValidationKind == "CLIENT" {
		opts.Purpose = PurposeClientAuth
	}
	if c.MaxChainDepth != nil {
		opts.Depth = *c.MaxChainDepth
	}
	errs := VerifyChain(chain, opts)

	// crypto/x509 with the same inputs.
	pool, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range roots {
		if !opts.Time.After(r.X509().NotAfter) {
			pool.AddCert(r.X509())
		}
	}
	for _, x := range chain[1:] {
		inter.AddCert(x.X509())
	}
	xo := x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: opts.Time,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if opts.Purpose == PurposeClientAuth {
		xo.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	if opts.HostName != "" {
		xo.DNSName = opts.HostName
		if ip := net.ParseIP(opts.HostName); ip == nil {
			xo.DNSName = toAce(opts.HostName)
		}
	}
	_, xerr := leaf.X509().Verify(xo)
	return limboOutcome{ours: len(errs) == 0, x509OK: xerr == nil, errs: errs}
}

// limboAllowlist reads testdata/limbo_allowlist.txt: "id<TAB>reason" lines
// naming every case where our verdict differs from limbo's expectation.
func limboAllowlist(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "limbo_allowlist.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(reason) == "" {
			t.Fatalf("allowlist line without a reason: %q", line)
		}
		out[id] = reason
	}
	return out
}

// TestLimbo runs all of x509-limbo through the verifier. Hard rule: no case
// accepted that crypto/x509 rejects. Conformance: every case where our
// verdict differs from limbo's expected result is listed, with a reason, in
// testdata/limbo_allowlist.txt, and every listed case still differs.
func TestLimbo(t *testing.T) {
	cases := loadLimbo(t)
	allow := limboAllowlist(t)
	var unlisted, stale []string
	accepted, invariant := 0, 0
	for _, c := range cases {
		o := runLimboCase(c)
		if o.ours && !o.x509OK {
			invariant++
			t.Errorf("%s: accepted a chain crypto/x509 rejects", c.ID)
		}
		if o.ours {
			accepted++
		}
		conformant := o.ours == (c.ExpectedResult == "SUCCESS")
		_, listed := allow[c.ID]
		switch {
		case !conformant && !listed:
			unlisted = append(unlisted, fmt.Sprintf("%s\texpected %s, ours=%v x509=%v errs=%v parse=%v", c.ID, c.ExpectedResult, o.ours, o.x509OK, codesOf(o.errs), o.parseErr))
		case conformant && listed:
			stale = append(stale, c.ID)
		}
	}
	sort.Strings(unlisted)
	for _, u := range unlisted {
		t.Errorf("non-conformant case not in the allowlist: %s", u)
	}
	for _, s := range stale {
		t.Errorf("allowlisted case is conformant now; remove it: %s", s)
	}
	t.Logf("x509-limbo: %d cases, %d accepted, %d allowlisted, %d invariant violations", len(cases), accepted, len(allow), invariant)
}

func codesOf(errs []Error) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Code.String())
	}
	return out
}
