package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// TestBinaryEndToEnd builds the sslsock binary and drives it as a user
// would: connect to openssl s_server, with one clear stderr line and the
// right exit status for a wrong passphrase and an unreachable host.
func TestBinaryEndToEnd(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sslsock")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir, _ := cliPKI(t)
	port := sServer(t, dir, "-cert", "leaf.pem", "-key", "leaf.key", "-rev")
	run := func(args ...string) (int, string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errb.String()
	}
	code, out, _ := run("connect", "--json", "--no-system-ca", "--ca", filepath.Join(dir, "root.pem"), "--send", `abc\n`, fmt.Sprintf("localhost:%d", port))
	var rep map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep["received"] != "cba\n" {
		t.Errorf("connect: exit %d\n%s", code, out)
	}
	// On a terminal, certificate errors lead to Qt's question: continue only on yes.
	if script, err := exec.LookPath("script"); err == nil {
		for _, answer := range []string{"y", "n"} {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			cmd := exec.CommandContext(ctx, script, "-qec", fmt.Sprintf("%s connect --no-system-ca --send 'abc\\n' localhost:%d", bin, port), "/dev/null")
			cmd.Stdin = strings.NewReader(answer + "\n")
			out, _ := cmd.CombinedOutput()
			cancel()
			text := string(out)
			question := strings.Index(text, "Continue anyway? [y/N]")
			if question < 0 {
				t.Errorf("answer %s: no question asked:\n%s", answer, text)
			}
			if chain := strings.Index(text, "certificate chain (1):"); chain < 0 || chain > question {
				t.Errorf("answer %s: the chain is not shown before the question:\n%s", answer, text)
			}
			if encrypted := strings.Contains(text, "verdict: OK: encrypted with TLS 1.3"); encrypted != (answer == "y") {
				t.Errorf("answer %s: encrypted %v:\n%s", answer, encrypted, text)
			}
		}
	} else {
		t.Fatal("the script command (util-linux) is required to test the terminal question")
	}
	// A key encrypted with another passphrase.
	c := pki.MustSelfSigned(pki.Spec{CommonName: "client"})
	enc, err := ssl.NewKey(c.Key).ToPem([]byte("right"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "c.pem"), c.CertPEM(), 0o644)
	os.WriteFile(filepath.Join(dir, "c.key"), enc, 0o600)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"connect", "--cert", filepath.Join(dir, "c.pem"), "--key", filepath.Join(dir, "c.key"), "--pass", "wrong", fmt.Sprintf("localhost:%d", port)}, 2, "passphrase"},
		{[]string{"connect", "--timeout", "3s", fmt.Sprintf("127.0.0.1:%d", freePort(t))}, 1, "Connection refused"},
		{[]string{"connect", "--verify", "sometimes", "x:1"}, 2, "--verify"},
		{[]string{"cert", "show", filepath.Join(dir, "nope.pem")}, 2, "no such file"},
	} {
		code, _, stderr := run(tc.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != tc.code || len(lines) != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line mentioning %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
