package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlagSet("serve", stderr)
	var tf tlsFlags
	tf.register(fs, "auto")
	listen := fs.String("listen", "127.0.0.1:8443", "address to listen on")
	chainFile := fs.String("chain", "", "intermediate certificates to send after --cert")
	staple := fs.String("ocsp-staple", "", "DER OCSP response to staple")
	mode := fs.String("mode", "echo", "what to do with a connection: echo, www, discard or source:N")
	hsTimeout := fs.Duration("handshake-timeout", ssl.DefaultHandshakeTimeout, "time a client has for its handshake")
	maxConns := fs.Int("max-conns", ssl.DefaultMaxPendingConnections, "connections handshaking or waiting at once")
	once := fs.Bool("once", false, "serve one connection, then exit")
	pskHint := fs.String("psk-hint", "", "PSK identity hint (backends with PSK)")
	var psks multiFlag
	fs.Var(&psks, "psk", "PSK as ID:HEX (repeatable; backends with PSK)")
	pkiDir := fs.String("pki-dir", "", "where to write the throwaway CA (default: a temporary directory)")
	asJSON := fs.Bool("json", false, "one JSON line per event")
	if err := parseFlags(fs, args); err != nil {
		return 2, err
	}
	if fs.NArg() != 0 {
		return 2, usageError{"serve takes no arguments"}
	}
	var sourceN int64 = -1
	switch {
	case *mode == "echo", *mode == "www", *mode == "discard":
	case strings.HasPrefix(*mode, "source:"):
		n, err := strconv.ParseInt(strings.TrimPrefix(*mode, "source:"), 10, 64)
		if err != nil || n < 0 {
			return 2, usageError{"--mode source:N needs a byte count"}
		}
		sourceN = n
	default:
		return 2, usageError{fmt.Sprintf("--mode must be echo, www, discard or source:N, not %q", *mode)}
	}
	cfg, err := tf.configuration()
	if err != nil {
		return exitFor(err), err
	}
	if (*pskHint != "" || len(psks) > 0) && !ssl.IsFeatureSupported(ssl.FeaturePsk, "") {
		return 1, fmt.Errorf("the %s backend has no PSK support", ssl.ActiveBackend())
	}
	out := &eventLog{w: stdout, json: *asJSON}
	if tf.cert == "" {
		dir, err := throwawayIdentity(&cfg, *pkiDir, out)
		if err != nil {
			return 1, err
		}
		if *pkiDir == "" {
			defer os.RemoveAll(dir)
		}
	} else if *chainFile != "" {
		extra, err := ssl.CertificatesFromFile(*chainFile, ssl.Pem)
		if err != nil {
			return 1, err
		}
		cfg.SetLocalCertificateChain(append(cfg.LocalCertificateChain(), extra...))
	}
	if *staple != "" {
		der, err := os.ReadFile(*staple)
		if err != nil {
			return 1, err
		}
		cfg.SetOcspStaple(der)
	}
	srv, err := ssl.Listen("tcp", *listen, cfg)
	if err != nil {
		return 1, err
	}
	srv.SetHandshakeTimeout(*hsTimeout)
	srv.SetMaxPendingConnections(*maxConns)
	srv.OnStartedEncryptionHandshake(func(s *ssl.Socket) { out.event("accepted", s, nil) })
	srv.OnSslErrors(func(s *ssl.Socket, errs []ssl.Error) {
		out.event("sslErrors", s, map[string]any{"errors": toJSONErrors(errs)})
	})
	srv.OnErrorOccurred(func(s *ssl.Socket, k ssl.SocketError) {
		out.event("error", s, map[string]any{"socketError": k.String(), "errorString": s.ErrorString()})
	})
	srv.OnAlertReceived(func(s *ssl.Socket, l ssl.AlertLevel, t ssl.AlertType, d string) {
		out.event("alertReceived", s, map[string]any{"level": l.String(), "type": t.String(), "description": d})
	})
	out.event("listening", nil, map[string]any{"address": srv.Addr().String(), "backend": ssl.ActiveBackend()})

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); srv.Close() }()
	var wg sync.WaitGroup
	for {
		sock, err := srv.AcceptSocket(ctx)
		if err != nil {
			break
		}
		c := sock.SslConfiguration()
		out.event("encrypted", sock, map[string]any{"protocol": c.SessionProtocol().String(), "cipher": c.SessionCipher().Name(),
			"alpn": c.NextNegotiatedProtocol(), "resumed": sock.IsSessionResumed(), "peerChain": toJSONChain(c.PeerCertificateChain())})
		peer := map[string]any{"peer": net.JoinHostPort(sock.PeerAddress(), strconv.Itoa(int(sock.PeerPort())))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveConn(sock, *mode, sourceN)
			sock.Close()
			out.event("closed", nil, peer)
		}()
		if *once {
			wg.Wait()
			break
		}
	}
	srv.Close()
	wg.Wait()
	out.event("stopped", nil, nil)
	return 0, nil
}

