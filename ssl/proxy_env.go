package ssl

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"golang.org/x/net/http/httpproxy"
)

// ProxyFromEnvironment returns the proxy that the environment names for a
// TLS connection to host: HTTPS_PROXY (or https_proxy), else ALL_PROXY (or
// all_proxy); NoProxy when neither is set or NO_PROXY (no_proxy) exempts
// host. The rules are those of Go's net/http (golang.org/x/net/http/httpproxy):
// "localhost" and loopback addresses are never proxied. A value is a URL,
// "http://[user:password@]proxy[:port]" for HTTP CONNECT (port 80 unless
// given; a value without a scheme means http) or
// "socks5://[user:password@]proxy[:port]" (port 1080 unless given).
//
// The package never reads the environment by itself: a socket uses a proxy
// only when given one (SetProxy, SetApplicationProxy):
//
//	px, err := ssl.ProxyFromEnvironment("example.com")
//	if err != nil { … }
//	sock.SetProxy(px)
func ProxyFromEnvironment(host string) (Proxy, error) {
	return proxyFromEnv(host, os.Getenv)
}

func proxyFromEnv(host string, getenv func(string) string) (Proxy, error) {
	first := func(names ...string) string {
		for _, n := range names {
			if v := getenv(n); v != "" {
				return v
			}
		}
		return ""
	}
	cfg := httpproxy.Config{
		HTTPSProxy: first("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"),
		NoProxy:    first("NO_PROXY", "no_proxy"),
	}
	if cfg.HTTPSProxy == "" {
		return Proxy{Type: NoProxy}, nil
	}
	u, err := cfg.ProxyFunc()(&url.URL{Scheme: "https", Host: host})
	if err != nil {
		return Proxy{}, fmt.Errorf("ssl: proxy from the environment: %w", err)
	}
	if u == nil {
		return Proxy{Type: NoProxy}, nil
	}
	if u.Port() == "" {
		port := "80"
		if strings.HasPrefix(u.Scheme, "socks5") {
			port = "1080"
		}
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	p, err := ParseProxyURL(u.String())
	if err != nil {
		return Proxy{}, fmt.Errorf("ssl: proxy from the environment: %w", err)
	}
	return p, nil
}
