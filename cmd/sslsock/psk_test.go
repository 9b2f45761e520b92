package main

import (
	"context"
	"fmt"
	"os/exec"
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
