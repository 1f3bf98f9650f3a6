package mockserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/spec"
)

// maxJournalBody bounds how much of a response the journal keeps.
const maxJournalBody = 64 << 10

// recorder notes the status and (when capturing) the start of the body of a response.
type recorder struct {
	http.ResponseWriter
	capture bool
	status  int
	body    bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.capture && r.body.Len() < maxJournalBody {
		r.body.Write(b[:min(len(b), maxJournalBody-r.body.Len())])
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (fault rules hijack it).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// rawJSON keeps b as JSON when it is JSON, as a JSON string otherwise, and nothing when empty.
func rawJSON(b []byte) json.RawMessage {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return nil
	case json.Valid(b):
		return append(json.RawMessage(nil), b...)
	default:
		s, _ := json.Marshal(string(b))
		return s
	}
}

// identify names the client a request claims to be, without checking it: the Basic username or
// the client in the Bearer token's payload. Fault rules and the journal use it; authentication
// proper happens in validation.
func (s *Server) identify(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		return id
	}
	_, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok {
		return ""
	}
	parts := strings.Split(strings.TrimSpace(tok), ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var p struct {
		Data tokenData `json:"data"`
	}
	if json.Unmarshal(raw, &p) != nil {
		return ""
	}
	return p.Data.ClientID
}

// preferred answers a `Prefer: code=NNN` request with the contract's example for that status, the
// way Prism users know it. A status the operation does not document is a 400.
func (s *Server) preferred(w http.ResponseWriter, route spec.Route, pref string) (bool, error) {
	code := 0
	for _, part := range strings.Split(pref, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if strings.EqualFold(k, "code") {
			n, err := strconv.Atoi(strings.Trim(v, `"`))
			if err != nil {
				return false, apierr.New(apierr.BadRequest, "Prefer: code=%q is not a status code", v)
			}
			code = n
		}
	}
	if code == 0 {
		return false, nil
	}
	op := route.Operation.OperationID
	body, ok := s.examples[op][code]
	if !ok {
		documented := make([]int, 0, len(s.examples[op]))
		for c := range s.examples[op] {
			documented = append(documented, c)
		}
		slices.Sort(documented)
		return false, apierr.New(apierr.BadRequest, "Prefer: code=%d is not documented for %s; documented: %v", code, op, documented)
	}
	switch code {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="equalture"`)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Preference-Applied", "code="+strconv.Itoa(code))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(body)
	return true, nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
