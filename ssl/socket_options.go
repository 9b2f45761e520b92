package ssl

import (
	"errors"
	"net"
	"syscall"
)

// SocketOption is QAbstractSocket::SocketOption.
type SocketOption int

// SocketOption values.
const (
	LowDelayOption                SocketOption = 0 // TCP_NODELAY; on by default (Go's default, and what TLS wants)
	KeepAliveOption               SocketOption = 1
	MulticastTtlOption            SocketOption = 2
	MulticastLoopbackOption       SocketOption = 3
	TypeOfServiceOption           SocketOption = 4
	SendBufferSizeSocketOption    SocketOption = 5
	ReceiveBufferSizeSocketOption SocketOption = 6
	PathMtuSocketOption           SocketOption = 7
)

var socketOptionNames = newEnumTable("SocketOption", map[SocketOption]string{
	LowDelayOption: "LowDelayOption", KeepAliveOption: "KeepAliveOption", MulticastTtlOption: "MulticastTtlOption",
	MulticastLoopbackOption: "MulticastLoopbackOption", TypeOfServiceOption: "TypeOfServiceOption",
	SendBufferSizeSocketOption: "SendBufferSizeSocketOption", ReceiveBufferSizeSocketOption: "ReceiveBufferSizeSocketOption",
	PathMtuSocketOption: "PathMtuSocketOption",
})

// errNoSocket reports an option call on a socket without a TCP connection.
var errNoSocket = errors.New("ssl: socket options need a connected TCP socket")

// sockoptFor maps an option to its (level, name) on Unix.
func sockoptFor(opt SocketOption) (level, name int, ok bool) {
	switch opt {
	case LowDelayOption:
		return syscall.IPPROTO_TCP, syscall.TCP_NODELAY, true
	case KeepAliveOption:
		return syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, true
	case TypeOfServiceOption:
		return syscall.IPPROTO_IP, syscall.IP_TOS, true
	case SendBufferSizeSocketOption:
		return syscall.SOL_SOCKET, syscall.SO_SNDBUF, true
	case ReceiveBufferSizeSocketOption:
		return syscall.SOL_SOCKET, syscall.SO_RCVBUF, true
	}
	return 0, 0, false
}

func (s *Socket) tcpConn() (*net.TCPConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.raw.(*net.TCPConn)
	if !ok {
		return nil, errNoSocket
	}
	return c, nil
}

// SetSocketOption sets an option of the TCP connection (after it is
// connected, as in Qt). Multicast and path-MTU options do not apply to TCP
// and fail with ErrUnsupported.
func (s *Socket) SetSocketOption(opt SocketOption, value int) error {
	c, err := s.tcpConn()
	if err != nil {
		return err
	}
	level, name, ok := sockoptFor(opt)
	if !ok {
		return ErrUnsupported
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), level, name, value) }); err != nil {
		return err
	}
	return serr
}

// SocketOption returns an option of the TCP connection. Note that Linux
// reports buffer sizes doubled (it counts its bookkeeping).
func (s *Socket) SocketOption(opt SocketOption) (int, error) {
	c, err := s.tcpConn()
	if err != nil {
		return 0, err
	}
	level, name, ok := sockoptFor(opt)
	if !ok {
		return 0, ErrUnsupported
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var v int
	var serr error
	if err := rc.Control(func(fd uintptr) { v, serr = syscall.GetsockoptInt(int(fd), level, name) }); err != nil {
		return 0, err
	}
	return v, serr
}
