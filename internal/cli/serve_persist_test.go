package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDataDirFlag(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"default: in memory": {nil, nil, ""},
		"env":                {map[string]string{"EQUALTURE_MOCK_DATA_DIR": "/data"}, nil, "/data"},
		"flag beats env":     {map[string]string{"EQUALTURE_MOCK_DATA_DIR": "/data"}, []string{"--data-dir", "/var/lib/mock"}, "/var/lib/mock"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, o := serveFlags(env(tc.env), io.Discard)
			if err := f.parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if got := o.cfg.DataDir; got != tc.want {
				t.Fatalf("data dir = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestServeRefusesAForeignDataFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "equalture-mock.db")
	if err := os.WriteFile(file, []byte("my notes, not a database\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	code := Main(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dir}, env(nil), io.Discard, &errb)
	if code != exitFail || !strings.Contains(errb.String(), file) || !strings.Contains(errb.String(), "not an equalture-mock data file") {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	if b, _ := os.ReadFile(file); string(b) != "my notes, not a database\n" {
		t.Fatal("the refused file was changed")
	}
}
