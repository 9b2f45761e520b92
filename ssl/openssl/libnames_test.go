package openssl

import (
	"slices"
	"strings"
	"testing"
)

// TestLibraryCandidates: the names the loader tries per platform (a pure
// function, so every platform's list is checked here on Linux; only the
// Linux names are exercised by a real dlopen in this suite).
func TestLibraryCandidates(t *testing.T) {
	none := func(string) string { return "" }
	got := libraryCandidates("linux", none)
	if !slices.Equal(got, []libraryPair{{"libcrypto.so.3", "libssl.so.3"}}) {
		t.Errorf("linux: %v", got)
	}
	mac := libraryCandidates("darwin", none)
	for _, want := range []libraryPair{
		{"libcrypto.3.dylib", "libssl.3.dylib"},
		{"/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib", "/opt/homebrew/opt/openssl@3/lib/libssl.3.dylib"},
		{"/usr/local/opt/openssl@3/lib/libcrypto.3.dylib", "/usr/local/opt/openssl@3/lib/libssl.3.dylib"},
	} {
		if !slices.Contains(mac, want) {
			t.Errorf("darwin: %v lacks %v", mac, want)
		}
	}
	if mac[0] != (libraryPair{"libcrypto.3.dylib", "libssl.3.dylib"}) {
		t.Errorf("darwin: the loader's own search comes first, got %v", mac[0])
	}
	for _, goos := range []string{"darwin", "freebsd", "netbsd", "linux"} {
		for _, p := range libraryCandidates(goos, none) {
			// Never an unversioned name: on macOS dlopen("libcrypto.dylib")
			// aborts the process.
			if strings.HasSuffix(p.crypto, "libcrypto.dylib") || strings.HasSuffix(p.crypto, "libcrypto.so") ||
				strings.Contains(p.crypto, "libssl") || strings.Contains(p.ssl, "libcrypto") {
				t.Errorf("%s: %v", goos, p)
			}
		}
	}
	if fb := libraryCandidates("freebsd", none); len(fb) == 0 || fb[0].ssl != "libssl.so.30" {
		t.Errorf("freebsd: %v", fb)
	}
	if nb := libraryCandidates("netbsd", none); !slices.Contains(nb, libraryPair{"/usr/pkg/lib/libcrypto.so.3", "/usr/pkg/lib/libssl.so.3"}) {
		t.Errorf("netbsd: %v", nb)
	}
	for _, goos := range []string{"openbsd", "dragonfly", "windows", "plan9"} {
		if got := libraryCandidates(goos, none); got != nil {
			t.Errorf("%s: %v", goos, got)
		}
	}

	env := map[string]string{envLibcrypto: "/opt/ossl/lib/libcrypto.so.3", envLibssl: "/opt/ossl/lib/libssl.so.3"}
	for _, goos := range []string{"linux", "darwin", "openbsd"} {
		got := libraryCandidates(goos, func(k string) string { return env[k] })
		if !slices.Equal(got, []libraryPair{{env[envLibcrypto], env[envLibssl]}}) {
			t.Errorf("%s with the environment: %v", goos, got)
		}
	}
	half := func(k string) string {
		if k == envLibssl {
			return "/x/libssl.so.3"
		}
		return ""
	}
	if got := libraryCandidates("linux", half); got[0].ssl != "libssl.so.3" {
		t.Errorf("one variable alone is ignored: %v", got)
	}
}
