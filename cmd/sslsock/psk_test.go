package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeAndConnectWithPSK: serve --psk/--psk-hint on the openssl backend
// answers `openssl s_client -psk` with a PSK suite, and connect
// --psk-identity/--psk-key completes a PSK handshake against s_server.
func TestServeAndConnectWithPSK(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is required")
	}
	const key = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
	sp := startServe(t, "--backend", "openssl", "--protocol", "TlsV1_2", "--psk", "client1:"+key, "--psk-hint", "H")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, openssl, "s_client", "-connect", sp.addr, "-psk", key, "-psk_identity", "client1",
		"-tls1_2", "-cipher", "PSK")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "PSK identity hint: H") || !strings.Contains(string(out), "Cipher is DHE-PSK-") {
		t.Errorf("s_client -psk against serve:\n%s", out)
	}
	// A wrong key fails.
	cmd = exec.CommandContext(ctx, openssl, "s_client", "-connect", sp.addr, "-psk", "00"+key[2:], "-psk_identity", "client1",
		"-tls1_2", "-cipher", "PSK")
	if out, _ := cmd.CombinedOutput(); !strings.Contains(string(out), "alert bad record mac") {
		t.Errorf("a wrong key was accepted:\n%s", out)
	}

	port := freePort(t)
	srv := exec.CommandContext(ctx, openssl, "s_server", "-accept", fmt.Sprintf("127.0.0.1:%d", port), "-nocert", "-psk", key,
		"-psk_identity", "client1", "-psk_hint", "H", "-rev", "-tls1_2")
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = srv.Wait() }()
	var code int
	var stdout, stderr strings.Builder
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		stdout.Reset()
		stderr.Reset()
		code = runWith(ctx, []string{"connect", "--backend", "openssl", "--protocol", "TlsV1_2", "--verify", "none",
			"--psk-identity", "client1", "--psk-key", key, "--send", "olleh\n", fmt.Sprintf("127.0.0.1:%d", port)},
			strings.NewReader(""), &stdout, &stderr)
		if code == 0 || time.Now().After(deadline) || !strings.Contains(stderr.String()+stdout.String(), "refused") {
			break
		}
	}
	if code != 0 || !strings.Contains(stdout.String(), "hello") {
		t.Errorf("connect --psk against s_server: %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
}

// TestServePSKOnly: serve --psk without --cert serves PSK only, with no
// certificate: openssl s_client -psk and connect --psk-key negotiate a PSK
// suite (TLS 1.2) or an external-PSK handshake (TLS 1.3) with no
// certificate; a certificate-only client fails; the go backend, which has
// no PSK, is a usage error that names the openssl backend.
func TestServePSKOnly(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is required")
	}
	const key = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
	sb := startServeBinary(t, "--psk", "client1:"+key, "--backend", "openssl")
	sClient := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, openssl, append([]string{"s_client", "-connect", sb.addr}, args...)...)
		cmd.Stdin = strings.NewReader("")
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	out := sClient("-psk", key, "-psk_identity", "client1", "-tls1_2")
	if !regexp.MustCompile(`Cipher is [A-Z0-9-]*PSK-`).MatchString(out) || !strings.Contains(out, "no peer certificate available") {
		t.Errorf("s_client -psk -tls1_2:\n%s", out)
	}
	out = sClient("-psk", key, "-psk_identity", "client1", "-tls1_3")
	if !strings.Contains(out, "TLSv1.3, Cipher is") || !strings.Contains(out, "no peer certificate available") {
		t.Errorf("s_client -psk -tls1_3:\n%s", out)
	}
	if out = sClient("-tls1_3"); strings.Contains(out, "TLSv1.3, Cipher is TLS") {
		t.Errorf("a certificate-only client got through:\n%s", out)
	}
	r := runBinary(t, nil, nil, "connect", sb.addr, "--backend", "openssl", "--protocol", "TlsV1_2", "--psk-identity", "client1",
		"--psk-key", key, "--verify", "none", "--send", `hi\n`)
	if r.code != 0 || !regexp.MustCompile(`cipher: +TLS_[A-Z_]*PSK_`).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, `authenticated by the pre-shared key (identity "client1"), no certificate`) || !strings.Contains(r.stdout, `received:      "hi\n"`) {
		t.Errorf("connect --psk-key, TLS 1.2: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runBinary(t, strings.NewReader("abc\n"), nil, "connect", "--backend", "openssl", "--psk-identity", "client1", "--psk-key", key, "--verify", "none", "--brief", sb.addr)
	if r.code != 0 || r.stdout != "abc\n" || !strings.Contains(r.stderr, "OK: encrypted with TLS 1.3; authenticated by the pre-shared key") {
		t.Errorf("connect --psk-key, TLS 1.3: exit %d\n%q\n%s", r.code, r.stdout, r.stderr)
	}
	// Without --verify none: Qt's rule (no certificate, NoPeerCertificate), and the way out.
	r = runBinary(t, nil, nil, "connect", "--backend", "openssl", "--psk-identity", "client1", "--psk-key", key, sb.addr)
	if r.code != 1 || !strings.Contains(r.stderr, "add --verify none") {
		t.Errorf("connect --psk-key without --verify none: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// The go backend has no PSK: a usage error before anything listens.
	r = runBinary(t, nil, nil, "serve", "--psk", "client1:"+key, "--backend", "go", "--listen", "127.0.0.1:0")
	if r.code != 2 || !strings.Contains(r.stderr, "--backend openssl") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("serve --psk on the go backend: exit %d %q", r.code, r.stderr)
	}
}
