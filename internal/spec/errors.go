package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/equalture/equalture-mock/internal/apierr"
	"github.com/equalture/equalture-mock/internal/redact"
)

// requestError converts kin-openapi's error validating r into one API error, the most
// fundamental problem first: auth, size, media type, malformed JSON, parameters, then fields.
// Every decision rests on kin-openapi's error types and on r, never on an error's text.
func requestError(err error, r *http.Request) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return apierr.New(apierr.TooLarge, "Request body too large (limit %d bytes)", tooLarge.Limit)
	}
	var errs []error
	flatten(err, &errs)
	for _, e := range errs {
		var sec *openapi3filter.SecurityRequirementsError
		if errors.As(e, &sec) {
			for _, inner := range sec.Errors {
				var ae *apierr.Error
				if errors.As(inner, &ae) {
					return ae
				}
			}
			return apierr.New(apierr.Unauthorized, "Unauthorized: %v", sec).WithHeader("WWW-Authenticate", apierr.Challenge("Bearer", apierr.Realm))
		}
	}
	var (
		params = &apierr.Error{Code: apierr.BadRequest, Detail: "Bad Request"}
		fields = &apierr.Error{Code: apierr.Invalid}
	)
	for _, e := range errs {
		var (
			re       *openapi3filter.RequestError
			parseErr *openapi3filter.ParseError
		)
		if !errors.As(e, &re) {
			return &apierr.Error{Code: apierr.BadRequest, Detail: "Bad Request: " + e.Error()}
		}
		switch {
		case re.Parameter != nil:
			addSchemaErrors(params, re.Parameter.Name, re.Err, re.Reason)
		case re.RequestBody == nil:
			return apierr.New(apierr.BadRequest, "Bad Request: %s", re.Error())
		case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
			return apierr.New(apierr.BadRequest, "Missing request body: send a JSON object")
		case !declares(re.RequestBody, r.Header.Get("Content-Type")):
			return apierr.New(apierr.UnsupportedMediaType, "Unsupported Content-Type %q: send application/json", r.Header.Get("Content-Type"))
		case errors.As(re.Err, &parseErr):
			return apierr.New(apierr.BadRequest, "Malformed JSON: %s", decodeCause(parseErr))
		default:
			addSchemaErrors(fields, "", re.Err, re.Reason)
		}
	}
	if len(params.Fields) > 0 {
		return params
	}
	if len(fields.Fields) > 0 {
		return fields
	}
	return apierr.New(apierr.BadRequest, "Bad Request")
}

// declares reports whether body accepts the media type of the Content-Type header ct, as
// kin-openapi looks it up (parameters ignored, wildcards honoured). A header that is no media
// type at all is not accepted.
func declares(body *openapi3.RequestBody, ct string) bool {
	if len(body.Content) == 0 {
		return true // kin-openapi does not check an undeclared body
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return false
	}
	return body.Content.Get(mediaType) != nil
}

// decodeCause keeps the JSON decoder's message and drops kin-openapi's wrapping.
func decodeCause(pe *openapi3filter.ParseError) string {
	if pe.Cause != nil {
		return pe.Cause.Error()
	}
	return pe.Error()
}

func flatten(err error, out *[]error) {
	var me openapi3.MultiError
	if errors.As(err, &me) && len(me) > 0 {
		if _, isReq := err.(*openapi3filter.RequestError); !isReq {
			for _, e := range me {
				flatten(e, out)
			}
			return
		}
	}
	*out = append(*out, err)
}

// addSchemaErrors adds each schema error under err to e, keyed by prefix plus its dotted path.
func addSchemaErrors(e *apierr.Error, prefix string, err error, reason string) {
	var schemaErrs []*openapi3.SchemaError
	collectSchemaErrors(err, &schemaErrs)
	if len(schemaErrs) == 0 {
		field := prefix
		if field == "" {
			field = "body"
		}
		msg := reason
		var pe *openapi3filter.ParseError
		if errors.As(err, &pe) {
			msg = "is invalid: " + pe.Reason
		} else if msg == "" && err != nil {
			msg = "is invalid: " + err.Error()
		}
		e.Add(field, msg)
		return
	}
	for _, se := range schemaErrs {
		e.Add(FieldPath(prefix, se), Message(se))
	}
}

func collectSchemaErrors(err error, out *[]*openapi3.SchemaError) {
	if err == nil {
		return
	}
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			collectSchemaErrors(e, out)
		}
		return
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		*out = append(*out, se)
	}
}

