package ssl

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// PatternSyntax is QSslCertificate::PatternSyntax: how CertificatesFromPath
// reads its path argument.
type PatternSyntax int

// PatternSyntax values.
const (
	RegularExpression PatternSyntax = 0 // a regular expression over whole paths
	Wildcard          PatternSyntax = 1 // shell globbing, also in directory parts
	FixedString       PatternSyntax = 2 // the path of one file (the default in Qt)
)

var patternSyntaxNames = newEnumTable("PatternSyntax", map[PatternSyntax]string{
	RegularExpression: "RegularExpression", Wildcard: "Wildcard", FixedString: "FixedString",
})

// CertificatesFromPath loads the certificates of every file that path names
// (QSslCertificate::fromPath). With FixedString the path must be a file; with
// Wildcard ("certs/*.pem", "c*/c*.pem") and RegularExpression
// ("certs/c.*\\.pem") every matching file contributes all its certificates,
// in lexical path order. Files that match but hold no certificate are
// skipped; a pattern matching nothing gives an empty list and no error.
func CertificatesFromPath(path string, format EncodingFormat, syntax PatternSyntax) ([]Certificate, error) {
	var files []string
	switch syntax {
	case FixedString:
		st, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			return nil, fmt.Errorf("ssl: %s is a directory", path)
		}
		return CertificatesFromFile(path, format)
	case Wildcard:
		m, err := filepath.Glob(path)
		if err != nil {
			return nil, fmt.Errorf("ssl: bad wildcard %q: %w", path, err)
		}
		files = m
	case RegularExpression:
		m, err := regexpFiles(path)
		if err != nil {
			return nil, err
		}
		files = m
	default:
		return nil, fmt.Errorf("ssl: unknown pattern syntax %d", int(syntax))
	}
	sort.Strings(files)
	var out []Certificate
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || !st.Mode().IsRegular() {
			continue
		}
		certs, err := CertificatesFromFile(f, format)
		if err != nil {
			continue
		}
		out = append(out, certs...)
	}
	return out, nil
}

// regexpFiles walks the longest directory prefix of pattern that holds no
// regular-expression metacharacter and returns the files whose whole path
// matches pattern.
func regexpFiles(pattern string) ([]string, error) {
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		return nil, fmt.Errorf("ssl: bad regular expression %q: %w", pattern, err)
	}
	root := "."
	if i := strings.IndexAny(pattern, `\.+*?()|[]{}^$`); i != 0 {
		prefix := pattern
		if i > 0 {
			prefix = pattern[:i]
		}
		if j := strings.LastIndex(prefix, "/"); j >= 0 {
			root = prefix[:j+1]
		}
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil
		}
		rel := p
		if root == "." {
			rel = strings.TrimPrefix(p, "./")
		}
		if !d.IsDir() && re.MatchString(rel) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return files, nil
}
