// Package bogo is a shim for BoringSSL's TLS test runner ("BoGo",
// ssl/test/runner): it plays one side of a TLS connection that the runner
// attacks, through the sslsocket API a user would call (ssl.Socket and
// ssl.Configuration), on the go or the openssl backend.
//
// The runner starts the shim once per test with flags describing the test.
// The shim dials the runner's port, sends its 8-byte little-endian shim id,
// runs TLS as client or server, echoes what it reads XOR 0xFF, checks the
// -expect-* flags and exits 0 on success. It exits 89 for a flag it does not
// implement (the runner then counts the test as skipped with
// -allow-unimplemented), and 1 on any failure.
//
// See docs/bogo.md for how to run the suite and the latest results.
package bogo

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Exit codes the runner understands.
const (
	ExitOK            = 0
	ExitFailure       = 1
	ExitUnimplemented = 89
)

// errUnimplemented marks a flag (or flag value) the shim cannot express
// through the library's API.
var errUnimplemented = errors.New("unimplemented")

type flagKind int

const (
	kBool   flagKind = iota
	kString          // one string value
	kInt             // one integer value
	kInts            // repeatable integer
	kBase64          // one base64 value
)

// flagSpec describes a flag the shim implements.
type flagSpec struct {
	kind flagKind
	// global flags describe the process, not one connection: they take no
	// -on-initial- / -on-resume- prefix.
	global bool
}

// flagSpecs lists every flag the shim implements. Any other flag makes
// the shim exit 89.
var flagSpecs = map[string]flagSpec{
	// Process.
	"port":                    {kString, true},
	"shim-id":                 {kInt, true},
	"ipv6":                    {kBool, true},
	"server":                  {kBool, true},
	"resume-count":            {kInt, true},
	"is-handshaker-supported": {kBool, true},
	"backend":                 {kString, true},

	// Credentials and verification.
	"key-file":                       {kString, false},
	"cert-file":                      {kString, false},
	"trust-cert":                     {kString, false},
	"verify-peer":                    {kBool, false},
	"require-any-client-certificate": {kBool, false},
	"expect-peer-cert-file":          {kString, false},
	"ocsp-response":                  {kBase64, false},
	"enable-ocsp-stapling":           {kBool, false},
	"expect-ocsp-response":           {kBase64, false},

	// Versions, ciphers, groups.
	"min-version":     {kInt, false},
	"max-version":     {kInt, false},
	"no-tls1":         {kBool, false},
	"no-tls11":        {kBool, false},
	"no-tls12":        {kBool, false},
	"no-tls13":        {kBool, false},
	"expect-version":  {kInt, false},
	"cipher":          {kString, false},
	"expect-cipher":   {kInt, false},
	"curves":          {kInts, false},
	"expect-curve-id": {kInt, false},
	"expect-hrr":      {kBool, false},
	"expect-no-hrr":   {kBool, false},

	// Names and ALPN.
	"host-name":             {kString, false},
	"expect-server-name":    {kString, false},
	"advertise-alpn":        {kString, false},
	"select-alpn":           {kString, false},
	"decline-alpn":          {kBool, false},
	"reject-alpn":           {kBool, false},
	"expect-alpn":           {kString, false},
	"expect-no-session":     {kBool, false},
	"expect-session-miss":   {kBool, false},
	"no-ticket":             {kBool, false},
	"shim-writes-first":     {kBool, false},
	"check-close-notify":    {kBool, false},
	"shim-shuts-down":       {kBool, false},
	"expect-no-server-name": {kBool, false},

	// Verification results.
	"verify-fail":          {kBool, false},
	"expect-verify-result": {kBool, false},
	// BoringSSL's SSL_set_custom_verify: the application's callback
	// decides. Here the application always decides (Qt's verification,
	// events and ignore rules), so the flag changes nothing.
	"use-custom-verify-callback": {kBool, false},
	// Verify the peer again on resumption: the library always does, on
	// both backends (the session's chain goes through the verifier again).
	"reverify-on-resume": {kBool, false},

	// Exporters.
	"export-keying-material": {kInt, false},
	"export-label":           {kString, false},
	"export-context":         {kString, false},
	"use-export-context":     {kBool, false},
}

