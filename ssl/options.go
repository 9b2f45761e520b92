package ssl

// SslOption is Qt's QSsl::SslOption: flags that switch TLS features off.
// Combine them with |.
type SslOption int

// SslOption flags.
const (
	SslOptionDisableEmptyFragments         SslOption = 0x01
	SslOptionDisableSessionTickets         SslOption = 0x02
	SslOptionDisableCompression            SslOption = 0x04
	SslOptionDisableServerNameIndication   SslOption = 0x08
	SslOptionDisableLegacyRenegotiation    SslOption = 0x10
	SslOptionDisableSessionSharing         SslOption = 0x20
	SslOptionDisableSessionPersistence     SslOption = 0x40
	SslOptionDisableServerCipherPreference SslOption = 0x80
	DefaultSslOptions                      SslOption = SslOptionDisableEmptyFragments | SslOptionDisableLegacyRenegotiation | SslOptionDisableCompression | SslOptionDisableSessionPersistence
)

var sslOptionNames = newEnumTable("SslOption", map[SslOption]string{
	SslOptionDisableEmptyFragments:         "SslOptionDisableEmptyFragments",
	SslOptionDisableSessionTickets:         "SslOptionDisableSessionTickets",
	SslOptionDisableCompression:            "SslOptionDisableCompression",
	SslOptionDisableServerNameIndication:   "SslOptionDisableServerNameIndication",
	SslOptionDisableLegacyRenegotiation:    "SslOptionDisableLegacyRenegotiation",
	SslOptionDisableSessionSharing:         "SslOptionDisableSessionSharing",
	SslOptionDisableSessionPersistence:     "SslOptionDisableSessionPersistence",
	SslOptionDisableServerCipherPreference: "SslOptionDisableServerCipherPreference",
})
