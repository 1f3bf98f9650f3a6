package dispatch

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/spec"
)

// Prefer answers a `Prefer: code=NNN` request with the contract's example for that status of the
// operation, the way Prism users know it; a status the operation does not document is a 400. A
// 401 carries the operation's challenge (challenge(operationId), when given), a 429 or 503 a
// Retry-After.
func Prefer(sp *spec.Spec, challenge func(op string) string) Middleware {
	examples := sp.Examples()
	return func(next Handler) Handler {
		return func(w http.ResponseWriter, c *Call) error {
			pref := c.Request.Header.Get("Prefer")
			if pref == "" || c.Op == "" {
				return next(w, c)
			}
			code, err := preferredCode(pref)
			if err != nil || code == 0 {
				if err != nil {
					return err
				}
				return next(w, c)
			}
			body, ok := examples[c.Op][code]
			if !ok {
				codes := slices.Sorted(maps.Keys(examples[c.Op]))
				documented := make([]string, len(codes))
				for i, code := range codes {
					documented[i] = strconv.Itoa(code)
				}
				return apierr.New(apierr.BadRequest, "Prefer: code=%d is not documented for %s; documented: %s", code, c.Op, strings.Join(documented, ", "))
			}
			switch code {
			case http.StatusUnauthorized:
				if challenge != nil {
					w.Header().Set("WWW-Authenticate", challenge(c.Op))
				}
			case http.StatusTooManyRequests, http.StatusServiceUnavailable:
				w.Header().Set("Retry-After", "1")
			}
			w.Header().Set("Preference-Applied", "code="+strconv.Itoa(code))
			w.Header().Set("Content-Type", apierr.ContentType)
			w.WriteHeader(code)
			_, _ = w.Write(body)
			return nil
		}
	}
}

// preferredCode reads code=NNN from a Prefer header (0 when it names none).
func preferredCode(pref string) (int, error) {
	for _, part := range strings.Split(pref, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if strings.EqualFold(k, "code") {
			n, err := strconv.Atoi(strings.Trim(v, `"`))
			if err != nil {
				return 0, apierr.New(apierr.BadRequest, "Prefer: code=%q is not a status code", v)
			}
			return n, nil
		}
	}
	return 0, nil
}
