package coverage

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/equalture/equalture-mock/internal/junit"
)

// The report's forms: a table for people, JUnit for CI (one test case per item, those not met
// skipped with how to provoke them), a self-contained HTML page for a CI artifact, and Markdown
// for the documentation.

// row is one item of a report, in order: an operation's status, then its reasons; then each
// callback's outcomes.
type row struct {
	group, item string // "listJobs (GET /connect_ats/jobs)", "401 expired"
	count       int64
	how         string // when not met
}

func (r Report) rows() []row {
	how := make(map[string]string, len(r.Missing))
	for _, m := range r.Missing {
		how[m.OperationID+m.Callback+" "+m.Status+m.Outcome+" "+m.Reason] = m.How
	}
	var out []row
	for _, op := range r.Operations {
		group := fmt.Sprintf("%s (%s %s)", op.OperationID, op.Method, op.Path)
		for _, s := range op.Statuses {
			out = append(out, row{group, s.Status, s.Count, how[op.OperationID+" "+s.Status+" "]})
			for _, rs := range s.Reasons {
				out = append(out, row{group, s.Status + " " + rs.Reason, rs.Count, how[op.OperationID+" "+s.Status+" "+rs.Reason]})
			}
		}
	}
	for _, cb := range r.Callbacks {
		group := cb.Callback + " (callback)"
		for _, o := range cb.Outcomes {
			out = append(out, row{group, o.Outcome, o.Count, how[cb.Callback+" "+o.Outcome+" "]})
		}
	}
	return out
}

// Summary is the report in one line.
func (r Report) Summary() string {
	return fmt.Sprintf("coverage: %d of %d documented statuses, reasons and callback outcomes met (%.1f%%); %d not met",
		r.Covered, r.Documented, r.Percent, len(r.Missing))
}

// WriteTable writes the report as a table: each item, how often it was met, and how to provoke
// what was not.
func (r Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	last := ""
	for _, x := range r.rows() {
		if x.group != last {
			fmt.Fprintf(tw, "%s\n", x.group)
			last = x.group
		}
		mark, note := "✓", strconv.FormatInt(x.count, 10)
		if x.count == 0 {
			mark, note = "✗", "— "+x.how
		}
		fmt.Fprintf(tw, "  %s %s\t%s\n", mark, x.item, note)
	}
	for _, u := range r.Undocumented {
		fmt.Fprintf(tw, "undocumented: %s answered %s\t%d\n", u.OperationID, u.Status, u.Count)
	}
	fmt.Fprintln(tw, r.Summary())
	return tw.Flush()
}

// WriteJUnit writes the report as JUnit XML: a test case per item, skipped (with how to provoke
// it) when nothing met it.
func (r Report) WriteJUnit(w io.Writer, at time.Time) error {
	s := junit.Suite{Name: "equalture-mock coverage", Timestamp: at}
	for _, x := range r.rows() {
		c := junit.Case{Name: x.item, Classname: x.group, SystemOut: fmt.Sprintf("met %d time(s)", x.count)}
		if x.count == 0 {
			c.Skipped, c.SystemOut = "not met: "+x.how, ""
		}
		s.Cases = append(s.Cases, c)
	}
	return junit.Write(w, r.Summary(), s)
}

var page = template.Must(template.New("coverage").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>equalture-mock coverage</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#1d1d1f}
table{border-collapse:collapse;margin-bottom:1.5rem}
th,td{text-align:left;padding:.25rem .75rem;border-bottom:1px solid #ddd;vertical-align:top}
.met{color:#1a7f37}.missing{color:#b42318}
</style>
</head>
<body>
<h1>equalture-mock coverage</h1>
<p>{{.Summary}}</p>
<table>
<thead><tr><th>Operation or callback</th><th>Status, reason or outcome</th><th>Met</th><th>How to provoke it</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td>{{.Group}}</td><td>{{.Item}}</td>{{if .Count}}<td class="met">{{.Count}}</td><td></td>{{else}}<td class="missing">0</td><td>{{.How}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{if .Undocumented}}<h2>Statuses the contract does not document</h2>
<ul>{{range .Undocumented}}<li>{{.OperationID}} answered {{.Status}} ({{.Count}} time(s))</li>{{end}}</ul>
{{end}}</body>
</html>
`))

// htmlRow is a row for the page.
type htmlRow struct {
	Group, Item, How string
	Count            int64
}

// WriteHTML writes the report as a self-contained HTML page (a CI artifact).
func (r Report) WriteHTML(w io.Writer) error {
	var rows []htmlRow
	for _, x := range r.rows() {
		rows = append(rows, htmlRow{x.group, x.item, x.how, x.count})
	}
	return page.Execute(w, map[string]any{"Summary": r.Summary(), "Rows": rows, "Undocumented": r.Undocumented})
}

// WriteMarkdown writes the report as Markdown (the documentation's coverage of the scenario
// library): per operation and callback, what was met and what was not (no counts: the page is
// checked against a fresh run).
func (r Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s.\n\n", strings.ToUpper(r.Summary()[:1])+r.Summary()[1:])
	b.WriteString("| Operation or callback | Met | Not met |\n|---|---|---|\n")
	type line struct{ met, missing []string }
	var groups []string
	lines := make(map[string]*line)
	for _, x := range r.rows() {
		l := lines[x.group]
		if l == nil {
			l = &line{}
			lines[x.group] = l
			groups = append(groups, x.group)
		}
		if x.count > 0 {
			l.met = append(l.met, x.item)
		} else {
			l.missing = append(l.missing, x.item)
		}
	}
	for _, g := range groups {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", g, strings.Join(lines[g].met, ", "), strings.Join(lines[g].missing, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
