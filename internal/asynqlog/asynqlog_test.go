package asynqlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRepeatedErrorsAreLimited(t *testing.T) {
	var buf bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&buf, nil)), 30*time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	for i := 0; i < 100; i++ {
		l.Error("Dequeue error: dial tcp 127.0.0.1:", 6000+i, ": connection refused")
	}
	l.Warn("another kind of problem")
	if n := strings.Count(buf.String(), "Dequeue error"); n != 1 {
		t.Fatalf("%d dequeue lines for 100 errors in one interval", n)
	}
	if !strings.Contains(buf.String(), "another kind") {
		t.Fatal("a different message was suppressed")
	}
	now = now.Add(31 * time.Second)
	l.Error("Dequeue error: dial tcp 127.0.0.1:7000: connection refused")
	if !strings.Contains(buf.String(), "similar_suppressed=99") {
		t.Fatalf("suppressed count not reported:\n%s", buf.String())
	}
}
