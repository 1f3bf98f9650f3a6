package run

import (
	"io"
	"time"

	"github.com/equalture/equalture-mock/internal/junit"
)

// WriteJUnit writes results as a JUnit XML report: one test suite for the run, one test case per
// scenario, a failure naming the step and what was expected, and the scenario's progress lines.
func WriteJUnit(w io.Writer, results []Result, started time.Time) error {
	s := junit.Suite{Name: "equalture-mock scenarios", Timestamp: started}
	for _, r := range results {
		c := junit.Case{Name: r.Scenario.Name, Classname: "scenarios", File: r.Scenario.File, Time: r.Duration, SystemOut: r.Output}
		if f := r.Failure; f != nil {
			c.Failure = &junit.Failure{Message: f.Summary(), Type: "ScenarioFailure", Text: f.Error()}
		}
		s.Cases = append(s.Cases, c)
	}
	return junit.Write(w, s.Name, s)
}