// options is the parsed value of every flag for one connection.
type options struct {
	set  map[string]bool
	strs map[string]string
	ints map[string][]int64
	b64  map[string][]byte
}

func newOptions() *options {
	return &options{set: map[string]bool{}, strs: map[string]string{}, ints: map[string][]int64{}, b64: map[string][]byte{}}
}

func (o *options) has(name string) bool        { return o.set[name] }
func (o *options) bool(name string) bool       { return o.set[name] }
func (o *options) str(name string) string      { return o.strs[name] }
func (o *options) bytes(name string) []byte    { return o.b64[name] }
func (o *options) intList(name string) []int64 { return o.ints[name] }

// int returns the flag's value, or def when it was not given.
func (o *options) int(name string, def int64) int64 {
	if v := o.ints[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return def
}

// config is the parsed command line: the process flags, and the options of
// the first connection and of the resumptions (the runner's -on-initial-
// and -on-resume- prefixes apply a flag to those only).
type config struct {
	port        string
	shimID      uint64
	ipv6        bool
	server      bool
	resumeCount int
	handshaker  bool
	backend     string
	initial     *options
	resume      *options
}

// phase prefixes the runner puts before a per-connection flag.
const (
	prefixInitial = "on-initial-"
	prefixResume  = "on-resume-"
)

// unimplementedError names the flag the shim does not implement.
type unimplementedError struct{ flag string }

func (e *unimplementedError) Error() string { return "unimplemented flag -" + e.flag }
func (e *unimplementedError) Unwrap() error { return errUnimplemented }

// parseArgs parses the runner's command line. A flag the shim does not
// know yields an *unimplementedError (errors.Is errUnimplemented); a
// malformed value another error.
func parseArgs(args []string) (*config, error) {
	cfg := &config{initial: newOptions(), resume: newOptions()}
	global := newOptions()
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			return nil, fmt.Errorf("unexpected argument %q", arg)
		}
		name := strings.TrimLeft(arg, "-")
		value, hasValue := "", false
		if k := strings.IndexByte(name, '='); k >= 0 { // -flag=value
			name, value, hasValue = name[:k], name[k+1:], true
		}
		targets := []*options{cfg.initial, cfg.resume}
		base := name
		switch {
		case strings.HasPrefix(name, prefixInitial):
			base, targets = strings.TrimPrefix(name, prefixInitial), []*options{cfg.initial}
		case strings.HasPrefix(name, prefixResume):
			base, targets = strings.TrimPrefix(name, prefixResume), []*options{cfg.resume}
		}
		spec, ok := flagSpecs[base]
		if !ok || (spec.global && base != name) {
			return nil, &unimplementedError{name}
		}
		if spec.global {
			targets = []*options{global}
		}
		if spec.kind != kBool && !hasValue {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("flag -%s needs a value", name)
			}
			i++
			value = args[i]
		}
		for _, o := range targets {
			if err := o.setValue(base, spec.kind, value, hasValue); err != nil {
				return nil, fmt.Errorf("flag -%s: %w", name, err)
			}
		}
	}
	cfg.port = global.str("port")
	cfg.shimID = uint64(global.int("shim-id", 0))
	cfg.ipv6 = global.bool("ipv6")
	cfg.server = global.bool("server")
	cfg.resumeCount = int(global.int("resume-count", 0))
	cfg.handshaker = global.bool("is-handshaker-supported")
	cfg.backend = global.str("backend")
	if cfg.resumeCount < 0 {
		return nil, errors.New("flag -resume-count: negative")
	}
	return cfg, nil
}

func (o *options) setValue(name string, kind flagKind, value string, hasValue bool) error {
	switch kind {
	case kBool:
		on := true
		if hasValue {
			b, err := strconv.ParseBool(value)
			if err != nil {
				return err
			}
			on = b
		}
		o.set[name] = on
		return nil
	case kString:
		o.strs[name] = value
	case kInt, kInts:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return err
		}
		if kind == kInt {
			o.ints[name] = []int64{n}
		} else {
			o.ints[name] = append(o.ints[name], n)
		}
	case kBase64:
		b, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return err
		}
		o.b64[name] = b
	}
	o.set[name] = true
	return nil
}
