package laddercli

import (
	"os"
	"path/filepath"
	"testing"
)

func FuzzParseEvents(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "events", "*"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"context": {}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := ParseEvents("f.json", data)
		if err == nil && len(evs) == 0 {
			t.Fatal("no events and no error")
		}
	})
}
