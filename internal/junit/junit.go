// Package junit writes JUnit XML reports, the format CI systems read test results from: the
// scenario runner and the validating proxy both write theirs with it.
package junit

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"
)

// Suite is one test suite of a report.
type Suite struct {
	Name      string
	Timestamp time.Time
	Cases     []Case
}

// Case is one test case; it failed when Failure is set.
type Case struct {
	Name      string
	Classname string
	File      string
	Time      time.Duration
	Failure   *Failure
	// Skipped, when set, says why the case was not run (coverage: an item nothing met).
	Skipped string
	// SystemOut is what the case printed (the scenario's progress lines, the exchanges seen).
	SystemOut string
}

// Failure says why a case failed: Message in one line, Text in full.
type Failure struct {
	Message string
	Type    string
	Text    string
}

type xmlSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Name     string     `xml:"name,attr"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Errors   int        `xml:"errors,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlSuite struct {
	Name      string    `xml:"name,attr"`
	Tests     int       `xml:"tests,attr"`
	Failures  int       `xml:"failures,attr"`
	Errors    int       `xml:"errors,attr"`
	Skipped   int       `xml:"skipped,attr"`
	Time      string    `xml:"time,attr"`
	Timestamp string    `xml:"timestamp,attr"`
	Cases     []xmlCase `xml:"testcase"`
}

type xmlCase struct {
	Name      string      `xml:"name,attr"`
	Classname string      `xml:"classname,attr"`
	File      string      `xml:"file,attr,omitempty"`
	Time      string      `xml:"time,attr"`
	Failure   *xmlFailure `xml:"failure,omitempty"`
	Skipped   *xmlSkipped `xml:"skipped,omitempty"`
	SystemOut *xmlText    `xml:"system-out,omitempty"`
}

type xmlSkipped struct {
	Message string `xml:"message,attr"`
}

type xmlText struct {
	Text string `xml:",cdata"`
}

type xmlFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// Write writes a report named name holding suites.
func Write(w io.Writer, name string, suites ...Suite) error {
	doc := xmlSuites{Name: name}
	var total time.Duration
	for _, s := range suites {
		xs := xmlSuite{Name: s.Name, Timestamp: s.Timestamp.UTC().Format(time.RFC3339)}
		var took time.Duration
		for _, c := range s.Cases {
			xc := xmlCase{Name: c.Name, Classname: c.Classname, File: c.File, Time: seconds(c.Time)}
			if c.SystemOut != "" {
				xc.SystemOut = &xmlText{Text: c.SystemOut}
			}
			if f := c.Failure; f != nil {
				xc.Failure = &xmlFailure{Message: f.Message, Type: f.Type, Text: f.Text}
				xs.Failures++
			}
			if c.Skipped != "" {
				xc.Skipped = &xmlSkipped{Message: c.Skipped}
				xs.Skipped++
			}
			took += c.Time
			xs.Cases = append(xs.Cases, xc)
		}
		xs.Tests, xs.Time = len(s.Cases), seconds(took)
		doc.Tests += xs.Tests
		doc.Failures += xs.Failures
		total += took
		doc.Suites = append(doc.Suites, xs)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
