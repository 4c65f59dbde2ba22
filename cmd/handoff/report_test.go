package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/handoff-dev/handoff/jobs"
)

// `handoff report` shows the second reviewers handoffs named.
func TestPrintReportAlsoNeeds(t *testing.T) {
	var b bytes.Buffer
	printReport(&b, jobs.Report{Handoffs: jobs.HandoffStats{Total: 5, WithAlsoNeeds: 3, AlsoNeeds: map[string]int64{"security-review": 2, "legal": 3}}})
	var line string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, "second reviewers") {
			line = l
		}
	}
	if !strings.Contains(line, "3") || !strings.Contains(line, "legal 3, security-review 2") {
		t.Errorf("second reviewers line %q in\n%s", line, b.String())
	}
}
