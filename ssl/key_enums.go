package ssl

// KeyType is Qt's QSsl::KeyType.
type KeyType int

// KeyType values.
const (
	PrivateKey KeyType = 0
	PublicKey  KeyType = 1
)

var keyTypeNames = newEnumTable("KeyType", map[KeyType]string{PrivateKey: "PrivateKey", PublicKey: "PublicKey"})

// KeyAlgorithm is Qt's QSsl::KeyAlgorithm. Keys Qt has no name for (Ed25519)
// report Opaque, as Qt's OpenSSL backend does.
type KeyAlgorithm int

// KeyAlgorithm values.
const (
	Opaque KeyAlgorithm = 0
	Rsa    KeyAlgorithm = 1
	Dsa    KeyAlgorithm = 2
	Ec     KeyAlgorithm = 3
	Dh     KeyAlgorithm = 4
)

var keyAlgorithmNames = newEnumTable("KeyAlgorithm", map[KeyAlgorithm]string{
	Opaque: "Opaque", Rsa: "Rsa", Dsa: "Dsa", Ec: "Ec", Dh: "Dh",
})

// EncodingFormat is Qt's QSsl::EncodingFormat.
type EncodingFormat int

// EncodingFormat values.
const (
	Pem EncodingFormat = 0
	Der EncodingFormat = 1
)

var encodingFormatNames = newEnumTable("EncodingFormat", map[EncodingFormat]string{Pem: "Pem", Der: "Der"})
