package scenario

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes results as a JUnit XML report: one test suite for the run, one test case per
// scenario, a failure naming the step and what was expected, and the scenario's progress lines.
func WriteJUnit(w io.Writer, results []Result, started time.Time) error {
	s := junitSuite{Name: "equalture-mock scenarios", Timestamp: started.UTC().Format(time.RFC3339)}
	var total time.Duration
	for _, r := range results {
		c := junitCase{Name: r.Scenario.Name, Classname: "scenarios", File: r.Scenario.File, Time: seconds(r.Duration)}
		if r.Output != "" {
			c.SystemOut = &junitText{Text: r.Output}
		}
		if f := r.Failure; f != nil {
			c.Failure = &junitFailure{Message: f.Summary(), Type: "ScenarioFailure", Text: f.Error()}
			s.Failures++
		}
		total += r.Duration
		s.Cases = append(s.Cases, c)
	}
	s.Tests, s.Time = len(results), seconds(total)
	doc := junitSuites{Name: s.Name, Tests: s.Tests, Failures: s.Failures, Time: s.Time, Suites: []junitSuite{s}}
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
