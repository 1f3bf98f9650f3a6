package journal

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/dispatch"
	"github.com/equalture/equalture-mock/internal/glob"
)

func TestRingKeepsNewest(t *testing.T) {
	j := New(3, 0)
	for i := 1; i <= 5; i++ {
		j.Record(Entry{Path: "/p", Status: 200 + i})
	}
	got := j.Find(Filter{}, 0, 0).Entries
	if len(got) != 3 || got[0].Status != 203 || got[2].Status != 205 || got[2].ID != 5 {
		t.Fatalf("entries = %+v, want the newest three in order", got)
	}
	j.Reset()
	if j.Len() != 0 {
		t.Fatal("reset left entries")
	}
}

func TestFilter(t *testing.T) {
	j := New(0, 0)
	j.Record(Entry{Method: "POST", Path: "/connect_ats/applications/1/hire_applicant", ClientID: "a", Status: 200,
		RequestBody: Body(`{"add_to_team":true,"start_date":"2025-07-01","n":{"x":[1,2]}}`)})
	j.Record(Entry{Method: "GET", Path: "/connect_ats/jobs", ClientID: "b", Status: 401, RequestBody: Body(`"not json object"`),
		Violations: []dispatch.Violation{{Kind: dispatch.KindResponse, Message: "no WWW-Authenticate"}}})
	yes, no := true, false
	tests := map[string]struct {
		f    Filter
		want int
	}{
		"all":                {Filter{}, 2},
		"method any case":    {Filter{Method: "post"}, 1},
		"path glob":          {Filter{Path: glob.Compile("/connect_ats/applications/*/hire_applicant")}, 1},
		"client":             {Filter{ClientID: "b"}, 1},
		"status":             {Filter{Status: 401}, 1},
		"body string":        {Filter{Body: map[string]string{"start_date": "2025-07-01"}}, 1},
		"body bool":          {Filter{Body: map[string]string{"add_to_team": "true"}}, 1},
		"body array index":   {Filter{Body: map[string]string{"n.x.1": "2"}}, 1},
		"body bracket index": {Filter{Body: map[string]string{"n.x[1]": "2"}}, 1},
		"body mismatch":      {Filter{Body: map[string]string{"start_date": "2025-07-02"}}, 0},
		"body missing":       {Filter{Body: map[string]string{"nope": ""}}, 0},
		"with violations":    {Filter{Violations: &yes}, 1},
		"without violations": {Filter{Violations: &no}, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := len(j.Find(tc.f, 0, 0).Entries); got != tc.want {
				t.Fatalf("found %d, want %d", got, tc.want)
			}
		})
	}
}

func TestBoundedInBytes(t *testing.T) {
	j := New(1000, 10*(MaxBodyBytes+entryOverhead+100))
	big := Body(strings.Repeat("x", 1<<20)) // 1 MiB: kept as its first 64 KiB
	for i := range 50 {
		e := j.Record(Entry{Method: "POST", Path: "/p", Status: 413, RequestBody: big, RequestBodySize: 5 << 20, RequestBodyTruncated: true})
		if len(e.RequestBody) != MaxBodyBytes || !e.RequestBodyTruncated || e.RequestBodySize != 5<<20 || cap(e.RequestBody) > MaxBodyBytes {
			t.Fatalf("entry %d kept %d bytes (cap %d), truncated %v, size %d", i, len(e.RequestBody), cap(e.RequestBody), e.RequestBodyTruncated, e.RequestBodySize)
		}
	}
	if n, b := j.Len(), j.Bytes(); n != 10 || b > 10*(MaxBodyBytes+entryOverhead+100) {
		t.Fatalf("kept %d entries, %d bytes: the byte bound allows 10", n, b)
	}
	small := j.Record(Entry{Method: "GET", Path: "/q", Status: 200, ResponseBody: Body(`{"ok":true}`)})
	if small.ResponseBodyTruncated || small.ResponseBodySize != 0 {
		t.Fatalf("a whole body was marked: %+v", small)
	}
	out, err := json.Marshal(j.Find(Filter{}, 0, 1).Entries[0])
	if err != nil || !strings.Contains(string(out), `"request_body_truncated":true`) || !strings.Contains(string(out), `"request_body_size":5242880`) {
		t.Fatalf("a truncated entry encodes as %.200s (%v)", out, err)
	}
}

func TestPages(t *testing.T) {
	j := New(0, 0)
	for i := range 25 {
		j.Record(Entry{Method: "GET", Path: "/p", Status: 200 + i%2})
	}
	var got []int64
	after := int64(0)
	for pages := 0; ; pages++ {
		p := j.Find(Filter{Status: 200}, after, 5)
		for _, e := range p.Entries {
			got = append(got, e.ID)
		}
		if p.Next == 0 {
			if pages != 2 {
				t.Fatalf("%d pages, want 3 (13 matches in pages of 5)", pages+1)
			}
			break
		}
		after = p.Next
	}
	if len(got) != 13 || got[0] != 1 || got[12] != 25 {
		t.Fatalf("paged through %v", got)
	}
	if p := j.Find(Filter{}, 0, MaxPage+50); len(p.Entries) != 25 {
		t.Fatalf("a page over MaxPage: %d", len(p.Entries))
	}
}

