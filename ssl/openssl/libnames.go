package openssl

import "path"

// The environment variables that name the two libraries to load instead of
// the platform's usual ones (both must be set: a path or a name dlopen
// resolves), for an OpenSSL 3 installed where the loader does not look.
const (
	envLibcrypto = "SSLSOCKET_LIBCRYPTO"
	envLibssl    = "SSLSOCKET_LIBSSL"
)

// libraryPair is one (libcrypto, libssl) pair the loader tries.
type libraryPair struct{ crypto, ssl string }

// libraryCandidates lists, in the order the loader tries them, the pairs of
// OpenSSL 3 libraries for goos: the environment's pair alone when both
// variables are set, else the platform's names. Only versioned names are
// tried: on macOS, dlopen of the system's unversioned libcrypto.dylib (a
// LibreSSL stub) aborts the process. Every candidate's version is checked
// after loading (OpenSSL 3 only).
func libraryCandidates(goos string, getenv func(string) string) []libraryPair {
	if c, s := getenv(envLibcrypto), getenv(envLibssl); c != "" && s != "" {
		return []libraryPair{{c, s}}
	}
	in := func(dirs []string, crypto, ssl string) []libraryPair {
		var out []libraryPair
		for _, d := range dirs {
			if d == "" {
				out = append(out, libraryPair{crypto, ssl})
			} else {
				out = append(out, libraryPair{path.Join(d, crypto), path.Join(d, ssl)})
			}
		}
		return out
	}
	switch goos {
	case "linux":
		// Every distribution's soname; the dynamic loader's search path.
		return in([]string{""}, "libcrypto.so.3", "libssl.so.3")
	case "darwin":
		// DYLD_LIBRARY_PATH and the loader's defaults first, then Homebrew
		// (Apple silicon, Intel) and MacPorts.
		return in([]string{"", "/opt/homebrew/opt/openssl@3/lib", "/usr/local/opt/openssl@3/lib", "/opt/local/lib"},
			"libcrypto.3.dylib", "libssl.3.dylib")
	case "freebsd":
		// FreeBSD 14's base system (shared library version 30), then ports.
		return append(in([]string{""}, "libcrypto.so.30", "libssl.so.30"),
			in([]string{"", "/usr/local/lib"}, "libcrypto.so.3", "libssl.so.3")...)
	case "netbsd":
		// pkgsrc.
		return in([]string{"", "/usr/pkg/lib"}, "libcrypto.so.3", "libssl.so.3")
	}
	// OpenBSD and DragonFly ship LibreSSL; their OpenSSL 3 packages' names
	// are not known here: the environment's pair is needed.
	return nil
}
