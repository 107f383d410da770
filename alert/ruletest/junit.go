package ruletest

import (
	"encoding/xml"
	"io"
)

// The JUnit XML of --junit: a suite per test file, a case per test.

type junitXML struct {
	XMLName xml.Name      `xml:"testsuites"`
	Suites  []*junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string       `xml:"name,attr"`
	Tests     int          `xml:"tests,attr"`
	Failures  int          `xml:"failures,attr"`
	Errors    int          `xml:"errors,attr"`
	Skipped   int          `xml:"skipped,attr"`
	Timestamp string       `xml:"timestamp,attr"`
	Cases     []*junitCase `xml:"testcase"`
}

type junitCase struct {
	Name     string   `xml:"name,attr"`
	Failures []string `xml:"failure,omitempty"`
	Error    string   `xml:"error,omitempty"`
	suite    *junitSuite
}

func (j *junitXML) suite(name string) *junitSuite {
	s := &junitSuite{Name: name}
	j.Suites = append(j.Suites, s)
	return s
}

func (j *junitXML) write(w io.Writer) error { return xml.NewEncoder(w).Encode(j) }

func (s *junitSuite) settime(t string) { s.Timestamp = t }

func (s *junitSuite) testCase(name string) *junitCase {
	c := &junitCase{Name: name, suite: s}
	s.Cases = append(s.Cases, c)
	s.Tests++
	return c
}

// abort records a file that could not be run, on its last case (one named
// "unknown" when there is none yet).
func (s *junitSuite) abort(err error) {
	s.Errors++
	if len(s.Cases) == 0 {
		s.testCase("unknown")
	}
	s.Cases[len(s.Cases)-1].Error = err.Error()
}

func (c *junitCase) fail(msg string) {
	c.suite.Failures++
	c.Failures = append(c.Failures, msg)
}