// FieldPath is se's location as a dotted path under prefix ("applicant_details.email"); the
// whole value is "body" (or prefix).
func FieldPath(prefix string, se *openapi3.SchemaError) string {
	parts := se.JSONPointer()
	if prefix != "" {
		parts = append([]string{prefix}, parts...)
	}
	if len(parts) == 0 {
		return "body"
	}
	return strings.Join(parts, ".")
}

// Message is a short, Phoenix-style message for se that never echoes the value.
func Message(se *openapi3.SchemaError) string {
	sc := se.Schema
	if sc != nil {
		if m, ok := sc.Extensions["x-error-message"].(string); ok && m != "" && se.SchemaField != "required" {
			return "is invalid: " + m
		}
	}
	switch se.SchemaField {
	case "required":
		return "can't be blank"
	case "minLength":
		if s, ok := se.Value.(string); ok && s == "" {
			return "can't be blank"
		}
		return fmt.Sprintf("should be at least %d character(s)", sc.MinLength)
	case "maxLength":
		return fmt.Sprintf("should be at most %d character(s)", *sc.MaxLength)
	case "type":
		return fmt.Sprintf("is invalid: must be %s", typeName(sc))
	case "enum":
		vals := make([]string, 0, len(sc.Enum))
		for _, v := range sc.Enum {
			vals = append(vals, fmt.Sprint(v))
		}
		return "is invalid: must be one of " + strings.Join(vals, ", ")
	case "format":
		var fe *formatError
		if errors.As(se.Origin, &fe) {
			return "is invalid: " + fe.msg
		}
		return fmt.Sprintf("is invalid: must be a valid %s", sc.Format)
	case "pattern":
		return "has invalid format"
	case "minimum", "maximum", "minItems", "maxItems", "minProperties", "maxProperties":
		return "is invalid: " + se.Reason
	default:
		if se.Reason != "" {
			return "is invalid: " + se.Reason
		}
		return "is invalid"
	}
}

// formatError is the verdict of one of our format validators; msg is what the user reads.
// kin-openapi wraps it (%w) in the SchemaError's Origin.
type formatError struct{ msg string }

func (e *formatError) Error() string { return e.msg }

func typeName(sc *openapi3.Schema) string {
	if sc == nil || sc.Type == nil || len(*sc.Type) == 0 {
		return "a valid value"
	}
	names := make([]string, 0, len(*sc.Type))
	for _, t := range sc.Type.Slice() {
		switch t {
		case "object", "array", "integer":
			names = append(names, "an "+t)
		default:
			names = append(names, "a "+t)
		}
	}
	return strings.Join(names, " or ")
}

// shown renders a value for a message: as JSON, cut to a readable length.
func shown(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if r := []rune(string(b)); len(r) > 80 {
		return string(r[:77]) + "…"
	}
	return string(b)
}

// Describe lists a validation error's problems one per field, each with the offending value, without
// kin-openapi's schema dumps. (Messages for API error bodies use Message, which never echoes a value.)
func Describe(err error) string {
	var schemaErrs []*openapi3.SchemaError
	collectSchemaErrors(err, &schemaErrs)
	var lines []string
	for _, se := range schemaErrs {
		lines = append(lines, describeSchemaError(se).text)
	}
	var plain []error
	flatten(err, &plain)
	for _, e := range plain {
		var re *openapi3filter.ResponseError
		if errors.As(e, &re) && re.Err == nil {
			lines = append(lines, re.Reason)
			continue
		}
		var se *openapi3.SchemaError
		if !errors.As(e, &se) && len(schemaErrs) == 0 {
			lines = append(lines, e.Error())
		}
	}
	lines = slices.Compact(lines)
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}

// schemaProblem is one schema error as a problem reads it: the field, the line saying what is
// wrong with the offending value ("got …"; a secret's hint only), and that value as shown.
type schemaProblem struct {
	field, text, observed string
}

func describeSchemaError(se *openapi3.SchemaError) schemaProblem {
	// The offending value, except where it is the parent object of a missing property.
	field := FieldPath("", se)
	observed := shown(se.Value)
	if v, ok := se.Value.(string); ok && redact.IsSecretField(field) {
		observed = shown(redact.Hint(v)) // a secret: its hint only
	}
	detail := "got " + observed
	if se.SchemaField == "required" {
		detail = se.Reason
	}
	return schemaProblem{field: field, text: fmt.Sprintf("field %q %s (%s)", field, Message(se), detail), observed: observed}
}
