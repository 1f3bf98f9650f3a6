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
		"general error naming fields": {&Error{Code: BadRequest, Detail: "Bad Request", Fields: map[string][]string{"reference_id": {"is invalid: must be a UUID"}, "locale": {"has invalid format"}}},
			400, `{"errors":{"detail":"Bad Request: locale has invalid format; reference_id is invalid: must be a UUID"}}`, ""},
		"422 without fields":   {&Error{Code: Invalid, Detail: "must be an object"}, 422, `{"errors":{"body":["must be an object"]}}`, ""},
		"422 without anything": {&Error{Code: Invalid}, 422, `{"errors":{"body":["is invalid"]}}`, ""},
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

func TestStatusBodyShapes(t *testing.T) {
	for status, want := range map[int]string{
		404: `{"errors":{"detail":"Not Found"}}`,
		422: `{"errors":{"body":["is invalid"]}}`,
		503: `{"errors":{"detail":"Service Unavailable"}}`,
	} {
		if got := string(StatusBody(status)); got != want+"\n" {
			t.Errorf("StatusBody(%d) = %s, want %s", status, got, want)
		}
	}
}

func TestJoin(t *testing.T) {
	schema := &Error{Code: Invalid, Fields: map[string][]string{"applicant_details.email": {"can't be blank"}, "job_id": {"is invalid: must be a UUID"}}}
	tests := map[string]struct {
		errs []error
		want string // the body; "" for nil
	}{
		"nothing":            {[]error{nil, nil}, ""},
		"one 422":            {[]error{nil, Field("job_id", "does not exist")}, `{"errors":{"job_id":["does not exist"]}}`},
		"two 422s":           {[]error{Field("applicant_details.email", "can't be blank"), Field("job_id", "does not exist")}, `{"errors":{"applicant_details.email":["can't be blank"],"job_id":["does not exist"]}}`},
		"first wins a field": {[]error{schema, Field("job_id", "does not exist")}, `{"errors":{"applicant_details.email":["can't be blank"],"job_id":["is invalid: must be a UUID"]}}`},
		"422 without fields": {[]error{&Error{Code: Invalid, Detail: "must be an object"}, Field("job_id", "does not exist")}, `{"errors":{"body":["must be an object"],"job_id":["does not exist"]}}`},
		"another error wins": {[]error{Field("job_id", "does not exist"), New(NotFound, "No client")}, `{"errors":{"detail":"No client"}}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := Join(tc.errs...)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Join = %v, want nil", err)
				}
				return
			}
			rec := httptest.NewRecorder()
			Write(rec, nil, err)
			if got := rec.Body.String(); got != tc.want+"\n" {
				t.Fatalf("Join answers %s, want %s", got, tc.want)
			}
		})
	}
	if len(schema.Fields["job_id"]) != 1 {
		t.Fatal("Join changed an error it was given")
	}
}

func TestAddSaysAMessageOnce(t *testing.T) {
	e := &Error{Code: Invalid}
	e.Add("callback_url", "is invalid: must be an absolute http(s) URL")
	e.Add("callback_url", "is invalid: must be an absolute http(s) URL") // format and pattern, alike
	e.Add("callback_url", "should be at most 2048 character(s)")
	if got := e.Fields["callback_url"]; len(got) != 2 {
		t.Fatalf("callback_url = %q, want each message once", got)
	}
}
