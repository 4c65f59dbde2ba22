package main

import (
	"strings"
	"testing"
)

func TestCheckLoopback(t *testing.T) {
	ok := []string{
		"http://127.0.0.1:8080", "http://127.0.0.1:8080/", "https://127.9.8.7", "http://localhost:1",
		"http://LOCALHOST:8080", "http://[::1]:8080", "http://[::ffff:127.0.0.1]:80",
	}
	for _, s := range ok {
		if _, err := checkLoopback(s); err != nil {
			t.Errorf("%s refused: %v", s, err)
		}
	}
	bad := []string{
		"http://10.0.0.1:8080", "http://128.0.0.1", "http://0.0.0.0:8080", "http://[::]:8080", "http://[::2]:80",
		"http://example.com", "http://localhost.example.com", "http://127.0.0.1.nip.io", "http://2130706433",
		"ftp://127.0.0.1", "127.0.0.1:8080", "http://user:pw@127.0.0.1", "http://127.0.0.1/?x=1", "http://",
	}
	for _, s := range bad {
		if _, err := checkLoopback(s); err == nil {
			t.Errorf("%s accepted", s)
		}
	}
}

func TestRunRefusesNonLoopbackTarget(t *testing.T) {
	var out, errOut strings.Builder
	code := run(t.Context(), []string{"--target", "http://192.0.2.1:8080", "--hubspot-secret", "s"}, func(string) string { return "" }, &out, &errOut)
	if code != 2 || out.String() != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}
