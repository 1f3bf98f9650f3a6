package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/results"
)

// Recording fixtures: with Options.RecordFixtures the proxy keeps what the real account shows of
// itself — its client ids, the jobs listJobs answers (ids, names), the assessment ids in one-time
// links, and the traits its results name (names and bucket descriptions per locale, each job's
// competency profile) — never a secret, and writes it as a fixtures directory the mock serves
// (--fixtures DIR): the mock then mirrors the account the ATS is configured for.

// Bounds of what a recording keeps.
const (
	maxRecordedClients = 100
	maxRecordedJobs    = 1000 // per client
	maxRecordedTraits  = 200
)

// PlaceholderSecret is the client_secret recorded fixtures carry: the real one is never kept.
const PlaceholderSecret = "replace-me"

// recording is what the proxy saw of the account.
type recording struct {
	clients map[string]*recordedClient
	order   []string // client ids, first seen first
	apps    *bounded[appJob]
	traits  map[string]*recordedTrait
	torder  []string
}

type recordedClient struct {
	jobs  map[string]*recordedJob
	order []string
}

type recordedJob struct {
	name         string
	assessmentID int
	profile      map[string]fixtures.ProfileEntry
	porder       []string
}

// appJob is the client and job of an application created through the proxy.
type appJob struct{ client, job string }

type recordedTrait struct {
	names   map[string]string         // locale → name
	buckets map[string]map[int]string // locale → score → description
}

func newRecording() *recording {
	return &recording{clients: make(map[string]*recordedClient), apps: newBounded[appJob](maxApps), traits: make(map[string]*recordedTrait)}
}

func (rc *recording) client(id string) *recordedClient {
	c := rc.clients[id]
	if c == nil && id != "" && len(rc.order) < maxRecordedClients {
		c = &recordedClient{jobs: make(map[string]*recordedJob)}
		rc.clients[id] = c
		rc.order = append(rc.order, id)
	}
	return c
}

func (c *recordedClient) job(id string) *recordedJob {
	j := c.jobs[id]
	if j == nil && len(c.order) < maxRecordedJobs {
		j = &recordedJob{profile: make(map[string]fixtures.ProfileEntry)}
		c.jobs[id] = j
		c.order = append(c.order, id)
	}
	return j
}

// assessmentRE finds the assessment id in a one-time link (…/assessments/73799/token/…).
var assessmentRE = regexp.MustCompile(`/assessments/(\d+)/`)

// bucketRE splits a bucket description: "(3) Average".
var bucketRE = regexp.MustCompile(`^\((\d)\) (.+)$`)

// recordAccount learns from a 2xx answer of the vendor API what the account shows (p.mu held).
func (p *Proxy) recordAccount(c *dispatch.Call, ex *exchange, body []byte, client string) {
	rc := p.recording
	if rc == nil || !is2xx(ex.status) {
		return
	}
	switch rule, _ := p.lc.Rule(c.Op); {
	case p.kinds[p.schemes[c.Op]] == "basic":
		rc.client(client)
	case c.Op == "listJobs":
		var jobs []struct{ ID, Name string }
		if cl := rc.client(client); cl != nil && json.Unmarshal(body, &jobs) == nil {
			for _, j := range jobs {
				if rj := cl.job(j.ID); rj != nil && j.Name != "" {
					rj.name = j.Name
				}
			}
		}
	case rule.Creates:
		var req struct {
			JobID string `json:"job_id"`
		}
		ref, link := field(body, "reference_id"), field(body, "assessment_url")
		if json.Unmarshal(c.Body, &req) != nil || ref == "" || req.JobID == "" {
			return
		}
		rc.apps.put(ref, appJob{client, req.JobID})
		if m := assessmentRE.FindStringSubmatch(link); m != nil {
			if cl := rc.client(client); cl != nil {
				if j := cl.job(req.JobID); j != nil {
					j.assessmentID, _ = strconv.Atoi(m[1])
				}
			}
		}
	case rule.Stable: // the results
		p.recordResults(c.Params["reference_id"], fixtures.Locale(c.Request.URL.Query().Get("locale")), body)
	}
}

