package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// benchEnv holds the identity both sides of the benchmarks use.
type benchEnv struct {
	root, leaf *pki.Cert
	dur        time.Duration
}

func runBench(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlagSet("bench", stderr)
	dur := fs.Duration("duration", time.Second, "time per measurement")
	if err := parseFlags(fs, args); err != nil {
		return 2, err
	}
	root, err := pki.SelfSigned(pki.Spec{CommonName: "bench root", IsCA: true})
	if err != nil {
		return 1, err
	}
	env := &benchEnv{root: root, leaf: root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}}), dur: *dur}
	type row struct {
		name, unit string
		higher     bool // higher is better
		ours, raw  float64
		target     string
	}
	rows := []row{
		{name: "bulk, 16 KiB writes", unit: "MB/s", higher: true, target: "≥ 0.97×"},
		{name: "64-byte writes", unit: "MB/s", higher: true, target: "≥ 3×"},
		{name: "ping-pong, 64 bytes", unit: "µs/round trip", target: "≤ 1.05× time"},
		{name: "full handshakes", unit: "handshakes/s", higher: true, target: "≥ 0.95×"},
	}
	measures := []func(ours bool) (float64, error){
		func(o bool) (float64, error) { return env.throughput(o, 16<<10) },
		func(o bool) (float64, error) { return env.throughput(o, 64) },
		env.pingPong,
		env.handshakes,
	}
	for i := range rows {
		for _, ours := range []bool{true, false} {
			who := "crypto/tls"
			if ours {
				who = "sslsocket"
			}
			fmt.Fprintf(stderr, "\r\033[K[%d/%d] %s: %s …", 2*i+map[bool]int{true: 1, false: 2}[ours], 2*len(rows), rows[i].name, who)
			v, err := measures[i](ours)
			if err != nil {
				return 1, fmt.Errorf("%s (%s): %w", rows[i].name, who, err)
			}
			if ours {
				rows[i].ours = v
			} else {
				rows[i].raw = v
			}
		}
	}
	fmt.Fprint(stderr, "\r\033[K")
	fmt.Fprintf(stdout, "%-22s %14s %14s %8s  %s\n", "benchmark", "sslsocket", "crypto/tls", "ratio", "target")
	for _, r := range rows {
		ratio := r.ours / r.raw
		fmt.Fprintf(stdout, "%-22s %14.1f %14.1f %7.2f×  %s (%s)\n", r.name, r.ours, r.raw, ratio, r.target, r.unit)
	}
	fmt.Fprintln(stdout, "Ratios come from one run on this machine; absolute numbers vary between runs.")
	return 0, nil
}

// loopbackPair returns both ends of a new loopback TCP connection.
func loopbackPair() (client, server net.Conn, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer l.Close()
	ch := make(chan net.Conn, 1)
	go func() { c, _ := l.Accept(); ch <- c }()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	return c, <-ch, nil
}

// pair returns an encrypted client and server: ours or raw crypto/tls.
func (e *benchEnv) pair(ours bool) (io.ReadWriteCloser, io.ReadWriteCloser, error) {
	if ours {
		var scfg, ccfg ssl.Configuration
		scfg.SetLocalCertificate(ssl.NewCertificate(e.leaf.Cert))
		scfg.SetPrivateKey(ssl.NewKey(e.leaf.Key))
		ccfg.SetCaCertificates([]ssl.Certificate{ssl.NewCertificate(e.root.Cert)})
		c, s, err := demoPair(ccfg, scfg, false)
		if err != nil {
			return nil, nil, err
		}
		return c, s, nil
	}
	cli, srv, err := loopbackPair()
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(e.root.Cert)
	sc := tls.Server(srv, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{e.leaf.Cert.Raw}, PrivateKey: e.leaf.Key}}})
	cc := tls.Client(cli, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	done := make(chan error, 1)
	go func() { done <- sc.Handshake() }()
	if err := cc.Handshake(); err != nil {
		return nil, nil, err
	}
	return cc, sc, <-done
}

// throughput writes size-byte messages for the duration; MB/s received.
func (e *benchEnv) throughput(ours bool, size int) (float64, error) {
	c, s, err := e.pair(ours)
	if err != nil {
		return 0, err
	}
	got := make(chan int64, 1)
	go func() {
		n, _ := io.Copy(io.Discard, s)
		got <- n
	}()
	buf := make([]byte, size)
	start := time.Now()
	for time.Since(start) < e.dur {
		for i := 0; i < 64; i++ {
			if _, err := c.Write(buf); err != nil {
				return 0, err
			}
		}
	}
	c.Close()
	n := <-got
	s.Close()
	return float64(n) / time.Since(start).Seconds() / 1e6, nil
}

// pingPong measures 64-byte round trips; µs each.
func (e *benchEnv) pingPong(ours bool) (float64, error) {
	c, s, err := e.pair(ours)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(s, buf); err != nil {
				return
			}
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
	}()
	msg, buf := make([]byte, 64), make([]byte, 64)
	n := 0
	start := time.Now()
	for time.Since(start) < e.dur {
		if _, err := c.Write(msg); err != nil {
			return 0, err
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			return 0, err
		}
		n++
	}
	el := time.Since(start)
	c.Close()
	return float64(el.Microseconds()) / float64(n), nil
}

// handshakes counts full TLS 1.3 handshakes (client and server) per second.
func (e *benchEnv) handshakes(ours bool) (float64, error) {
	n := 0
	start := time.Now()
	for time.Since(start) < e.dur {
		c, s, err := e.pair(ours)
		if err != nil {
			return 0, err
		}
		c.Close()
		s.Close()
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
