package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/handoff-dev/handoff/ladder"
)

// demoChat stands in for a team's Slack-compatible incoming webhook in
// the demo: it keeps the messages posted to it.
type demoChat struct {
	URL  string
	srv  *http.Server
	mu   sync.Mutex
	text []string
}

func startDemoChat() (*demoChat, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start the demo's chat webhook receiver: %w", err)
	}
	rc := &demoChat{URL: "http://" + l.Addr().String() + "/hooks/sdr"}
	rc.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Text string `json:"text"`
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if json.Unmarshal(body, &msg) != nil || msg.Text == "" {
			http.Error(w, "want a Slack-compatible {\"text\": ...} body", http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.text = append(rc.text, msg.Text)
		rc.mu.Unlock()
		_, _ = io.WriteString(w, "ok") // what Slack answers
	})}
	go func() { _ = rc.srv.Serve(l) }()
	return rc, nil
}

func (rc *demoChat) Close() { _ = rc.srv.Close() }

func (rc *demoChat) messages() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.text...)
}

// demoLadderFile writes the default ladder with the SDR team notifying
// the demo's chat receiver, and returns its path.
func demoLadderFile(dir, hookURL string) (string, error) {
	const team = "  sdr: {owners: [sdr1@acme.example, sdr2@acme.example, sdr3@acme.example], strategy: least_open}"
	y := string(ladder.DefaultYAML())
	if !strings.Contains(y, team) {
		return "", fmt.Errorf("the default ladder has no sdr team line to add a notify target to")
	}
	y = strings.Replace(y, team, strings.TrimSuffix(team, "}")+`, notify: ["slack:`+hookURL+`"]}`, 1)
	p := filepath.Join(dir, "demo-ladder.yaml")
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		return "", fmt.Errorf("write the demo ladder: %w", err)
	}
	return p, nil
}

// showChat prints the messages the SDR team's chat webhook received.
func showChat(w io.Writer, rc *demoChat, wait time.Duration) {
	deadline := time.Now().Add(wait)
	for len(rc.messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	msgs := rc.messages()
	fmt.Fprintf(w, "\nNotifications at the SDR team's Slack-compatible webhook (%s): %d\n", rc.URL, len(msgs))
	for _, m := range msgs {
		lines := strings.Split(strings.TrimSpace(m), "\n")
		if len(lines) > 3 {
			lines = lines[:3]
		}
		fmt.Fprintf(w, "  %s\n", truncateRunes(strings.Join(lines, " / "), 220))
	}
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