// recordResults learns the traits a results answer (or callback) names, and its job's profile.
func (p *Proxy) recordResults(ref, locale string, body []byte) {
	rc := p.recording
	if rc == nil {
		return
	}
	var res results.Results
	if json.Unmarshal(body, &res) != nil {
		return
	}
	var job *recordedJob
	if aj, ok := rc.apps.get(ref); ok {
		if cl := rc.client(aj.client); cl != nil {
			job = cl.job(aj.job)
		}
	}
	for _, d := range res.DetailedScores {
		if d.TraitCode == "" {
			continue
		}
		t := rc.traits[d.TraitCode]
		if t == nil {
			if len(rc.torder) >= maxRecordedTraits {
				continue
			}
			t = &recordedTrait{names: make(map[string]string), buckets: make(map[string]map[int]string)}
			rc.traits[d.TraitCode] = t
			rc.torder = append(rc.torder, d.TraitCode)
		}
		if d.TraitName != "" {
			t.names[locale] = d.TraitName
		}
		if m := bucketRE.FindStringSubmatch(d.TraitBucketDescription); m != nil {
			if t.buckets[locale] == nil {
				t.buckets[locale] = make(map[int]string)
			}
			n, _ := strconv.Atoi(m[1])
			t.buckets[locale][n] = m[2]
		}
		if job != nil {
			if _, ok := job.profile[d.TraitCode]; !ok {
				job.porder = append(job.porder, d.TraitCode)
			}
			job.profile[d.TraitCode] = fixtures.ProfileEntry{Trait: d.TraitCode, Priority: d.CompetencyProfile.Priority, Range: d.CompetencyProfile.Range}
		}
	}
}

// WriteFixtures writes what the recording saw as a fixtures directory (clients.yaml, traits.yaml)
// the mock serves with --fixtures DIR: the account's clients (their secret a placeholder), jobs
// and traits; what was not seen (a trait's other locales or buckets, a job's profile without
// results) is filled from the mock's own catalogue, and the files say so.
func (p *Proxy) WriteFixtures(dir string) error {
	if p.recording == nil {
		return errors.New("proxy: fixtures were not recorded (Options.RecordFixtures)")
	}
	p.mu.Lock()
	clients, traits, err := p.recording.fixtures()
	p.mu.Unlock()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	out := make([]clientOut, len(clients))
	for i, c := range clients {
		out[i] = clientOut{ID: c.ID, Secret: c.Secret, Name: c.Name}
		for _, j := range c.Jobs {
			jo := jobOut{ID: j.ID, Name: j.Name, AssessmentID: j.AssessmentID}
			for _, pe := range j.Profile {
				jo.Profile = append(jo.Profile, profileOut(pe))
			}
			out[i].Jobs = append(out[i].Jobs, jo)
		}
	}
	tout := make([]traitOut, len(traits))
	for i, t := range traits {
		tout[i] = traitOut{Code: t.Code, Name: t.Name, Buckets: t.Buckets}
	}
	write := func(name, header string, v any) error {
		var b bytes.Buffer
		b.WriteString(header)
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(v); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644)
	}
	return errors.Join(
		write("clients.yaml", "# Recorded by equalture-mock proxy --record-fixtures: the account's clients, jobs and the\n"+
			"# competency profiles its results showed. No secret is ever recorded: set client_secret (the mock\n"+
			"# checks it) before you serve these with equalture-mock serve --fixtures DIR.\n",
			map[string]any{"clients": out}),
		write("traits.yaml", "# Recorded by equalture-mock proxy --record-fixtures: the traits the account's results named.\n"+
			"# Names and bucket descriptions the results did not show come from the mock's own catalogue, or\n"+
			"# are placeholders (\"Level n\") for traits it does not know.\n",
			map[string]any{"traits": tout}),
	)
}

