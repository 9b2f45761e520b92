package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/ssl"
	"github.com/sslsocket/sslsocket/ssl/openssl"
)

// TestECHEndToEnd drives the built binary: cert ech-new makes a key, serve
// --ech-key prints the configuration list, connect --ech-config uses it
// (the inner name hidden, the facts reported on both sides); a stale list
// is rejected with the server's retry list; bad input fails clearly.
func TestECHEndToEnd(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "ech.pem")
	r := runBinary(t, nil, nil, "cert", "ech-new", "--public-name", "public.example", "--out", keyFile)
	if r.code != 0 {
		t.Fatalf("ech-new: exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	printed := lines[len(lines)-1]
	if st, err := os.Stat(keyFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}

	// serve, as a process of its own.
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pkiDir := t.TempDir()
	cmd := exec.CommandContext(ctx, sslsockBinary(t), "serve", "--json", "--listen", fmt.Sprintf("127.0.0.1:%d", port),
		"--pki-dir", pkiDir, "--ech-key", keyFile)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	events := make(chan map[string]any, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				events <- ev
			}
		}
		close(events)
	}()
	next := func(name string) map[string]any {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("serve ended before %q", name)
				}
				if ev["event"] == name {
					return ev
				}
			case <-timeout:
				t.Fatalf("no %q event from serve", name)
			}
		}
	}
	next("listening")
	echEv := next("ech")
	list, _ := echEv["echConfigList"].(string)
	if list != printed || echEv["publicName"] != "public.example" {
		t.Fatalf("serve printed %v; ech-new printed %q", echEv, printed)
	}
	ca := filepath.Join(pkiDir, "ca.pem")
	addr := fmt.Sprintf("localhost:%d", port)

	connect := func(args ...string) (int, map[string]any, string) {
		t.Helper()
		r := runBinary(t, nil, nil, append([]string{"connect", "--json", "--no-system-ca", "--ca", ca, "--send", `hi\n`}, append(args, addr)...)...)
		var rep map[string]any
		if r.code != 2 && json.Unmarshal([]byte(r.stdout), &rep) != nil {
			t.Fatalf("%v: not JSON: %s %s", args, r.stdout, r.stderr)
		}
		return r.code, rep, r.stderr
	}
	code, rep, stderr := connect("--ech-config", list)
	ech, _ := rep["ech"].(map[string]any)
	if code != 0 || ech["accepted"] != true || ech["publicName"] != "public.example" || ech["innerServerName"] != "localhost" ||
		rep["received"] != "hi\n" || rep["keyExchangeGroup"] != "X25519MLKEM768" {
		t.Errorf("connect with ECH: exit %d %v\n%s", code, rep, stderr)
	}
	enc := next("encrypted")
	if enc["ech"] != true || enc["serverName"] != "localhost" || enc["outerServerName"] != "public.example" || enc["group"] != "X25519MLKEM768" {
		t.Errorf("serve's encrypted event: %v", enc)
	}
	// The key file works as --ech-config too (its ECHCONFIG block).
	if code, rep, _ := connect("--ech-config", keyFile); code != 0 || rep["ech"].(map[string]any)["accepted"] != true {
		t.Errorf("connect --ech-config FILE: exit %d %v", code, rep)
	}
	// Without ECH: no "ech" in the report, the group all the same.
	if code, rep, _ := connect(); code != 0 || rep["ech"] != nil || rep["keyExchangeGroup"] != "X25519MLKEM768" {
		t.Errorf("connect without ECH: exit %d %v", code, rep)
	}

	// A stale configuration: rejected, with serve's list to retry with.
	stale := runBinary(t, nil, nil, "cert", "ech-new", "--public-name", "public.example", "--out", filepath.Join(dir, "stale.pem"))
	staleLines := strings.Split(strings.TrimSpace(stale.stdout), "\n")
	code, rep, _ = connect("--ech-config", staleLines[len(staleLines)-1])
	ech, _ = rep["ech"].(map[string]any)
	if code != 1 || rep["encrypted"] != false || ech["accepted"] != false || ech["retryConfigList"] != list ||
		rep["socketError"] != "SslHandshakeFailedError" || !strings.Contains(fmt.Sprint(rep["errorString"]), "rejected Encrypted Client Hello") {
		t.Errorf("stale configuration: exit %d %v", code, rep)
	}
	text := runBinary(t, nil, nil, "connect", "--no-system-ca", "--ca", ca, "--ech-config", staleLines[len(staleLines)-1], addr)
	if text.code != 1 || !strings.Contains(text.stdout, "--ech-config "+list) {
		t.Errorf("stale configuration, text report: exit %d\n%s", text.code, text.stdout)
	}

	// Bad input.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"connect", "--ech-config", "not base64!", addr}, 2, "neither a file nor base64"},
		{[]string{"connect", "--ech-config", "AAAA", addr}, 1, "malformed ECH configuration list"},
		{[]string{"serve", "--ech-key", filepath.Join(dir, "missing.pem")}, 1, "no such file"},
		{[]string{"cert", "ech-new", "--public-name", "localhost", "--out", filepath.Join(dir, "x.pem")}, 2, "two labels"},
	} {
		r := runBinary(t, nil, nil, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
	corrupt := filepath.Join(dir, "corrupt.pem")
	data, _ := os.ReadFile(keyFile)
	os.WriteFile(corrupt, data[:len(data)/2], 0o600)
	if r := runBinary(t, nil, nil, "serve", "--ech-key", corrupt); r.code != 1 || !strings.Contains(r.stderr, "malformed ECH key file") {
		t.Errorf("corrupt key file: exit %d %q", r.code, r.stderr)
	}
	// The key-exchange group on the openssl backend (libssl 3.0: X25519,
	// 3.5 and later: X25519MLKEM768; before, the report said "unknown").
	if openssl.Available() {
		if code, rep, _ := connect("--backend", "openssl"); code != 0 || (rep["keyExchangeGroup"] != "X25519" && rep["keyExchangeGroup"] != "X25519MLKEM768") {
			t.Errorf("connect --backend openssl: exit %d, group %v", code, rep["keyExchangeGroup"])
		}
		if code, rep, _ := connect("--backend", "openssl", "--curves", "prime256v1"); code != 0 || rep["keyExchangeGroup"] != "secp256r1" {
			t.Errorf("connect --backend openssl --curves prime256v1: exit %d, group %v", code, rep["keyExchangeGroup"])
		}
	}
	if openssl.Available() && !ssl.IsFeatureSupported(ssl.FeatureEncryptedClientHello, "openssl") {
		for _, args := range [][]string{{"connect", "--backend", "openssl", "--ech-config", list, addr}, {"serve", "--backend", "openssl", "--ech-key", keyFile}} {
			if r := runBinary(t, nil, nil, args...); r.code != 1 || !strings.Contains(r.stderr, "no Encrypted Client Hello") {
				t.Errorf("%v: exit %d %q", args, r.code, r.stderr)
			}
		}
	}
}
