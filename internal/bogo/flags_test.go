package bogo

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/sslsocket/sslsocket/ssl"
)

func TestParseArgs(t *testing.T) {
	cfg, err := parseArgs([]string{
		"-port", "4433", "-shim-id", "7", "-ipv6", "-server", "-resume-count", "2",
		"-curves", "29", "-curves", "23", "-on-resume-curves", "24",
		"-advertise-alpn", "\x03foo", "-on-initial-expect-alpn", "foo",
		"-ocsp-response", "AQID", "--backend=openssl", "-no-tls13=true",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.port != "4433" || cfg.shimID != 7 || !cfg.ipv6 || !cfg.server || cfg.resumeCount != 2 || cfg.backend != "openssl" {
		t.Errorf("process flags: %+v", cfg)
	}
	if got := cfg.initial.intList("curves"); len(got) != 2 || got[0] != 29 || got[1] != 23 {
		t.Errorf("initial curves = %v, want [29 23]", got)
	}
	if got := cfg.resume.intList("curves"); len(got) != 3 || got[2] != 24 {
		t.Errorf("resume curves = %v, want [29 23 24]", got)
	}
	if cfg.initial.str("expect-alpn") != "foo" || cfg.resume.has("expect-alpn") {
		t.Errorf("-on-initial- flag went to the wrong connection")
	}
	if cfg.resume.str("advertise-alpn") != "\x03foo" {
		t.Errorf("unprefixed flag missing from the resumption")
	}
	if !bytes.Equal(cfg.initial.bytes("ocsp-response"), []byte{1, 2, 3}) {
		t.Errorf("base64 flag = %x", cfg.initial.bytes("ocsp-response"))
	}
	if !cfg.initial.bool("no-tls13") {
		t.Errorf("-no-tls13=true not set")
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		args          []string
		unimplemented bool
	}{
		{[]string{"-port", "1", "-async"}, true},
		{[]string{"-dtls"}, true},
		{[]string{"-on-retry-expect-alpn", "x"}, true},  // ECH retries: no such prefix
		{[]string{"-on-resume-port", "1"}, true},        // a process flag takes no prefix
		{[]string{"-on-shim-cert-file", "a.pem"}, true}, // handshaker tests
		{[]string{"-port"}, false},                      // missing value
		{[]string{"-shim-id", "x"}, false},              // not a number
		{[]string{"-ocsp-response", "!!"}, false},       // not base64
		{[]string{"port", "1"}, false},                  // not a flag
		{[]string{"-server=maybe"}, false},
	} {
		_, err := parseArgs(tc.args)
		if err == nil {
			t.Errorf("%q: no error", tc.args)
			continue
		}
		if got := errors.Is(err, errUnimplemented); got != tc.unimplemented {
			t.Errorf("%q: unimplemented = %v, want %v (%v)", tc.args, got, tc.unimplemented, err)
		}
	}
}

func TestRunExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
	}{
		// Refused before dialling: the port is never used.
		{[]string{"-port", "1", "-shim-id", "0", "-async"}, ExitUnimplemented, ""},
		{[]string{"-port", "1", "-shim-id", "0", "-curves", "25497"}, ExitUnimplemented, ""},
		{[]string{"-port", "1", "-shim-id", "0", "-min-version", "769", "-max-version", "771"}, ExitUnimplemented, ""},
		{[]string{"-port", "1", "-shim-id", "0", "-server", "-advertise-alpn", "\x01a"}, ExitUnimplemented, ""},
		{[]string{"-is-handshaker-supported"}, ExitOK, "No\n"},
		{[]string{"-port", "1", "-backend", "no-such-backend"}, ExitFailure, ""},
		{[]string{"-shim-id", "x"}, ExitFailure, ""},
	} {
		var stdout, stderr bytes.Buffer
		if code := Run(tc.args, &stdout, &stderr); code != tc.code {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tc.args, code, tc.code, stderr.String())
		}
		if stdout.String() != tc.stdout {
			t.Errorf("%q: stdout %q, want %q", tc.args, stdout.String(), tc.stdout)
		}
		if tc.code == ExitOK && stderr.Len() > 0 {
			t.Errorf("%q: stderr %q on success (the runner fails such a test)", tc.args, stderr.String())
		}
		if tc.code != ExitOK && !strings.HasPrefix(stderr.String(), "bogo-shim: ") {
			t.Errorf("%q: stderr %q does not say why", tc.args, stderr.String())
		}
	}
}

func TestProtocolFor(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want ssl.Protocol
		err  bool
	}{
		{nil, ssl.TlsV1_0OrLater, false},
		{[]string{"-min-version", "771"}, ssl.TlsV1_2OrLater, false},
		{[]string{"-min-version", "770", "-max-version", "770"}, ssl.TlsV1_1, false},
		{[]string{"-max-version", "769"}, ssl.TlsV1_0, false},
		{[]string{"-min-version", "772"}, ssl.TlsV1_3, false},
		{[]string{"-no-tls1", "-no-tls11"}, ssl.TlsV1_2OrLater, false},
		{[]string{"-no-tls13", "-no-tls12", "-no-tls11"}, ssl.TlsV1_0, false},
		{[]string{"-min-version", "768", "-max-version", "769"}, ssl.TlsV1_0, false}, // SSL 3.0 exists nowhere
		{[]string{"-max-version", "771"}, 0, true},                                   // 1.0-1.2: no Qt value
		{[]string{"-no-tls13"}, 0, true},
		{[]string{"-no-tls1", "-no-tls11", "-no-tls12", "-no-tls13"}, 0, true},
	} {
		cfg, err := parseArgs(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		got, err := protocolFor(cfg.initial)
		if (err != nil) != tc.err || (err == nil && got != tc.want) {
			t.Errorf("%q: %v, %v; want %v (error %v)", tc.args, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, errUnimplemented) {
			t.Errorf("%q: %v is not errUnimplemented", tc.args, err)
		}
	}
}

func TestParseALPN(t *testing.T) {
	got, err := parseALPN("\x03foo\x02h2")
	if err != nil || len(got) != 2 || got[0] != "foo" || got[1] != "h2" {
		t.Errorf("parseALPN = %q, %v", got, err)
	}
	for _, bad := range []string{"\x05foo", "\x00", "\x03foo\x01"} {
		if _, err := parseALPN(bad); err == nil {
			t.Errorf("parseALPN(%q): no error", bad)
		}
	}
}

func TestXOR(t *testing.T) {
	b := []byte{0x00, 0xff, 0x5a, 'h'}
	xorFF(b)
	if !bytes.Equal(b, []byte{0xff, 0x00, 0xa5, 'h' ^ 0xff}) {
		t.Errorf("xorFF = %x", b)
	}
}
