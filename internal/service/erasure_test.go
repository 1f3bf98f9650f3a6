package service_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/persist"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// dataKeys reads the key file as its layout says (internal/persist/keys.go): a 64-byte header,
// then 64-byte slots holding a key's id (8 bytes) and the key (32); zeroed slots are free.
func dataKeys(t *testing.T, dir string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, persist.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for off := 64; off+64 <= len(b); off += 64 {
		if binary.BigEndian.Uint64(b[off:]) != 0 {
			keys[string(b[off+8:off+40])] = true
		}
	}
	return keys
}

// grepDir returns, for each needle found in a file under dir (as bytes), where.
func grepDir(t *testing.T, dir string, needles []string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				found = append(found, fmt.Sprintf("%s holds %q", filepath.Base(path), n))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// The test: applicants with names and emails of their own complete their assessments
// (scores, and the fit drawn from them), some are hired, some anonymized; the mock is closed.
// Then every file of the data dir is read as bytes: none holds an anonymized applicant's name,
// email or scores as they are serialized, a fit, or the key their record was sealed with (raw,
// hex or base64) — nor, sealed as they are, any other applicant's. After a restart the others
// read back whole.
func TestErasureReachesTheDisk(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewFrozen(testenv.T0)
	s := newService(t, dir, clk, service.Config{})
	type applicant struct {
		ref    string
		who    domain.Applicant
		scores domain.Scores
	}
	var apps []applicant
	for i := range 12 {
		who := domain.Applicant{FirstName: fmt.Sprintf("Zebulon%02d", i), LastName: fmt.Sprintf("Quixotic%02d", i), Email: fmt.Sprintf("zq%02d@erasure.example", i)}
		a, err := s.Invite(testenv.DemoID, service.Invitation{JobID: testenv.EngineerJob, CallbackURL: testenv.CallbackURL, InvitationType: domain.InviteEmail, Applicant: who})
		if err != nil {
			t.Fatal(err)
		}
		how := service.Completion{Fit: []string{"low", "medium", "high"}[i%3]}
		done, err := s.Complete(a.ReferenceID, how)
		if err != nil {
			t.Fatal(err)
		}
		if i%4 == 1 {
			if _, err := s.Hire(testenv.DemoID, a.ReferenceID, service.Hiring{AddToTeam: true, StartDate: "2031-02-03"}); err != nil {
				t.Fatal(err)
			}
		}
		apps = append(apps, applicant{a.ReferenceID, who, done.Scores})
	}
	s.settle(t)
	before := dataKeys(t, dir)
	anonymized := map[string]bool{}
	for i, a := range apps {
		if i%2 == 0 {
			if _, err := s.Anonymize(testenv.DemoID, a.ref); err != nil {
				t.Fatal(err)
			}
			anonymized[a.ref] = true
		}
	}
	s.settle(t)
	s.stop()

	var destroyed []string
	after := dataKeys(t, dir)
	for k := range before {
		if !after[k] {
			destroyed = append(destroyed, k)
		}
	}
	if len(destroyed) < len(anonymized) {
		t.Fatalf("%d keys destroyed for %d anonymizations", len(destroyed), len(anonymized))
	}
	var needles []string
	for _, a := range apps {
		needles = append(needles, a.who.FirstName, a.who.LastName, a.who.Email, "erasure.example")
		for _, sc := range a.scores {
			needles = append(needles, fmt.Sprintf("%q:%d", sc.Trait, sc.Value))
		}
	}
	needles = append(needles, `"fit"`, `"scores"`, "2031-02-03")
	for _, k := range destroyed {
		needles = append(needles, k, hex.EncodeToString([]byte(k)), base64.StdEncoding.EncodeToString([]byte(k)), base64.RawURLEncoding.EncodeToString([]byte(k)))
	}
	if found := grepDir(t, dir, needles); len(found) > 0 {
		t.Fatalf("after anonymization the data dir still holds:\n  %s", strings.Join(found, "\n  "))
	}

	s = newService(t, dir, clk, service.Config{})
	for _, a := range apps {
		got, err := s.Lookup(a.ref)
		if err != nil {
			t.Fatal(err)
		}
		if anonymized[a.ref] {
			if got.Status != domain.Anonymized || got.Applicant != domain.Anonymous || got.Scores != nil {
				t.Fatalf("anonymized %s after a restart: %+v", a.ref, got)
			}
			continue
		}
		if got.Applicant != a.who || fmt.Sprint(got.Scores) != fmt.Sprint(a.scores) || (got.Status != domain.Completed && got.Status != domain.Hired) {
			t.Fatalf("%s after a restart: %+v, want %+v with scores %v", a.ref, got, a.who, a.scores)
		}
	}
}
