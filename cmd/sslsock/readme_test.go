package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readmeBlock is one fenced code block of README.md.
type readmeBlock struct {
	lang string
	text string
}

func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	for _, m := range regexp.MustCompile("(?ms)^```([a-z]*)\n(.*?)^```$").FindAllStringSubmatch(string(data), -1) {
		blocks = append(blocks, readmeBlock{m[1], m[2]})
	}
	if len(blocks) == 0 {
		t.Fatal("README.md has no code blocks")
	}
	return blocks
}

// readmeComment splits "command  # comment".
var readmeComment = regexp.MustCompile(`\s+#\s.*$`)

// TestReadmeCommands runs every shell command of README.md as written,
// in a temporary directory with the binary the README's own build line
// builds, with these test-only adjustments: the server listens on a free
// port instead of 8443 (which other programs may hold), the background
// job is started and stopped by the test (the README's "&" and "kill %1"),
// commands for hosts elsewhere go to a closed loopback SOCKS proxy instead
// of the network (so that only their command line is checked: exit 1, not
// the usage error 2), and ./test.sh, which runs this test, is checked for
// what it runs instead of being run. A comment "exits N" gives the
// expected status (0 otherwise).
func TestReadmeCommands(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	port := strconv.Itoa(freePort(t))
	closedProxy := "socks5://127.0.0.1:" + strconv.Itoa(freePort(t))
	var bg *exec.Cmd
	t.Cleanup(func() {
		if bg != nil && bg.Process != nil {
			bg.Process.Kill()
			bg.Wait()
		}
	})
	ran := 0
	for _, b := range readmeBlocks(t) {
		if b.lang != "sh" {
			continue
		}
		for _, raw := range strings.Split(strings.TrimSpace(b.text), "\n") {
			comment := readmeComment.FindString(raw)
			line := strings.TrimSpace(strings.TrimSuffix(raw, comment))
			want := 0
			if m := regexp.MustCompile(`exits (\d)`).FindStringSubmatch(comment); m != nil {
				want, _ = strconv.Atoi(m[1])
			}
			line = strings.ReplaceAll(line, "localhost:8443", "localhost:"+port)
			dir := tmp
			switch {
			case line == "./test.sh":
				script, err := os.ReadFile(filepath.Join(repo, "test.sh"))
				if st, serr := os.Stat(filepath.Join(repo, "test.sh")); err != nil || serr != nil || st.Mode()&0o111 == 0 ||
					!strings.Contains(string(script), "go test -race -count=1") {
					t.Errorf("%s: not an executable script running go test -race -count=1", line)
				}
				continue
			case strings.HasPrefix(line, "go build -o sslsock "):
				line, dir = strings.Replace(line, "-o sslsock", "-o "+filepath.Join(tmp, "sslsock"), 1), repo
			case strings.HasPrefix(line, "go run "):
				dir = repo
			case strings.HasSuffix(line, "&"):
				if bg != nil {
					t.Fatalf("%s: a second background job", raw)
				}
				bg = exec.Command("bash", "-c", "exec "+strings.TrimSuffix(line, "&")+" --listen 127.0.0.1:"+port)
				bg.Dir = tmp
				if err := bg.Start(); err != nil {
					t.Fatal(err)
				}
				waitListening(t, "127.0.0.1:"+port)
				ran++
				continue
			case line == "kill %1":
				if bg == nil {
					t.Fatalf("%s: no background job", raw)
				}
				bg.Process.Signal(os.Interrupt)
				if err := bg.Wait(); err != nil {
					t.Errorf("the background job ended with %v", err)
				}
				bg = nil
				ran++
				continue
			case strings.Contains(line, "example.com:"):
				line += " --proxy " + closedProxy
				want = 1
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			cmd := exec.CommandContext(ctx, "bash", "-c", line)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			cancel()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			if code != want {
				t.Errorf("README command %q: exit %d, want %d\n%s", raw, code, want, out)
			}
			if strings.Contains(line, "--json") {
				var v map[string]any
				if err := json.Unmarshal(out, &v); err != nil || v["ok"] != true {
					t.Errorf("%s: not a successful JSON report: %v\n%s", line, err, out)
				}
			}
			ran++
		}
	}
	if ran < 15 {
		t.Errorf("only %d README commands ran", ran)
	}
	checkIgnored(t, repo, tmp)
}

// checkIgnored: everything the README's commands left behind (they ran in
// dir as they would in the clone) is covered by the repository's
// .gitignore, so a user who follows the README keeps a clean `git status`.
func checkIgnored(t *testing.T, repo, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 5 {
		t.Fatalf("the README's commands left only %d files", len(entries))
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			name += "/"
		}
		cmd := exec.Command("git", "check-ignore", "-q", "--no-index", name)
		cmd.Dir = repo
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee) && ee.ExitCode() == 1:
			t.Errorf("the README's commands leave %s in the clone, and .gitignore does not cover it", name)
		case err != nil:
			t.Fatalf("git check-ignore %s: %v (git is needed to check .gitignore)", name, err)
		}
	}
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readmeImports are the packages README's Go snippets may use.
var readmeImports = map[string]string{"fmt": "fmt", "errors": "errors", "log": "log", "io": "io", "time": "time",
	"http": "net/http", "tls": "crypto/tls", "ssl": "github.com/sslsocket/sslsocket/ssl", "context": "context", "syscall": "syscall"}

// TestReadmeGoCompiles compiles each Go snippet of README.md as the body
// of a main function (through a build overlay: nothing is written into the
// repository).
func TestReadmeGoCompiles(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	n := 0
	for _, b := range readmeBlocks(t) {
		if b.lang != "go" {
			continue
		}
		n++
		var imports []string
		for name, path := range readmeImports {
			if regexp.MustCompile(`\b` + name + `\.`).MatchString(b.text) {
				imports = append(imports, strconv.Quote(path))
			}
		}
		src := fmt.Sprintf("package main\n\nimport (\n%s\n)\n\nfunc main() {\n%s}\n", strings.Join(imports, "\n"), b.text)
		file := filepath.Join(tmp, fmt.Sprintf("snippet%d.go", n))
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		pkg := filepath.Join(repo, "internal", fmt.Sprintf("readmesnippet%d", n))
		overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(pkg, "main.go"): file}})
		ov := filepath.Join(tmp, fmt.Sprintf("overlay%d.json", n))
		os.WriteFile(ov, overlay, 0o644)
		cmd := exec.Command("go", "build", "-overlay", ov, "-o", os.DevNull, pkg)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("README Go snippet %d does not compile: %v\n%s\n%s", n, err, out, src)
		}
	}
	if n < 3 {
		t.Errorf("%d Go snippets in README.md", n)
	}
}