// throwawayIdentity mints a CA and a localhost leaf, sets them on cfg and
// says where the CA is and how to trust it.
func throwawayIdentity(cfg *ssl.Configuration, dir string, out *eventLog) (string, error) {
	var err error
	if dir == "" {
		if dir, err = os.MkdirTemp("", "sslsock-pki-"); err != nil {
			return "", err
		}
	} else if err = os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	ca, err := pki.SelfSigned(pki.Spec{CommonName: "sslsock throwaway CA", Organization: "sslsocket", IsCA: true,
		NotAfter: time.Now().Add(7 * 24 * time.Hour)})
	if err != nil {
		return "", err
	}
	leaf, err := ca.Issue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"},
		IPs: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, NotAfter: time.Now().Add(7 * 24 * time.Hour)})
	if err != nil {
		return "", err
	}
	caPath := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caPath, ca.CertPEM(), 0o644); err != nil {
		return "", err
	}
	cfg.SetLocalCertificateChain([]ssl.Certificate{ssl.NewCertificate(leaf.Cert)})
	cfg.SetPrivateKey(ssl.NewKey(leaf.Key))
	spki := sha256.Sum256(leaf.Cert.RawSubjectPublicKeyInfo)
	out.event("identity", nil, map[string]any{"caFile": caPath, "caSha256": ssl.NewCertificate(ca.Cert).SHA256(),
		"leafSpkiSha256Base64": base64.StdEncoding.EncodeToString(spki[:])})
	return dir, nil
}

func serveConn(sock *ssl.Socket, mode string, sourceN int64) {
	switch {
	case mode == "echo":
		io.Copy(sock, sock)
	case mode == "discard":
		io.Copy(io.Discard, sock)
	case sourceN >= 0:
		buf := make([]byte, 32<<10)
		for sent := int64(0); sent < sourceN; {
			n := int64(len(buf))
			if sourceN-sent < n {
				n = sourceN - sent
			}
			if _, err := sock.Write(buf[:n]); err != nil {
				return
			}
			sent += n
		}
	case mode == "www":
		serveWWW(sock)
	}
}

// serveWWW answers one HTTP request with a description of the TLS session,
// as `openssl s_server -www` does: HTML for browsers, text otherwise.
func serveWWW(sock *ssl.Socket) {
	_ = sock.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(sock)
	reqLine, err := r.ReadString('\n')
	if err != nil {
		return
	}
	wantsHTML := false
	for {
		h, err := r.ReadString('\n')
		if err != nil || strings.TrimSpace(h) == "" {
			break
		}
		if strings.HasPrefix(strings.ToLower(h), "accept:") && strings.Contains(h, "text/html") {
			wantsHTML = true
		}
	}
	c := sock.SslConfiguration()
	facts := [][2]string{
		{"Request", strings.TrimSpace(reqLine)},
		{"Protocol", c.SessionProtocol().String()},
		{"Cipher", c.SessionCipher().Name()},
		{"Cipher (IANA)", c.SessionCipher().IANAName()},
		{"Key exchange", c.SessionCipher().KeyExchangeMethod()},
		{"ALPN", c.NextNegotiatedProtocol()},
		{"Session resumed", strconv.FormatBool(sock.IsSessionResumed())},
		{"Client certificate", c.PeerCertificate().SubjectDisplayName()},
		{"Backend", ssl.ActiveBackend()},
	}
	var body strings.Builder
	ctype := "text/plain; charset=utf-8"
	if wantsHTML {
		ctype = "text/html; charset=utf-8"
		body.WriteString("<!doctype html><html><head><title>sslsock</title></head><body><h1>sslsock: your TLS session</h1><table>\n")
		for _, f := range facts {
			fmt.Fprintf(&body, "<tr><th>%s</th><td id=%q>%s</td></tr>\n", html.EscapeString(f[0]),
				strings.ToLower(strings.ReplaceAll(f[0], " ", "-")), html.EscapeString(f[1]))
		}
		body.WriteString("</table></body></html>\n")
	} else {
		for _, f := range facts {
			fmt.Fprintf(&body, "%s: %s\n", f[0], f[1])
		}
	}
	fmt.Fprintf(sock, "HTTP/1.0 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", ctype, body.Len(), body.String())
}

// eventLog prints serve's events: readable lines, or one JSON object per line.
type eventLog struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
}

func (l *eventLog) event(name string, s *ssl.Socket, fields map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if fields == nil {
		fields = map[string]any{}
	}
	if s != nil {
		fields["peer"] = net.JoinHostPort(s.PeerAddress(), strconv.Itoa(int(s.PeerPort())))
	}
	if l.json {
		fields["event"] = name
		_ = json.NewEncoder(l.w).Encode(fields)
		return
	}
	var parts []string
	for _, k := range []string{"peer", "address", "backend", "protocol", "cipher", "alpn", "resumed", "socketError", "errorString", "caFile", "caSha256", "leafSpkiSha256Base64", "type", "description"} {
		if v, ok := fields[k]; ok && fmt.Sprint(v) != "" {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	if errs, ok := fields["errors"].([]jsonError); ok {
		for _, e := range errs {
			parts = append(parts, e.Code)
		}
	}
	fmt.Fprintf(l.w, "%s %s\n", name, strings.Join(parts, " "))
}
