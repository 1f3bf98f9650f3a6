// Package webui is the look shared by the mock's HTML — the pages behind the links it hands out
// and the operator console: one small embedded stylesheet, the page layout and a few template
// functions. Pages are server-rendered with html/template, so every value is escaped for where it
// lands; they work without JavaScript.
package webui

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"
)

//go:embed style.css
var stylesheet string

// layout is every page's frame; a page's template set defines "content" (and "bar", the header's
// right-hand side, when it has one). The data is the page's, with Lang and Title.
const layout = `{{define "layout"}}<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}} · equalture-mock</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>{{stylesheet}}</style>
</head>
<body>
<header class="bar"><span class="brand">Equalture</span> <span class="tag">mock</span><div class="end">{{block "bar" .}}{{end}}</div></header>
{{template "content" .}}
</body>
</html>
{{end}}`

// Funcs are the functions every page template may call.
var Funcs = template.FuncMap{
	"stylesheet": func() template.CSS { return template.CSS(stylesheet) },
	// when writes a time on the mock's clock the way every page shows it.
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"inc": func(i int) int { return i + 1 },
	// minute writes a time to the minute: a running clock's time in a page whose content must
	// not change every second (the console's live refresh compares pages by their ETag).
	"minute": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
}

// Parse returns a template set holding the layout and the page templates in src; execute it
// with "layout".
func Parse(name string, src ...string) *template.Template {
	t := template.Must(template.New(name).Funcs(Funcs).Parse(layout))
	for _, s := range src {
		t = template.Must(t.Parse(s))
	}
	return t
}

// ParseFS is Parse with the page templates read from the files of fsys's templates folder (an
// embedded folder: a file missing is a build mistake, and panics).
func ParseFS(fsys fs.FS, name string, files ...string) *template.Template {
	src := make([]string, len(files))
	for i, f := range files {
		b, err := fs.ReadFile(fsys, "templates/"+f)
		if err != nil {
			panic(err)
		}
		src[i] = string(b)
	}
	return Parse(name, src...)
}

// Render answers status with t's layout executed with data, buffered, so a template error is a
// clean 500 (logged), not half a page. Call Headers first (the data holds its nonce).
func Render(w http.ResponseWriter, log *slog.Logger, t *template.Template, status int, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		log.Error("render page", "page", t.Name(), "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// Headers sets what every HTML answer carries — its type, no caching (pages show live state), no
// framing by other sites, and a Content-Security-Policy that lets only the page's own inline
// scripts run: those carrying the nonce it returns (`<script nonce="{{.Nonce}}">`). Escaping keeps
// user-supplied values out of the markup; the policy is the second line behind it.
func Headers(w http.ResponseWriter) (nonce string) {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	// URL encoding: a "+" would be escaped by html/template in the nonce attribute.
	nonce = base64.RawURLEncoding.EncodeToString(b)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'unsafe-inline'; "+
		"img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	return nonce
}
