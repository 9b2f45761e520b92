package ssl_test

// Linking the openssl backend into the test binary registers it (when
// libssl 3 loads), so that the package's behaviour suite, which runs once
// per AvailableBackends() entry (backend_modes_test.go), covers it too.
import _ "github.com/sslsocket/sslsocket/ssl/openssl"
