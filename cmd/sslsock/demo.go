package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// runDemo mints a throwaway PKI and shows what the verifier reports for a
// good chain and for each classic defect, then how an ignore list of exact
// (code, certificate) pairs works.
func runDemo(w io.Writer) (int, error) {
	now := time.Now()
	root, err := pki.SelfSigned(pki.Spec{CommonName: "sslsock Demo Root", Organization: "sslsocket", IsCA: true})
	if err != nil {
		return 1, err
	}
	inter := root.MustIssue(pki.Spec{CommonName: "sslsock Demo Intermediate", Organization: "sslsocket", IsCA: true})
	leaf := inter.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	expired := inter.MustIssue(pki.Spec{CommonName: "old.localhost", DNSNames: []string{"old.localhost"},
		NotBefore: now.AddDate(0, 0, -30), NotAfter: now.AddDate(0, 0, -1)})
	self := pki.MustSelfSigned(pki.Spec{CommonName: "self.localhost", DNSNames: []string{"self.localhost"}})
	c := func(p *pki.Cert) ssl.Certificate { return ssl.NewCertificate(p.Cert) }
	roots := []ssl.Certificate{c(root)}

	fmt.Fprintln(w, "A throwaway PKI, minted just now:")
	printChain(w, []ssl.Certificate{c(leaf), c(inter), c(root)}, false)

	cases := []struct {
		title string
		chain []ssl.Certificate
		host  string
	}{
		{"good chain for localhost", []ssl.Certificate{c(leaf), c(inter)}, "localhost"},
		{"same chain, wrong host name", []ssl.Certificate{c(leaf), c(inter)}, "example.com"},
		{"expired certificate for another name: every problem is listed", []ssl.Certificate{c(expired), c(inter)}, "localhost"},
		{"intermediate not sent", []ssl.Certificate{c(leaf)}, "localhost"},
		{"self-signed certificate", []ssl.Certificate{c(self)}, "self.localhost"},
	}
	for _, tc := range cases {
		fmt.Fprintf(w, "\n%s (host %q):\n", tc.title, tc.host)
		printErrors(w, ssl.VerifyChain(tc.chain, ssl.VerifyOptions{Roots: roots, HostName: tc.host}), tc.chain, tc.host)
	}

	// Ignoring exactly one error, as QSslSocket::ignoreSslErrors(list) does.
	errs := ssl.VerifyChain([]ssl.Certificate{c(self)}, ssl.VerifyOptions{Roots: roots, HostName: "self.localhost"})
	ignore := []ssl.Error{ssl.NewError(ssl.SelfSignedCertificate, c(self))}
	fmt.Fprintf(w, "\nIgnoring exactly [SelfSignedCertificate for %s]:\n", c(self).SubjectDisplayName())
	fmt.Fprintf(w, "  all reported errors ignored: %v\n", allIgnored(errs, ignore))
	other := pki.MustSelfSigned(pki.Spec{CommonName: "self.localhost", DNSNames: []string{"self.localhost"}})
	errs = ssl.VerifyChain([]ssl.Certificate{c(other)}, ssl.VerifyOptions{Roots: roots, HostName: "self.localhost"})
	fmt.Fprintf(w, "  same name, different certificate -> still ignored: %v (the pair names the certificate)\n", allIgnored(errs, ignore))

	if err := demoSockets(w, root, inter, leaf); err != nil {
		return 1, err
	}
	return 0, nil
}

