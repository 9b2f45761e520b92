package ssl

// NextProtocolNegotiationStatus is QSslConfiguration::NextProtocolNegotiationStatus:
// the outcome of ALPN for a session.
type NextProtocolNegotiationStatus int

// NextProtocolNegotiationStatus values.
const (
	NextProtocolNegotiationNone        NextProtocolNegotiationStatus = 0
	NextProtocolNegotiationNegotiated  NextProtocolNegotiationStatus = 1
	NextProtocolNegotiationUnsupported NextProtocolNegotiationStatus = 2
)

var nextProtocolNegotiationStatusNames = newEnumTable("NextProtocolNegotiationStatus", map[NextProtocolNegotiationStatus]string{
	NextProtocolNegotiationNone: "NextProtocolNegotiationNone", NextProtocolNegotiationNegotiated: "NextProtocolNegotiationNegotiated",
	NextProtocolNegotiationUnsupported: "NextProtocolNegotiationUnsupported",
})

// NextProtocolHttp1_1 is the ALPN identifier of HTTP/1.1 (QSslConfiguration::NextProtocolHttp1_1).
const NextProtocolHttp1_1 = "http/1.1"
