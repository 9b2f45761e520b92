package ssl

// SslLibraryVersionStringFor is the named backend's LibraryVersionString
// ("" for the active one), as SupportedCiphersFor is SupportedCiphers for
// a named backend; an unknown name gives "".
func SslLibraryVersionStringFor(backend string) string {
	b := backendByName(backend)
	if b == nil {
		return ""
	}
	return b.LibraryVersionString()
}