// demoSockets runs the socket part of the tour on loopback.
func demoSockets(w io.Writer, root, inter, leaf *pki.Cert) error {
	c := func(p *pki.Cert) ssl.Certificate { return ssl.NewCertificate(p.Cert) }
	server := ssl.Configuration{}
	server.SetLocalCertificateChain([]ssl.Certificate{c(leaf), c(inter)})
	server.SetPrivateKey(ssl.NewKey(leaf.Key))
	server.SetCaCertificates([]ssl.Certificate{c(root)})
	client := ssl.Configuration{}
	client.SetCaCertificates([]ssl.Certificate{c(root)})

	fmt.Fprintln(w, "\nSockets on loopback:")
	cli, srv, err := demoPair(client, server, false)
	if err != nil {
		return err
	}
	cc := cli.SslConfiguration()
	fmt.Fprintf(w, "  handshake: %s, %s, peer %s\n", cc.SessionProtocol(), cc.SessionCipher().Name(), cli.PeerCertificate().SubjectDisplayName())
	cli.Close()
	srv.Close()

	cli, srv, err = demoPair(client, server, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  STARTTLS: plain greeting, then encrypted on the same connection: %v\n", cli.IsEncrypted() && srv.IsEncrypted())
	cli.Close()
	srv.Close()

	// Client certificates: QueryPeer accepts any (reporting problems), VerifyPeer requires a valid one.
	stranger := pki.MustSelfSigned(pki.Spec{CommonName: "stranger"})
	withStranger := client
	withStranger.SetLocalCertificate(c(stranger))
	withStranger.SetPrivateKey(ssl.NewKey(stranger.Key))
	for _, mode := range []ssl.PeerVerifyMode{ssl.QueryPeer, ssl.VerifyPeer} {
		s := server
		s.SetPeerVerifyMode(mode)
		cli, srv, err = demoPair(withStranger, s, false)
		ok := err == nil
		errs := "none"
		if srv != nil && len(srv.SslHandshakeErrors()) > 0 {
			errs = srv.SslHandshakeErrors()[0].Code.String()
		}
		fmt.Fprintf(w, "  client with an untrusted certificate, server %s: accepted %v (server saw %s)\n", mode, ok, errs)
		if cli != nil {
			cli.Close()
		}
		if srv != nil {
			srv.Close()
		}
	}

	// Session resumption.
	resumable := client
	resumable.SetSslOption(ssl.SslOptionDisableSessionPersistence, false)
	cli, srv, err = demoPair(resumable, server, false)
	if err != nil {
		return err
	}
	cli.WaitForReadyRead(300 * time.Millisecond) // the TLS 1.3 ticket follows the handshake
	resumable.SetSessionTicket(cli.SslConfiguration().SessionTicket())
	cli.Close()
	srv.Close()
	cli, srv, err = demoPair(resumable, server, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  second connection with the saved session ticket: resumed %v\n", cli.IsSessionResumed())
	cli.Close()
	srv.Close()

	// One throughput figure.
	cli, srv, err = demoPair(client, server, false)
	if err != nil {
		return err
	}
	got := make(chan int64, 1)
	go func() { n, _ := io.Copy(io.Discard, srv); got <- n }()
	buf := make([]byte, 16<<10)
	start := time.Now()
	for time.Since(start) < 300*time.Millisecond {
		cli.Write(buf)
	}
	cli.Close()
	n := <-got
	srv.Close()
	fmt.Fprintf(w, "  throughput, one connection, 16 KiB writes: %.0f MB/s (sslsock bench compares with crypto/tls)\n",
		float64(n)/time.Since(start).Seconds()/1e6)
	return nil
}

// demoPair connects a client and a server Socket over loopback, optionally
// after a plain-text STARTTLS exchange.
func demoPair(client, server ssl.Configuration, starttls bool) (*ssl.Socket, *ssl.Socket, error) {
	raw, srvConn, err := loopbackPair()
	if err != nil {
		return nil, nil, err
	}
	cli, srv := ssl.NewSocketFromConn(raw), ssl.NewSocketFromConn(srvConn)
	cli.SetSslConfiguration(client)
	cli.SetPeerVerifyName("localhost")
	srv.SetSslConfiguration(server)
	if starttls {
		srv.Write([]byte("220 ready for STARTTLS\r\n"))
		line := make([]byte, 24)
		if _, err := io.ReadFull(cli, line); err != nil {
			return nil, nil, err
		}
	}
	if err := srv.StartServerEncryption(); err != nil {
		return nil, nil, err
	}
	if err := cli.StartClientEncryption(); err != nil {
		return nil, nil, err
	}
	if !cli.WaitForEncrypted(5*time.Second) || !srv.WaitForEncrypted(5*time.Second) {
		return cli, srv, fmt.Errorf("handshake failed: %s / %s", cli.ErrorString(), srv.ErrorString())
	}
	return cli, srv, nil
}

// allIgnored is Qt's rule: every actual error must be in the ignore list.
func allIgnored(errs, ignore []ssl.Error) bool {
	for _, e := range errs {
		if !ssl.ContainsError(ignore, e) {
			return false
		}
	}
	return true
}

func (a *app) demoCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "demo",
		Short: "a tour of certificate verification and sockets on a throwaway PKI",
		Args:  exactArgs(0, "no arguments"),
	}
	c.RunE = a.command(func([]string) (int, error) { return runDemo(a.stdout) })
	return c
}
