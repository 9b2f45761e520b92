package ssl

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestQt5PortingTable checks docs/qt-mapping.md's section for Qt 5.15
// porters: it names every Qt 5 member the Qt 5.15 documentation uses and
// Qt 6 moved or removed, and every Go function or method it points to
// exists in this package.
func TestQt5PortingTable(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "qt-mapping.md"))
	if err != nil {
		t.Fatal("docs/qt-mapping.md is not beside the package:", err)
	}
	text := string(doc)
	start := strings.Index(text, "## Porting from Qt 5.15")
	if start < 0 {
		t.Fatal("docs/qt-mapping.md has no \"Porting from Qt 5.15\" section")
	}
	section := text[start:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}

	var qtCol, goCol strings.Builder
	rows := 0
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.Contains(cells[1], "Qt 5.15") {
			continue
		}
		rows++
		qtCol.WriteString(cells[1])
		goCol.WriteString(cells[3])
	}
	if rows < 15 {
		t.Fatalf("the Qt 5 table has %d rows", rows)
	}
	for _, name := range []string{"setCaCertificates", "caCertificates", "addCaCertificates", "setCiphers", "ciphers",
		"defaultCiphers", "setDefaultCiphers", "supportedCiphers", "systemCaCertificates", "defaultCaCertificates",
		"setDefaultCaCertificates", "addDefaultCaCertificate", "sslErrors", "error(QAbstractSocket::SocketError)"} {
		if !strings.Contains(qtCol.String(), "`"+name) && !strings.Contains(qtCol.String(), " "+name) {
			t.Errorf("the Qt 5 table does not name %s", name)
		}
	}

	exported := exportedNames(t)
	called := regexp.MustCompile(`\b([A-Z][A-Za-z0-9]*)\(`)
	for _, m := range called.FindAllStringSubmatch(goCol.String(), -1) {
		if !exported[m[1]] {
			t.Errorf("the Qt 5 table points to %s, which package ssl does not have", m[1])
		}
	}
}

// exportedNames is every exported function and method name in the
// package's non-test files.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.IsExported() {
				names[fd.Name.Name] = true
			}
		}
	}
	return names
}
