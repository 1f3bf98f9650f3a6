package apierr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	tests := map[string]struct {
		err        error
		wantStatus int
		wantBody   string
		wantHeader string
	}{
		"detail":           {New(NotFound, "Not Found"), 404, `{"errors":{"detail":"Not Found"}}`, ""},
		"fields only":      {Field("applicant_details.email", "can't be blank"), 422, `{"errors":{"applicant_details.email":["can't be blank"]}}`, ""},
		"wrapped":          {fmt.Errorf("ctx: %w", New(Conflict, "nope")), 409, `{"errors":{"detail":"nope"}}`, ""},
		"header":           {New(Unauthorized, "x").WithHeader("WWW-Authenticate", "Basic"), 401, `{"errors":{"detail":"x"}}`, "Basic"},
		"plain error":      {errors.New("secret cause"), 500, `{"errors":{"detail":"Internal Server Error"}}`, ""},
		"no detail":        {&Error{Code: Gone}, 410, `{"errors":{"detail":"Gone"}}`, ""},
		"html not escaped": {New(BadRequest, "<x>"), 400, `{"errors":{"detail":"<x>"}}`, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Write(rec, nil, tc.err)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tc.wantStatus)
			}
			var got, want any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			_ = json.Unmarshal([]byte(tc.wantBody), &want)
			if fmt.Sprint(got) != fmt.Sprint(want) || rec.Body.String() != tc.wantBody+"\n" {
				t.Fatalf("body = %s, want %s", rec.Body, tc.wantBody)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.wantHeader {
				t.Fatalf("WWW-Authenticate = %q", got)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Fatalf("Content-Type = %q", ct)
			}
		})
	}
	if Status("bogus") != http.StatusInternalServerError {
		t.Fatal("unknown code is not a 500")
	}
}
