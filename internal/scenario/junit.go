package scenario

import (
	"encoding/xml"
	"fmt"
	"os"
	"time"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes results as a JUnit report: one test suite, a test case per scenario.
func WriteJUnit(file string, results []Result, started time.Time) error {
	s := junitSuite{Name: "equalture-mock scenarios", Timestamp: started.UTC().Format(time.RFC3339)}
	var total time.Duration
	for _, r := range results {
		c := junitCase{Name: r.Scenario.Name, Classname: r.Scenario.File, Time: seconds(r.Duration)}
		if !r.Passed() {
			c.Failure = &junitFailure{Message: r.Failure, Text: r.Failure}
			s.Failures++
		}
		total += r.Duration
		s.Cases = append(s.Cases, c)
	}
	s.Tests, s.Time = len(results), seconds(total)
	doc := junitSuites{Tests: s.Tests, Failures: s.Failures, Time: s.Time, Suites: []junitSuite{s}}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}