// The files' shapes: fixtures.Load's, without the fields a recording never fills.
type (
	clientOut struct {
		ID     string   `yaml:"client_id"`
		Secret string   `yaml:"client_secret"`
		Name   string   `yaml:"name"`
		Jobs   []jobOut `yaml:"jobs"`
	}
	jobOut struct {
		ID           string       `yaml:"id"`
		Name         string       `yaml:"name"`
		AssessmentID int          `yaml:"assessment_id"`
		Profile      []profileOut `yaml:"competency_profile"`
	}
	profileOut struct {
		Trait    string `yaml:"trait"`
		Priority string `yaml:"priority"`
		Range    []int  `yaml:"range,flow"`
	}
	traitOut struct {
		Code    string              `yaml:"code"`
		Name    map[string]string   `yaml:"name,flow"`
		Buckets map[string][]string `yaml:"buckets"`
	}
)

// fixtures builds the recorded clients and traits, loadable by fixtures.Load.
func (rc *recording) fixtures() ([]fixtures.Client, []fixtures.Trait, error) {
	catalogue, err := fixtures.Load(assets.Fixtures())
	if err != nil {
		return nil, nil, err
	}
	var traits []fixtures.Trait
	known := make(map[string]bool)
	for _, code := range rc.torder {
		traits = append(traits, rc.traits[code].trait(code, catalogue))
		known[code] = true
	}
	// A job whose results were never seen gets the traits others showed, or the catalogue's first.
	var fallback []fixtures.ProfileEntry
	for _, id := range rc.order {
		for _, jid := range rc.clients[id].order {
			if j := rc.clients[id].jobs[jid]; len(j.porder) > 0 && fallback == nil {
				for _, code := range j.porder {
					fallback = append(fallback, j.profile[code])
				}
			}
		}
	}
	if fallback == nil {
		first := catalogue.Traits[0]
		fallback = []fixtures.ProfileEntry{{Trait: first.Code, Priority: "medium", Range: []int{1, 2, 3, 4, 5}}}
		if !known[first.Code] {
			traits = append(traits, first)
		}
	}
	var clients []fixtures.Client
	next := 90000 // assessment ids for jobs no one-time link showed
	for _, id := range rc.order {
		rcl := rc.clients[id]
		cl := fixtures.Client{ID: id, Secret: PlaceholderSecret, Name: id}
		for _, jid := range rcl.order {
			j := rcl.jobs[jid]
			job := fixtures.Job{ID: jid, Name: j.name, AssessmentID: j.assessmentID}
			if job.Name == "" {
				job.Name = "Job " + jid[:8]
			}
			if job.AssessmentID == 0 {
				next++
				job.AssessmentID = next
			}
			for _, code := range j.porder {
				job.Profile = append(job.Profile, j.profile[code])
			}
			if len(job.Profile) == 0 {
				job.Profile = slices.Clone(fallback)
			}
			cl.Jobs = append(cl.Jobs, job)
		}
		clients = append(clients, cl)
	}
	if len(clients) == 0 {
		return nil, nil, errors.New("proxy: nothing to record: no client asked for a token through the proxy")
	}
	return clients, traits, nil
}

// trait is a recorded trait, completed from the catalogue (or placeholders) where unseen.
func (t *recordedTrait) trait(code string, catalogue *fixtures.Set) fixtures.Trait {
	known, inCatalogue := catalogue.Trait(code)
	out := fixtures.Trait{Code: code, Name: make(map[string]string), Buckets: make(map[string][]string)}
	for _, loc := range fixtures.Locales {
		out.Name[loc] = t.names[loc]
		if out.Name[loc] == "" && inCatalogue {
			out.Name[loc] = known.Name[loc]
		}
		if out.Name[loc] == "" {
			out.Name[loc] = firstNonEmpty(t.names[fixtures.Locales[0]], strings.ReplaceAll(code, "_", " "))
		}
		buckets := make([]string, 5)
		for i := range buckets {
			switch {
			case t.buckets[loc][i+1] != "":
				buckets[i] = t.buckets[loc][i+1]
			case inCatalogue && len(known.Buckets[loc]) == 5:
				buckets[i] = known.Buckets[loc][i]
			default:
				buckets[i] = fmt.Sprintf("Level %d", i+1)
			}
		}
		out.Buckets[loc] = buckets
	}
	return out
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
