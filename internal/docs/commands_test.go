//go:build unix

package docs

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/testenv"
)

// The ports the pages use, each with the variable that moves the default address of the command
// listening there. Every page gets free ports instead: the test replaces these numbers in the
// page's commands (and in the outputs it shows) and sets the variables.
var docPorts = []struct{ port, env string }{
	{"8080", "EQUALTURE_MOCK_ADDR"},          // equalture-mock serve, make run
	{"8081", "EQUALTURE_MOCK_PROXY_ADDR"},    // equalture-mock proxy
	{"3000", "EQUALTURE_MOCK_RECEIVER_ADDR"}, // equalture-mock receiver
}

const (
	blockTimeout = 3 * time.Minute // one foreground block, e.g. the whole scenario library
	startTimeout = 3 * time.Minute // a background command listening (make run compiles first)
)

// binary returns the folder holding equalture-mock built from this tree (testenv.MockBinary: once
// per source state, shared with the other test packages).
func binary(t *testing.T) string {
	t.Helper()
	return filepath.Dir(testenv.MockBinary(t))
}

// Every sh block of every page runs, except those marked {untested: why; see where}, which are
// listed with where their equivalent is tested. A page's blocks run in order in one bash session
// (set -euo pipefail; variables carry from block to block) in the repository's root, with the
// binary built from this tree first on PATH; a {background: host:port} block is started on its own
// and must listen there before the page goes on; it is stopped when the page ends. Each `# → text`
// comment is an output the block must print (… stands for anything on the line), in order.
func TestCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs every page's commands")
	}
	needTools(t)
	all := pages(t)
	ran, outputs := 0, 0
	for _, p := range all {
		for _, b := range p.blocks {
			if b.lang != "sh" {
				continue
			}
			if why, see, ok := b.untested(); ok {
				checkUntested(t, p, b, why, see)
				continue
			}
			ran++
			outputs += len(expectations(b.text))
		}
	}
	// A floor, so that a broken parser or a page marked untested wholesale cannot pass unseen.
	if ran < 30 || outputs < 30 {
		t.Errorf("only %d runnable blocks showing %d outputs: the pages' commands must run", ran, outputs)
	}
	t.Logf("%d runnable blocks showing %d outputs", ran, outputs)
	bin := binary(t)
	for _, p := range all {
		t.Run(p.path, func(t *testing.T) {
			t.Parallel()
			runPage(t, p, bin)
		})
	}
}

// pageTools are the commands the pages' commands use beyond the binary; make docs-deps installs
// curl and jq (and bash), as make test does first.
var pageTools = []*testenv.Tool{
	testenv.OnPath("bash", "make docs-deps"),
	testenv.OnPath("curl", "make docs-deps"),
	testenv.OnPath("jq", "make docs-deps"),
	testenv.OnPath("make", "apt-get install make"),
}

// needTools skips the test, or fails it under CI=true, when a tool the pages use is missing: the
// test installs nothing.
func needTools(t *testing.T) {
	t.Helper()
	for _, tool := range pageTools {
		tool.Require(t)
	}
}

// checkUntested lists an untested block and checks it says why and where its equivalent is tested.
func checkUntested(t *testing.T, p *page, b block, why, see string) {
	t.Helper()
	if why == "" || see == "" {
		t.Errorf("%s: block at %s: write {untested: <why>; see <where its equivalent is tested>}", p.path, b)
		return
	}
	for _, s := range strings.Split(see, ", ") {
		if _, err := os.Stat(filepath.Join(root, s)); err != nil {
			t.Errorf("%s: block at %s: %q is no file or folder of the repository", p.path, b, s)
		}
	}
	t.Logf("untested: %s:%d: %s; tested instead: %s", p.path, b.line, why, see)
}

var (
	arrow     = regexp.MustCompile(`(?:^|\s)# → (.*)$`)
	portWords = regexp.MustCompile(`\b(8080|8081|3000)\b`)
)

// expectations are the outputs a block shows, as patterns.
func expectations(text string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, l := range strings.Split(text, "\n") {
		m := arrow.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		parts := strings.Split(strings.TrimSpace(m[1]), "…")
		for i, s := range parts {
			parts[i] = regexp.QuoteMeta(s)
		}
		out = append(out, regexp.MustCompile(strings.Join(parts, `[^\n]*?`)))
	}
	return out
}

