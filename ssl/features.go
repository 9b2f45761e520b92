package ssl

// ImplementedClass is QSsl::ImplementedClass: a class a backend implements.
type ImplementedClass int

// ImplementedClass values.
const (
	ClassKey           ImplementedClass = 0
	ClassCertificate   ImplementedClass = 1
	ClassSocket        ImplementedClass = 2
	ClassDiffieHellman ImplementedClass = 3
	ClassEllipticCurve ImplementedClass = 4
	ClassDtls          ImplementedClass = 5
	ClassDtlsCookie    ImplementedClass = 6
)

var implementedClassNames = newEnumTable("ImplementedClass", map[ImplementedClass]string{
	ClassKey: "Key", ClassCertificate: "Certificate", ClassSocket: "Socket", ClassDiffieHellman: "DiffieHellman",
	ClassEllipticCurve: "EllipticCurve", ClassDtls: "Dtls", ClassDtlsCookie: "DtlsCookie",
})

// SupportedFeature is QSsl::SupportedFeature: an optional capability of a backend.
type SupportedFeature int

// SupportedFeature values.
const (
	FeatureCertificateVerification SupportedFeature = 0
	FeatureClientSideAlpn          SupportedFeature = 1
	FeatureServerSideAlpn          SupportedFeature = 2
	FeatureOcsp                    SupportedFeature = 3
	FeaturePsk                     SupportedFeature = 4
	FeatureSessionTicket           SupportedFeature = 5
	FeatureAlerts                  SupportedFeature = 6
)

// SupportedFeature values beyond Qt's (numbered from 100, clear of Qt's).
const (
	// FeatureSessionTicketKeys: a server encrypts its session tickets with
	// keys the application gives (Configuration.SetSessionTicketKeys), so
	// that servers sharing them resume each other's sessions.
	FeatureSessionTicketKeys SupportedFeature = 100

	// FeatureEncryptedClientHello: Encrypted Client Hello, client
	// (Configuration.SetEncryptedClientHelloConfigList) and server
	// (SetEncryptedClientHelloKeys). The go backend has it; libssl 3.0
	// has no ECH, so the openssl backend does not.
	FeatureEncryptedClientHello SupportedFeature = 101
)

var supportedFeatureNames = newEnumTable("SupportedFeature", map[SupportedFeature]string{
	FeatureCertificateVerification: "CertificateVerification", FeatureClientSideAlpn: "ClientSideAlpn",
	FeatureServerSideAlpn: "ServerSideAlpn", FeatureOcsp: "Ocsp", FeaturePsk: "Psk",
	FeatureSessionTicket: "SessionTicket", FeatureAlerts: "Alerts",
	FeatureSessionTicketKeys:    "SessionTicketKeys",
	FeatureEncryptedClientHello: "EncryptedClientHello",
})
