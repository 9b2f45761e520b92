package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// connectProxy is an HTTP CONNECT proxy on loopback that sends every
// tunnel to target, whatever name was asked for, and records the names.
func connectProxy(t *testing.T, target string) (string, func() []string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var asked []string
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil || req.Method != http.MethodConnect {
					return
				}
				mu.Lock()
				asked = append(asked, req.Host)
				mu.Unlock()
				up, err := net.Dial("tcp", target)
				if err != nil {
					io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
					return
				}
				defer up.Close()
				io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	return l.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), asked...)
	}
}

// TestConnectProxyFromEnvironment: --proxy env takes HTTPS_PROXY; the
// proxy, not this machine, resolves the name.
func TestConnectProxyFromEnvironment(t *testing.T) {
	dir, _ := cliPKI(t)
	port, _ := tlsServer(t, dir, nil, func(c *tls.Conn) { c.Handshake(); io.WriteString(c, "via proxy\n") })
	proxy, asked := connectProxy(t, "127.0.0.1:"+port)
	t.Setenv("HTTPS_PROXY", "http://"+proxy)
	t.Setenv("NO_PROXY", "")
	r := runIn("", "connect", "--proxy", "env", "--ca", filepath.Join(dir, "root.pem"), "--verify-name", "localhost",
		"--send", "x", "service.invalid:443")
	if r.code != 0 || !strings.Contains(r.stdout, `received:      "via proxy\n"`) {
		t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got := asked(); len(got) != 1 || got[0] != "service.invalid:443" {
		t.Errorf("the proxy was asked for %v", got)
	}
	// NO_PROXY exempts the host: no proxy, and the name does not resolve.
	t.Setenv("NO_PROXY", ".invalid")
	if r := runIn("", "connect", "--proxy", "env", "--timeout", "5s", unresolvable+":443"); r.code != 1 || len(asked()) != 1 {
		t.Errorf("NO_PROXY: exit %d, proxy asked %v", r.code, asked())
	}
}
