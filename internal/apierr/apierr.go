// Package apierr is the mock's error model: an error with a code, a human detail, per-field messages
// and response headers, written in Phoenix's JSON error shape by one writer for every API the mock
// serves (vendor and control). The domain's refusals (domain.StateError) are answered here as
// 409s with their own words (From).
package apierr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/equalture/equalture-mock/internal/domain"
)

// Code classifies an error; each code maps to one HTTP status.
type Code string

// The error codes.
const (
	BadRequest           Code = "bad_request"
	Unauthorized         Code = "unauthorized"
	NotFound             Code = "not_found"
	MethodNotAllowed     Code = "method_not_allowed"
	Conflict             Code = "conflict"
	Gone                 Code = "gone"
	TooLarge             Code = "too_large"
	UnsupportedMediaType Code = "unsupported_media_type"
	Invalid              Code = "invalid"
	TooManyRequests      Code = "too_many_requests"
	Internal             Code = "internal"
	Unavailable          Code = "unavailable"
)

var statuses = map[Code]int{
	BadRequest:           http.StatusBadRequest,
	Unauthorized:         http.StatusUnauthorized,
	NotFound:             http.StatusNotFound,
	MethodNotAllowed:     http.StatusMethodNotAllowed,
	Conflict:             http.StatusConflict,
	Gone:                 http.StatusGone,
	TooLarge:             http.StatusRequestEntityTooLarge,
	UnsupportedMediaType: http.StatusUnsupportedMediaType,
	Invalid:              http.StatusUnprocessableEntity,
	TooManyRequests:      http.StatusTooManyRequests,
	Internal:             http.StatusInternalServerError,
	Unavailable:          http.StatusServiceUnavailable,
}

// Status returns the HTTP status of a code (500 for an unknown one).
func Status(c Code) int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is an API error.
type Error struct {
	Code   Code
	Detail string              // general message; omitted from the body when empty
	Fields map[string][]string // field (dotted path) → messages
	Header http.Header         // extra response headers (WWW-Authenticate, Allow, Retry-After)
	Err    error               // internal cause, logged, never sent
	// Reason names why, among the reasons the contract documents for the status (x-reasons: an
	// expired token; x-lifecycle: the application's state), for coverage; never sent.
	Reason string
}

