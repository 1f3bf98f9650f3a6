package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/equalture/equalture-mock/internal/contracttest"
)

// runContract runs the standalone contract suite (contract.test, built with
// `go test -c -o contract.test ./contract`) against a target, translating flags to its settings.
func runContract(ctx context.Context, args []string, env Env, stdout, stderr io.Writer) int {
	f := newFlagSet("contract", env, stderr)
	var cfg contracttest.Config
	for _, s := range contracttest.Settings() {
		f.StringVar(s.Var(&cfg), s.Flag, "", s.Usage)
		f.bindEnv(s.Flag, s.Env)
	}
	var junit, labels, focus, binary string
	var verbose bool
	f.StringVar(&junit, "junit", "", "write a JUnit report to this file")
	f.bindEnv("junit", "EQUALTURE_MOCK_CONTRACT_JUNIT")
	f.StringVar(&labels, "label-filter", "", "Ginkgo label filter (default without a control URL: '!destructive && !control')")
	f.bindEnv("label-filter", "EQUALTURE_MOCK_CONTRACT_LABEL_FILTER")
	f.StringVar(&focus, "focus", "", "only specs whose text matches this regular expression")
	f.bindEnv("focus", "EQUALTURE_MOCK_CONTRACT_FOCUS")
	f.StringVar(&binary, "binary", "", "path of contract.test (default: next to this executable, then ../lib/equalture-mock, then PATH)")
	f.bindEnv("binary", "EQUALTURE_MOCK_CONTRACT_BINARY")
	f.BoolVar(&verbose, "v", false, "list every spec")
	f.bindEnv("v", "EQUALTURE_MOCK_CONTRACT_VERBOSE")
	if code, ok := f.parseOrExit(args, stderr); !ok {
		return code
	}
	bin, err := findContractBinary(binary)
	if err != nil {
		fmt.Fprintf(stderr, "equalture-mock contract: %v\n", err)
		return exitFail
	}
	suiteArgs := []string{"-test.v", "-ginkgo.no-color"}
	if junit != "" {
		suiteArgs = append(suiteArgs, "-ginkgo.junit-report="+junit)
	}
	if labels != "" {
		suiteArgs = append(suiteArgs, "-ginkgo.label-filter="+labels)
	}
	if focus != "" {
		suiteArgs = append(suiteArgs, "-ginkgo.focus="+focus)
	}
	if verbose {
		suiteArgs = append(suiteArgs, "-ginkgo.v")
	}
	cmd := exec.CommandContext(ctx, bin, suiteArgs...)
	cmd.Env = append(os.Environ(), cfg.Env()...)
	// Inherit stdin: a bare root (scratch run by chroot) has no /dev/null to open instead.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		fmt.Fprintf(stderr, "equalture-mock contract: %v\n", err)
		return exitFail
	}
	return exitOK
}

func findContractBinary(explicit string) (string, error) {
	const build = "build it with go test -c -o contract.test ./contract (or make contract-binary)"
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("contract suite binary %s: %w; %s", explicit, err, build)
		}
		return explicit, nil
	}
	// os.Executable needs /proc, which a bare chroot lacks; argv[0] is the next best guess.
	if exe, err := os.Executable(); err == nil || filepath.IsAbs(os.Args[0]) {
		if err != nil {
			exe = os.Args[0]
		}
		if p, ok := contractBinaryBeside(filepath.Dir(exe)); ok {
			return p, nil
		}
	}
	if p, err := exec.LookPath(contractBinaryName()); err == nil {
		return p, nil
	}
	return "", errors.New("contract.test not found next to this executable or in PATH: " + build + ", or name it with --binary")
}

// contractBinaryBeside finds the suite an install put beside the executable in exeDir: in the same
// directory (the archives, the images, make contract-binary), or in ../lib/equalture-mock (the .deb
// and .rpm packages, which keep /usr/bin to the one command).
func contractBinaryBeside(exeDir string) (string, bool) {
	for _, dir := range []string{exeDir, filepath.Join(exeDir, "..", "lib", "equalture-mock")} {
		p := filepath.Join(dir, contractBinaryName())
		if _, err := os.Stat(p); err == nil {
			return filepath.Clean(p), true
		}
	}
	return "", false
}

// contractBinaryName is contract.test, with .exe on Windows (as the Windows archives ship it).
func contractBinaryName() string {
	if runtime.GOOS == "windows" {
		return "contract.test.exe"
	}
	return "contract.test"
}
