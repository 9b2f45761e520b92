package ssl_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// exampleIdentity is a throwaway CA and a server identity for names.
func exampleIdentity(names ...string) (server ssl.Configuration, roots []ssl.Certificate) {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Example CA", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: names[0], DNSNames: names})
	server.SetLocalCertificate(ssl.NewCertificate(leaf.Cert))
	server.SetPrivateKey(ssl.NewKey(leaf.Key))
	return server, []ssl.Certificate{ssl.NewCertificate(root.Cert)}
}

// exampleHTTPS serves handler over HTTPS on loopback for a certificate
// naming name (as ExampleServeHTTP shows); it returns the address, the CA
// to trust and a stop function.
func exampleHTTPS(name string, handler http.HandlerFunc) (addr string, roots []ssl.Certificate, stop func()) {
	serverCfg, roots := exampleIdentity(name)
	srv, err := ssl.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: handler}
	go ssl.ServeHTTP(hs, srv)
	return srv.Addr().String(), roots, func() { hs.Close() }
}

// Listen is a net.Listener whose Accept returns encrypted sockets: an echo
// server in a few lines, and Dial as its client.
func ExampleListen() {
	serverCfg, roots := exampleIdentity("localhost")
	srv, err := ssl.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	go func() {
		for {
			conn, err := srv.Accept() // the handshake is done: conn is a *ssl.Socket
			if err != nil {
				return
			}
			go func() { defer conn.Close(); io.Copy(conn, conn) }()
		}
	}()

	var clientCfg ssl.Configuration
	clientCfg.SetCaCertificates(roots)
	port := strconv.Itoa(srv.Addr().(*net.TCPAddr).Port)
	conn, err := ssl.Dial(context.Background(), "localhost:"+port, clientCfg)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintln(conn, "echo me")
	line, _ := bufio.NewReader(conn).ReadString('\n')
	fmt.Print(line)
	fmt.Println(conn.SessionProtocol())
	// Output:
	// echo me
	// TlsV1_3
}

// Dial completes the handshake before it returns; a refused certificate
// comes back as a *VerificationError that lists every problem.
func ExampleDial() {
	serverCfg, _ := exampleIdentity("localhost")
	srv, err := ssl.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	go func() {
		for {
			conn, err := srv.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()

	// No CA trusted: the throwaway CA is unknown to the client.
	var cfg ssl.Configuration
	cfg.SetCaCertificates(nil)
	port := strconv.Itoa(srv.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = ssl.Dial(ctx, "localhost:"+port, cfg)
	var verr *ssl.VerificationError
	if errors.As(err, &verr) {
		for _, e := range verr.Errors {
			fmt.Println(e.Code.String())
		}
	}
	// Output:
	// UnableToGetLocalIssuerCertificate
	// UnableToVerifyFirstCertificate
}

// A Dialer verifies another name than the address's host (crypto/tls's
// ServerName; Qt's peer verify name) and plugs into net/http.
func ExampleDialer() {
	addr, roots, stop := exampleHTTPS("api.internal", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s\n", r.TLS.ServerName)
	})
	defer stop()

	var cfg ssl.Configuration
	cfg.SetCaCertificates(roots)
	d := &ssl.Dialer{Config: cfg, PeerVerifyName: "api.internal", Timeout: 10 * time.Second}
	tr := &http.Transport{DialTLSContext: d.DialContext}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://" + addr + "/") // an IP address
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(string(body))
	// Output:
	// hello api.internal
}

// ServeHTTP serves an http.Server over a Server, HTTP/2 to clients that
// choose h2; NewHTTPTransport is the client side over Sockets.
func ExampleServeHTTP() {
	serverCfg, roots := exampleIdentity("localhost")
	serverCfg.SetAllowedNextProtocols([]string{"h2", "http/1.1"})
	srv, err := ssl.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s\n", r.Proto)
	})}
	go ssl.ServeHTTP(hs, srv)
	defer hs.Close()

	var cfg ssl.Configuration
	cfg.SetCaCertificates(roots)
	tr := ssl.NewHTTPTransport(cfg)
	defer tr.CloseIdleConnections()
	port := strconv.Itoa(srv.Addr().(*net.TCPAddr).Port)
	resp, err := (&http.Client{Transport: tr}).Get("https://localhost:" + port + "/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(string(body))
	// Output:
	// HTTP/2.0
}

// NewHTTPTransport is an http.RoundTripper whose connections are Sockets:
// Qt's verification (every problem, exact ignores) under net/http.
func ExampleNewHTTPTransport() {
	addr, roots, stop := exampleHTTPS("localhost", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	defer stop()

	var cfg ssl.Configuration
	cfg.SetCaCertificates(roots)
	client := &http.Client{Transport: ssl.NewHTTPTransport(cfg), Timeout: 10 * time.Second}
	_, port, _ := net.SplitHostPort(addr)
	resp, err := client.Get("https://localhost:" + port + "/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.Proto, " ", string(body))
	// Output:
	// HTTP/1.1 ok
}
