package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// `handoff demo --keep` prints the console's address and the token, and a
// newcomer who opens it sees the demo's handoffs.
func TestDemoKeepPrintsTheConsole(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := netListen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, []string{"--keep", "--addr", addr}, envconfig.MapLookuper(nil), &out, io.Discard)
	}()
	re := regexp.MustCompile(`Admin token: ([0-9a-f]+)\n  console    (http://\S+/console/)`)
	var m []string
	eventually(t, 90*time.Second, "the demo prints the console", func() bool {
		select {
		case err := <-done:
			t.Fatalf("the demo ended: %v\n%s", err, out.String())
		default:
		}
		m = re.FindStringSubmatch(out.String())
		return m != nil
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m[2]+"open", nil)
	req.Header.Set("Authorization", "Bearer "+m[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Count(string(body), `data-handoff="ho_`) < 10 {
		t.Fatalf("the console the demo printed: %d, %d open handoffs", resp.StatusCode, strings.Count(string(body), `data-handoff="ho_`))
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop")
	}
}
