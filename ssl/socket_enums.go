package ssl

// PeerVerifyMode is QSslSocket::PeerVerifyMode: whether and how the peer's
// certificate is requested and verified.
type PeerVerifyMode int

// PeerVerifyMode values.
const (
	VerifyNone     PeerVerifyMode = 0 // no certificate requested, nothing verified
	QueryPeer      PeerVerifyMode = 1 // requested and verified, but errors never abort
	VerifyPeer     PeerVerifyMode = 2 // a valid certificate is required
	AutoVerifyPeer PeerVerifyMode = 3 // QueryPeer for servers, VerifyPeer for clients (the default)
)

var peerVerifyModeNames = newEnumTable("PeerVerifyMode", map[PeerVerifyMode]string{
	VerifyNone: "VerifyNone", QueryPeer: "QueryPeer", VerifyPeer: "VerifyPeer", AutoVerifyPeer: "AutoVerifyPeer",
})

// SslMode is QSslSocket::SslMode: whether a socket is plain, a TLS client or a TLS server.
type SslMode int

// SslMode values.
const (
	UnencryptedMode SslMode = 0
	SslClientMode   SslMode = 1
	SslServerMode   SslMode = 2
)

var sslModeNames = newEnumTable("SslMode", map[SslMode]string{
	UnencryptedMode: "UnencryptedMode", SslClientMode: "SslClientMode", SslServerMode: "SslServerMode",
})

// SocketState is QAbstractSocket::SocketState.
type SocketState int

// SocketState values.
const (
	UnconnectedState SocketState = 0
	HostLookupState  SocketState = 1
	ConnectingState  SocketState = 2
	ConnectedState   SocketState = 3
	BoundState       SocketState = 4
	ListeningState   SocketState = 5
	ClosingState     SocketState = 6
)

var socketStateNames = newEnumTable("SocketState", map[SocketState]string{
	UnconnectedState: "UnconnectedState", HostLookupState: "HostLookupState", ConnectingState: "ConnectingState",
	ConnectedState: "ConnectedState", BoundState: "BoundState", ListeningState: "ListeningState",
	ClosingState: "ClosingState",
})

// SocketError is QAbstractSocket::SocketError: the kind of the last error on a socket.
type SocketError int

// SocketError values.
const (
	UnknownSocketError               SocketError = -1
	ConnectionRefusedError           SocketError = 0
	RemoteHostClosedError            SocketError = 1
	HostNotFoundError                SocketError = 2
	SocketAccessError                SocketError = 3
	SocketResourceError              SocketError = 4
	SocketTimeoutError               SocketError = 5
	DatagramTooLargeError            SocketError = 6
	NetworkError                     SocketError = 7
	AddressInUseError                SocketError = 8
	SocketAddressNotAvailableError   SocketError = 9
	UnsupportedSocketOperationError  SocketError = 10
	UnfinishedSocketOperationError   SocketError = 11
	ProxyAuthenticationRequiredError SocketError = 12
	SslHandshakeFailedError          SocketError = 13
	ProxyConnectionRefusedError      SocketError = 14
	ProxyConnectionClosedError       SocketError = 15
	ProxyConnectionTimeoutError      SocketError = 16
	ProxyNotFoundError               SocketError = 17
	ProxyProtocolError               SocketError = 18
	OperationError                   SocketError = 19
	SslInternalError                 SocketError = 20
	SslInvalidUserDataError          SocketError = 21
	TemporaryError                   SocketError = 22
)

var socketErrorNames = newEnumTable("SocketError", map[SocketError]string{
	UnknownSocketError: "UnknownSocketError", ConnectionRefusedError: "ConnectionRefusedError",
	RemoteHostClosedError: "RemoteHostClosedError", HostNotFoundError: "HostNotFoundError",
	SocketAccessError: "SocketAccessError", SocketResourceError: "SocketResourceError",
	SocketTimeoutError: "SocketTimeoutError", DatagramTooLargeError: "DatagramTooLargeError",
	NetworkError: "NetworkError", AddressInUseError: "AddressInUseError",
	SocketAddressNotAvailableError:   "SocketAddressNotAvailableError",
	UnsupportedSocketOperationError:  "UnsupportedSocketOperationError",
	UnfinishedSocketOperationError:   "UnfinishedSocketOperationError",
	ProxyAuthenticationRequiredError: "ProxyAuthenticationRequiredError",
	SslHandshakeFailedError:          "SslHandshakeFailedError", ProxyConnectionRefusedError: "ProxyConnectionRefusedError",
	ProxyConnectionClosedError: "ProxyConnectionClosedError", ProxyConnectionTimeoutError: "ProxyConnectionTimeoutError",
	ProxyNotFoundError: "ProxyNotFoundError", ProxyProtocolError: "ProxyProtocolError", OperationError: "OperationError",
	SslInternalError: "SslInternalError", SslInvalidUserDataError: "SslInvalidUserDataError",
	TemporaryError: "TemporaryError",
})

// PauseMode is QAbstractSocket::PauseModes: where a socket pauses for the application.
type PauseMode int

// PauseMode flags.
const (
	PauseNever       PauseMode = 0x0
	PauseOnSslErrors PauseMode = 0x1
)

var pauseModeNames = newEnumTable("PauseMode", map[PauseMode]string{PauseNever: "PauseNever", PauseOnSslErrors: "PauseOnSslErrors"})