// runPage runs a page's sh blocks.
func runPage(t *testing.T, p *page, bin string) {
	ports := map[string]string{}
	env := []string{"TMPDIR=" + t.TempDir(), "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "EQUALTURE_") && !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	for _, d := range docPorts {
		ports[d.port] = freePort(t)
		env = append(env, d.env+"=127.0.0.1:"+ports[d.port])
	}
	local := func(s string) string {
		return portWords.ReplaceAllStringFunc(s, func(p string) string { return ports[p] })
	}
	dir, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	var sh *session
	for _, b := range p.blocks {
		if b.lang != "sh" {
			continue
		}
		if _, _, ok := b.untested(); ok {
			continue
		}
		text := local(b.text)
		if addr := b.background(); addr != "" {
			startBackground(t, p, b, text, local(addr), dir, env)
			continue
		}
		if sh == nil {
			sh = startSession(t, dir, env)
		}
		out, err := sh.run(text)
		if err != nil {
			t.Fatalf("%s: block at %s: %v\n--- the block, as run:\n%s--- its output:\n%s", p.path, b, err, text, out)
		}
		rest := out
		for _, want := range expectations(text) {
			loc := want.FindStringIndex(rest)
			if loc == nil {
				t.Fatalf("%s: block at %s: the output shown as %q did not come (after the ones before it)\n--- the block, as run:\n%s--- its output:\n%s",
					p.path, b, want, text, out)
			}
			rest = rest[loc[1]:]
		}
	}
	if sh != nil {
		if err := sh.close(); err != nil {
			t.Fatalf("%s: the shell: %v", p.path, err)
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// group runs a command in a process group of its own, so that stopping it stops what it started
// (make run starts go run, which starts the mock).
func group(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// stop ends a command's process group: SIGTERM (a graceful shutdown), SIGKILL after 15 s.
func stop(cmd *exec.Cmd, done <-chan struct{}) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

// startBackground starts a block's command and waits until something listens on addr; the command
// is stopped when the test ends.
func startBackground(t *testing.T, p *page, b block, text, addr, dir string, env []string) {
	t.Helper()
	cmd := exec.Command("bash", "-c", text)
	cmd.Dir, cmd.Env = dir, env
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	group(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { stop(cmd, done) })
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("%s: background block at %s exited before listening on %s\n--- the block, as run:\n%s--- its output:\n%s", p.path, b, addr, text, out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: background block at %s did not listen on %s within %s\n--- its output:\n%s", p.path, b, addr, startTimeout, out)
		}
	}
}

// session is one bash process running a page's foreground blocks, one after the other.
type session struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	done   chan struct{}
	marker string
	n      int
}

func startSession(t *testing.T, dir string, env []string) *session {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &session{cmd: exec.Command("bash"), lines: make(chan string, 64), done: make(chan struct{}), marker: "@@docs-" + rand.Text() + "@@"}
	s.cmd.Dir, s.cmd.Env = dir, env
	s.cmd.Stdout, s.cmd.Stderr = w, w
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	group(s.cmd)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	// What a block starts in the background (cmd &) belongs to the session's group: stopped too.
	t.Cleanup(func() { stop(s.cmd, s.done); _ = r.Close() })
	_, err = io.WriteString(s.stdin, "set -euo pipefail\n"+
		`trap 'echo "docs test: \"$BASH_COMMAND\" failed with status $?" >&2' ERR`+"\n")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run runs one block and returns what it printed.
func (s *session) run(text string) (string, error) {
	s.n++
	end := fmt.Sprintf("%s %d", s.marker, s.n)
	if _, err := io.WriteString(s.stdin, text+"\nprintf '\\n%s\\n' '"+end+"'\n"); err != nil {
		return "", fmt.Errorf("the shell is gone: %w", err)
	}
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), blockTimeout)
	defer cancel()
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				return out.String(), fmt.Errorf("the shell exited (a command failed)")
			}
			if l == end {
				return out.String(), nil
			}
			out.WriteString(l + "\n")
		case <-s.done:
			// bash is gone; what it printed last may still be on its way (a command it started
			// in the background can keep the pipe open, so do not wait for the end of it).
			for {
				select {
				case l, ok := <-s.lines:
					if ok {
						out.WriteString(l + "\n")
						continue
					}
				case <-time.After(500 * time.Millisecond):
				}
				return out.String(), fmt.Errorf("the shell exited with status %d (a command failed)", s.cmd.ProcessState.ExitCode())
			}
		case <-ctx.Done():
			return out.String(), fmt.Errorf("no end within %s", blockTimeout)
		}
	}
}

// close ends the session: bash exits at the end of its input.
func (s *session) close() error {
	if err := s.stdin.Close(); err != nil {
		return err
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("bash did not exit at the end of its input")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("bash exited with status %d", code)
	}
	return nil
}
