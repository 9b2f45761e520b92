package ssl

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Dial connects to addr ("host:port") and completes a client handshake with
// config, returning an encrypted socket or the reason it is not: a
// *VerificationError (errors.Is matches each code) when the certificate was
// refused, else a network or TLS error. ctx bounds the whole operation.
//
// config is taken as is, like Listen's: the zero Configuration is Qt's
// default-constructed one; pass DefaultConfiguration() for the process-wide
// default. The certificate is checked against addr's host; a Dialer sets
// another name (tls.Config.ServerName's role), an address family or a
// timeout.
func Dial(ctx context.Context, addr string, config Configuration) (*Socket, error) {
	d := Dialer{Config: config}
	return d.dialSocket(ctx, "tcp", addr)
}

// Dialer dials encrypted connections with one configuration: crypto/tls's
// Dialer for sslsocket. Its DialContext fits net/http's
// Transport.DialTLSContext and anything else that takes a dial function.
// The zero Dialer uses the zero Configuration. A Dialer may be used by
// several goroutines at once.
type Dialer struct {
	// Config is the configuration every connection starts with.
	Config Configuration
	// PeerVerifyName is the name the server's certificate is verified
	// against and sent as SNI, instead of the address's host: Qt's
	// connectToHostEncrypted sslPeerName and QSslSocket::setPeerVerifyName,
	// tls.Config.ServerName's role. Empty: the host.
	PeerVerifyName string
	// Timeout bounds each connection and its handshake, in addition to the
	// context's deadline. Zero: no limit beyond the context.
	Timeout time.Duration
}

// Dial is DialContext with context.Background().
func (d *Dialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

// DialContext connects to addr over network ("tcp", "tcp4" or "tcp6") and
// completes a client handshake, as Dial does. The net.Conn it returns is a
// *Socket.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	s, err := d.dialSocket(ctx, network, addr)
	if err != nil {
		return nil, err // not a typed nil in an interface
	}
	return s, nil
}

func (d *Dialer) dialSocket(ctx context.Context, network, addr string) (*Socket, error) {
	var family uint8
	switch network {
	case "tcp":
	case "tcp4":
		family = 4
	case "tcp6":
		family = 6
	default:
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("ssl: bad port in %q", addr)
	}
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	s := NewSocket()
	s.SetSslConfiguration(d.Config)
	if err := validateConfiguration(s.SslConfiguration(), false); err != nil {
		return nil, err
	}
	s.SetPeerVerifyName(d.PeerVerifyName)
	s.mu.Lock()
	s.family = family
	s.mu.Unlock()
	s.ConnectToHostEncrypted(host, uint16(port))
	if err := s.WaitForEncryptedContext(ctx); err != nil {
		s.Abort()
		return nil, err
	}
	return s, nil
}

// lookupFamily resolves host to the addresses of one family (0: any).
func lookupFamily(ctx context.Context, host string, family uint8) ([]string, error) {
	if family == 0 {
		return net.DefaultResolver.LookupHost(ctx, host)
	}
	network := "ip4"
	if family == 6 {
		network = "ip6"
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, err
	}
	addrs := make([]string, 0, len(ips))
	for _, ip := range ips {
		if ip.Unmap().Is4() == (family == 4) {
			addrs = append(addrs, ip.Unmap().String())
		}
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no address of the requested family", Name: host, IsNotFound: true}
	}
	return addrs, nil
}
