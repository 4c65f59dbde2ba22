package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/handoff-dev/handoff/internal/testredis"
)

func TestLoadAgainstLoopbackServer(t *testing.T) {
	db := testredis.New(t)
	for _, src := range []string{"hubspot", "marketo", "agent"} {
		var out bytes.Buffer
		err := run(context.Background(), []string{"-redis", db.URL(), "-source", src, "-rate", "40", "-duration", "500ms", "-batch", "10"}, &out)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		s := out.String()
		if !strings.Contains(s, "(100.0%)") || strings.Contains(s, "acked=0 ") || !strings.Contains(s, "p99=") {
			t.Errorf("%s: %s", src, s)
		}
	}
}

func TestLoadFlagErrors(t *testing.T) {
	if err := run(context.Background(), []string{"-source", "fax", "-redis", "redis://x"}, &bytes.Buffer{}); err == nil {
		t.Error("unknown source accepted")
	}
	if err := run(context.Background(), []string{"-batch", "101"}, &bytes.Buffer{}); err == nil {
		t.Error("batch 101 accepted")
	}
}