func TestErase(t *testing.T) {
	j := New(0, 0)
	ref := "8a3e2c8e-5b0f-4c55-9a1d-2f4b6c8d0e11"
	j.Record(Entry{Method: "POST", Path: "/connect_ats/applications", RequestBody: Body(`{"applicant_details":{"email":"ada@example.com"}}`), ResponseBody: Body(`{"reference_id":"` + ref + `"}`)})
	j.Record(Entry{Method: "GET", Path: "/connect_ats/applications/" + ref + "/results", ResponseBody: Body(`{"fit":"high"}`)})
	j.Record(Entry{Method: "GET", Path: "/connect_ats/jobs", ResponseBody: Body(`[]`)})
	before := j.Bytes()
	j.Erase(Subject{ReferenceID: ref}, "anonymized")
	es := j.Find(Filter{}, 0, 0).Entries
	for i, e := range es[:2] {
		if e.RequestBody != nil || e.ResponseBody != nil || e.Erased != "anonymized" {
			t.Fatalf("entry %d about the application kept %s / %s", i, e.RequestBody, e.ResponseBody)
		}
	}
	if es[2].Erased != "" || string(es[2].ResponseBody) != "[]" {
		t.Fatalf("an unrelated entry was erased: %+v", es[2])
	}
	if j.Bytes() >= before {
		t.Fatalf("erasing freed nothing: %d → %d bytes", before, j.Bytes())
	}
}

// An erasure matches the applicant's email in any case, or both names as JSON strings, in the
// entries of the application's client; a name alone, a name inside another word or another
// client's entry is not the applicant's.
func TestEraseMatchesTheApplicant(t *testing.T) {
	ada := Subject{ReferenceID: "8a3e2c8e-5b0f-4c55-9a1d-2f4b6c8d0e11", ClientID: "demo", Email: "Ada+1@Example.com", FirstName: "Ada", LastName: "Lovelace"}
	tests := map[string]struct {
		e    Entry
		want bool
	}{
		"the email":                 {Entry{ClientID: "demo", RequestBody: Body(`{"email":"ada+1@example.COM"}`)}, true},
		"the email in the query":    {Entry{ClientID: "demo", Query: "to=ADA%2B1%40example.com"}, true},
		"the email, query decoded":  {Entry{ClientID: "demo", Query: "to=Ada+1@Example.com"}, true},
		"both names":                {Entry{ClientID: "demo", RequestBody: Body(`{"last_name":"Lovelace","first_name":"Ada"}`)}, true},
		"both names, cut body":      {Entry{ClientID: "demo", RequestBody: Body(`{"first_name":"Ada","last_name":"Lovelace","em`)}, true},
		"one name":                  {Entry{ClientID: "demo", RequestBody: Body(`{"first_name":"Ada","last_name":"Hopper"}`)}, false},
		"names inside other words":  {Entry{ClientID: "demo", RequestBody: Body(`{"first_name":"Adam","last_name":"Lovelaces"}`)}, false},
		"another client's":          {Entry{ClientID: "other", RequestBody: Body(`{"email":"ada+1@example.com"}`)}, false},
		"another client's, the ref": {Entry{ClientID: "other", Path: "/x/8a3e2c8e-5b0f-4c55-9a1d-2f4b6c8d0e11"}, true},
		"someone else":              {Entry{ClientID: "demo", RequestBody: Body(`{"email":"grace@example.com"}`)}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			j := New(0, 0)
			j.Record(tc.e)
			j.Erase(ada, "anonymized")
			if got := j.Latest(1)[0].Erased == "anonymized"; got != tc.want {
				t.Fatalf("erased = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLatest(t *testing.T) {
	j := New(3, 0)
	if got := j.Latest(5); len(got) != 0 {
		t.Fatalf("an empty journal's latest: %+v", got)
	}
	for i := 1; i <= 5; i++ {
		j.Record(Entry{Status: 200 + i})
	}
	for n, want := range map[int][]int{0: {}, 2: {205, 204}, 3: {205, 204, 203}, 10: {205, 204, 203}} {
		got := j.Latest(n)
		statuses := []int{}
		for _, e := range got {
			statuses = append(statuses, e.Status)
		}
		if len(statuses) != len(want) || len(want) > 0 && (statuses[0] != want[0] || statuses[len(want)-1] != want[len(want)-1]) {
			t.Errorf("Latest(%d) = %v, want %v", n, statuses, want)
		}
	}
}

// A body is cut before it is redacted (a hostile megabyte costs no more than what is kept), and a
// secret the cut runs through is still redacted.
func TestRecordRedactsWhatItKeeps(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA="
	pad := strings.Repeat("x", MaxBodyBytes-len(`{"pad":"","secret":"`)-20)
	body := `{"pad":"` + pad + `","secret":"` + secret + `"}`
	e := New(0, 0).Record(Entry{RequestBody: Body(body), ResponseBody: Body(`{"access_token":"SFMyNTY.eyJkYXRhIjp7fX0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"}`)})
	if !e.RequestBodyTruncated || e.RequestBodySize != int64(len(body)) {
		t.Fatalf("truncated %v, size %d", e.RequestBodyTruncated, e.RequestBodySize)
	}
	if strings.Contains(string(e.RequestBody), secret[:20]) || !strings.HasSuffix(string(e.RequestBody), `"secret":"whsec_…"`) {
		t.Fatalf("the kept body ends %q", e.RequestBody[len(e.RequestBody)-40:])
	}
	if got := string(e.ResponseBody); got != `{"access_token":"SFMyNTY.eyJk…"}` {
		t.Fatalf("the token answer kept as %s", got)
	}
}
