package webhooks

import (
	"net/http"
	"testing"
	"time"
)

func TestPreferWait(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"":                              0,
		"wait=5":                        5 * time.Second,
		"WAIT = 3":                      3 * time.Second,
		"respond-async, wait=2":         2 * time.Second,
		`wait="4"`:                      4 * time.Second,
		"wait=60":                       MaxPreferWait,
		"wait=0":                        0,
		"wait=-1":                       0,
		"wait=soon":                     0,
		"return=minimal":                0,
		"handling=lenient; x=1, wait=1": time.Second,
	} {
		h := http.Header{}
		if in != "" {
			h.Set("Prefer", in)
		}
		if got := preferWait(h); got != want {
			t.Errorf("Prefer %q: %s, want %s", in, got, want)
		}
	}
	h := http.Header{}
	h.Add("Prefer", "respond-async")
	h.Add("Prefer", "wait=7")
	if got := preferWait(h); got != 7*time.Second {
		t.Errorf("two Prefer headers: %s", got)
	}
}