func (e *Error) Error() string {
	msg := string(e.Code)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if len(e.Fields) > 0 {
		msg += fmt.Sprintf(" %v", e.Fields)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a formatted detail.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Field returns a 422 naming one field.
func Field(field string, messages ...string) *Error {
	return &Error{Code: Invalid, Fields: map[string][]string{field: messages}}
}

// WithHeader sets a response header on e and returns it.
func (e *Error) WithHeader(key, value string) *Error {
	if e.Header == nil {
		e.Header = make(http.Header)
	}
	e.Header.Set(key, value)
	return e
}

// Because sets e's reason (one of the contract's documented reasons) and returns it.
func (e *Error) Because(reason string) *Error {
	e.Reason = reason
	return e
}

// Add appends a message for field, once: a message the field already has is not repeated.
func (e *Error) Add(field, message string) {
	if e.Fields == nil {
		e.Fields = make(map[string][]string)
	}
	if !slices.Contains(e.Fields[field], message) { // two checks failing alike (format and pattern) say it once
		e.Fields[field] = append(e.Fields[field], message)
	}
}

// From returns err as an API error: an *Error as it is, a domain.StateError (an operation the
// application's state refuses) as a Conflict saying so; nil for any other error (internal).
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var se *domain.StateError
	if errors.As(err, &se) { // the reason coverage counts: the state that refused
		return &Error{Code: Conflict, Detail: se.Error(), Err: se, Reason: string(se.Status)}
	}
	return nil
}

// CodeOf returns the code of err, Internal when it is not an API error.
func CodeOf(err error) Code {
	if e := From(err); e != nil {
		return e.Code
	}
	return Internal
}

// Is reports whether err is an *Error with code c.
func Is(err error, c Code) bool { return err != nil && CodeOf(err) == c }

// Body is the JSON body of an error, in one of Phoenix's two shapes, the contracts' `Error` and
// `ValidationError`: a 422 names its fields, {"errors": {"field": ["..."]}} (one without fields
// names the body); every other error is general, {"errors": {"detail": "..."}}, and names its
// fields, if it has any, in the detail ("Bad Request: reference_id is invalid: must be a UUID").
// Generated clients type the two shapes apart, so they never mix.
func Body(err error) map[string]any {
	e := From(err)
	if e == nil {
		e = &Error{Code: Internal, Detail: "Internal Server Error"}
	}
	if e.Code == Invalid {
		fields := e.invalidFields()
		inner := make(map[string]any, len(fields))
		for f, msgs := range fields {
			inner[f] = msgs
		}
		return map[string]any{"errors": inner}
	}
	d := e.Detail
	if d == "" {
		d = http.StatusText(Status(e.Code))
	}
	if len(e.Fields) > 0 {
		var b strings.Builder
		for i, f := range e.FieldNames() {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(f + " " + strings.Join(e.Fields[f], ", "))
		}
		d += ": " + b.String()
	}
	return map[string]any{"errors": map[string]any{"detail": d}}
}

// invalidFields are the fields a 422 names: its Fields, or else the body with its detail.
func (e *Error) invalidFields() map[string][]string {
	if len(e.Fields) > 0 {
		return e.Fields
	}
	msg := e.Detail
	if msg == "" {
		msg = "is invalid"
	}
	return map[string][]string{"body": {msg}}
}

// Join merges errors into one answer. 422s merge into one 422 naming every field, where a field
// the first error names keeps the first error's messages alone (a value the schema refused is not
// judged again). Any other error wins over 422s, the first one first; nils are skipped.
func Join(errs ...error) error {
	var merged *Error
	for _, err := range errs {
		if err == nil {
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != Invalid {
			return err
		}
		if merged == nil {
			merged = &Error{Code: Invalid, Fields: make(map[string][]string, len(e.Fields))}
		}
		for f, msgs := range e.invalidFields() {
			if _, named := merged.Fields[f]; !named {
				merged.Fields[f] = append([]string(nil), msgs...)
			}
		}
	}
	if merged == nil {
		return nil
	}
	return merged
}

// Write answers err as JSON with its status and headers. Internal causes are logged, never sent.
func Write(w http.ResponseWriter, log *slog.Logger, err error) {
	e := From(err)
	if e == nil {
		if log != nil {
			log.Error("internal error", "err", err)
		}
		e = &Error{Code: Internal, Detail: "Internal Server Error"}
	} else if e.Code == Internal && log != nil {
		log.Error("internal error", "err", err)
	}
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	WriteJSON(w, Status(e.Code), Body(e))
}

// WriteJSON answers v as JSON with status. A value that cannot be encoded is a programming error,
// answered as a 500 with the same error shape.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := MarshalJSON(v)
	if err != nil {
		status, b = http.StatusInternalServerError, StatusBody(http.StatusInternalServerError)
	}
	WriteRawJSON(w, status, b)
}

// MarshalJSON encodes v as the APIs answer it: without HTML escaping, newline-terminated.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteRawJSON answers b, already JSON, with status.
func WriteRawJSON(w http.ResponseWriter, status int, b []byte) {
	w.Header()["Content-Type"] = contentTypeJSON // shared, never modified: no allocation per answer
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

var contentTypeJSON = []string{ContentType}

// ContentType is the media type of every JSON answer.
const ContentType = "application/json; charset=utf-8"

// StatusBody is the error body that says no more than the status: {"errors":{"detail":"Not Found"}},
// or for a 422 {"errors":{"body":["is invalid"]}}. Fault rules, Prefer and contract examples
// without one of their own answer it.
func StatusBody(status int) []byte {
	e := &Error{Detail: http.StatusText(status)}
	if status == http.StatusUnprocessableEntity {
		e = &Error{Code: Invalid}
	}
	b, _ := MarshalJSON(Body(e)) // strings and maps always encode
	return b
}

// Realm is the vendor API's authentication realm.
const Realm = "equalture"

// Challenge is the WWW-Authenticate value for an HTTP auth scheme ("Basic" or "Bearer") in realm,
// with extra auth-params (`error="invalid_token"`) appended.
func Challenge(scheme, realm string, params ...string) string {
	v := scheme + " realm=" + strconv.Quote(realm)
	for _, p := range params {
		v += ", " + p
	}
	return v
}

// Summary says in one line what e says: its detail, then each field's messages, by field name
// ("Validation failed; email can't be blank; job_id is unknown").
func (e *Error) Summary() string {
	var parts []string
	if e.Detail != "" {
		parts = append(parts, e.Detail)
	}
	for _, f := range e.FieldNames() {
		parts = append(parts, f+" "+strings.Join(e.Fields[f], ", "))
	}
	return strings.Join(parts, "; ")
}

// FieldNames returns e's field names sorted (for messages and tests).
func (e *Error) FieldNames() []string {
	names := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	return names
}
