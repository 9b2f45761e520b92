package ssl

import "crypto/tls"

// Protocol is Qt's QSsl::SslProtocol: a TLS version, or a range of versions,
// for a configuration, a cipher or a negotiated session. The values are Qt 6's.
type Protocol int

// Protocol values (QSsl::SslProtocol).
const (
	UnknownProtocol Protocol = -1 // only reported for ciphers and sessions; invalid as a setting
	TlsV1_0         Protocol = 0  // TLS 1.0 only (deprecated)
	TlsV1_1         Protocol = 1  // TLS 1.1 only (deprecated)
	TlsV1_2         Protocol = 2  // TLS 1.2 only
	AnyProtocol     Protocol = 3  // TLS 1.0 and later
	SecureProtocols Protocol = 4  // the default: TLS 1.2 and later
	TlsV1_0OrLater  Protocol = 5  // deprecated
	TlsV1_1OrLater  Protocol = 6  // deprecated
	TlsV1_2OrLater  Protocol = 7
	DtlsV1_0        Protocol = 8 // DTLS: invalid for a Socket
	DtlsV1_0OrLater Protocol = 9
	DtlsV1_2        Protocol = 10
	DtlsV1_2OrLater Protocol = 11
	TlsV1_3         Protocol = 12
	TlsV1_3OrLater  Protocol = 13
)

var protocolNames = newEnumTable("Protocol", map[Protocol]string{
	UnknownProtocol: "UnknownProtocol", TlsV1_0: "TlsV1_0", TlsV1_1: "TlsV1_1", TlsV1_2: "TlsV1_2",
	AnyProtocol: "AnyProtocol", SecureProtocols: "SecureProtocols", TlsV1_0OrLater: "TlsV1_0OrLater",
	TlsV1_1OrLater: "TlsV1_1OrLater", TlsV1_2OrLater: "TlsV1_2OrLater", DtlsV1_0: "DtlsV1_0",
	DtlsV1_0OrLater: "DtlsV1_0OrLater", DtlsV1_2: "DtlsV1_2", DtlsV1_2OrLater: "DtlsV1_2OrLater",
	TlsV1_3: "TlsV1_3", TlsV1_3OrLater: "TlsV1_3OrLater",
})

// IsDtls reports whether p names a DTLS protocol, which a (stream) Socket rejects.
func (p Protocol) IsDtls() bool { return p >= DtlsV1_0 && p <= DtlsV1_2OrLater }

// VersionRange returns the TLS wire versions (tls.VersionTLS10 …) that p allows.
// max is 0 when p sets no upper bound. ok is false for UnknownProtocol, DTLS
// values and values Qt does not define.
func (p Protocol) VersionRange() (min, max uint16, ok bool) {
	switch p {
	case TlsV1_0:
		return tls.VersionTLS10, tls.VersionTLS10, true
	case TlsV1_1:
		return tls.VersionTLS11, tls.VersionTLS11, true
	case TlsV1_2:
		return tls.VersionTLS12, tls.VersionTLS12, true
	case TlsV1_3:
		return tls.VersionTLS13, tls.VersionTLS13, true
	case AnyProtocol, TlsV1_0OrLater:
		return tls.VersionTLS10, 0, true
	case TlsV1_1OrLater:
		return tls.VersionTLS11, 0, true
	case SecureProtocols, TlsV1_2OrLater:
		return tls.VersionTLS12, 0, true
	case TlsV1_3OrLater:
		return tls.VersionTLS13, 0, true
	}
	return 0, 0, false
}

// ProtocolFromVersion maps a negotiated wire version to the Protocol Qt's
// sessionProtocol() reports; anything else is UnknownProtocol.
func ProtocolFromVersion(v uint16) Protocol {
	switch v {
	case tls.VersionTLS10:
		return TlsV1_0
	case tls.VersionTLS11:
		return TlsV1_1
	case tls.VersionTLS12:
		return TlsV1_2
	case tls.VersionTLS13:
		return TlsV1_3
	}
	return UnknownProtocol
}
