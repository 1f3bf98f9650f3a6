package spec

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/equalture/equalture-mock/internal/apierr"
)

// requestError converts kin-openapi's request validation error into one API error, the most
// fundamental problem first: auth, size, media type, malformed JSON, parameters, then fields.
func requestError(err error) error {
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
			return apierr.New(apierr.Unauthorized, "Unauthorized: %v", sec).WithHeader("WWW-Authenticate", `Bearer realm="equalture"`)
		}
	}
	var (
		params = &apierr.Error{Code: apierr.BadRequest, Detail: "Bad Request"}
		fields = &apierr.Error{Code: apierr.Invalid}
	)
	for _, e := range errs {
		var re *openapi3filter.RequestError
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
		case strings.HasPrefix(re.Reason, "header Content-Type has unexpected value"):
			ct := r0(re)
			return apierr.New(apierr.UnsupportedMediaType, "Unsupported Content-Type %q: send application/json", ct)
		case re.Reason == "failed to decode request body":
			return apierr.New(apierr.BadRequest, "Malformed JSON: %s", decodeCause(re.Err))
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

func r0(re *openapi3filter.RequestError) string {
	if re.Input != nil && re.Input.Request != nil {
		return re.Input.Request.Header.Get("Content-Type")
	}
	return ""
}

// decodeCause keeps the JSON decoder's message and drops kin-openapi's wrapping.
func decodeCause(err error) string {
	var pe *openapi3filter.ParseError
	if errors.As(err, &pe) && pe.Cause != nil {
		return pe.Cause.Error()
	}
	if err == nil {
		return "invalid JSON"
	}
	return err.Error()
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

// Describe lists a validation error's problems one per field, without kin-openapi's schema dumps.
func Describe(err error) string {
	var schemaErrs []*openapi3.SchemaError
	collectSchemaErrors(err, &schemaErrs)
	var lines []string
	for _, se := range schemaErrs {
		lines = append(lines, fmt.Sprintf("field %q %s (%s)", FieldPath("", se), Message(se), se.Reason))
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
