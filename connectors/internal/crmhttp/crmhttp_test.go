package crmhttp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"log/slog"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
	"github.com/handoff-dev/handoff/internal/testredis"
)

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "7": 7 * time.Second, "0.5": 500 * time.Millisecond, "-3": 0, "soon": 0,
		"Mon, 23 Nov 2026 10:00:30 GMT": 30 * time.Second, "Mon, 23 Nov 2026 09:00:00 GMT": 0,
	} {
		h := http.Header{"Retry-After": {v}}
		if got := RetryAfter(h, now); got != want {
			t.Errorf("Retry-After %q = %s, want %s", v, got, want)
		}
	}
}

func TestSendSetsBearerCountsAndScrubs(t *testing.T) {
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		_, _ = w.Write([]byte("0123456789"))
	}))
	defer srv.Close()
	s := NewSender(handoff.SourceHubSpot, nil, time.Second, false, 4)
	ctx, calls := CountCalls(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/x?email=ana@acme.example", nil)
	_, body, err := s.Send(ctx, req, "tok-1")
	if err != nil || string(body) != "0123" || auth.Load() != "Bearer tok-1" {
		t.Fatalf("body %q auth %v err %v", body, auth.Load(), err)
	}
	if calls.N() != 1 || s.Calls() != 1 {
		t.Fatalf("calls %d / %d", calls.N(), s.Calls())
	}
	srv.Close()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/x?email=ana@acme.example", nil)
	_, _, err = s.Send(ctx, req, "tok-1")
	var te *handoff.TransientError
	if !errors.As(err, &te) || strings.Contains(err.Error(), "ana@acme.example") {
		t.Fatalf("transport error %v", err)
	}
	if MayHaveRun(err) {
		t.Error("a refused connection cannot have run")
	}
	if calls.N() != 2 {
		t.Errorf("calls %d, want 2", calls.N())
	}
}

func TestMaybeSentAndScrub(t *testing.T) {
	err := MaybeSent(&handoff.TransientError{Err: Scrub(&url.Error{Op: "Post", URL: "https://x.example/?secret=s", Err: errors.New("connection reset")})})
	var te *handoff.TransientError
	if !MayHaveRun(err) || !errors.As(err, &te) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("%v", err)
	}
	if MayHaveRun(errors.New("x")) {
		t.Error("an unmarked error")
	}
}

// Concurrent refreshes of one tenant, from two Refreshers (two processes)
// on one store, run the grant once; the others use its token.
func TestRefreshOnceAcrossProcesses(t *testing.T) {
	store, err := tokenstore.New(testredis.New(t).Client(t), []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := store.Put(ctx, handoff.SourceHubSpot, "1", &tokenstore.Token{AccessToken: "old", RefreshToken: "r"}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	rs := []*Refresher{{CRM: handoff.SourceHubSpot, Store: store, Log: log}, {CRM: handoff.SourceHubSpot, Store: store, Log: log}}
	var grants atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			tok, err := rs[i%2].Refresh(ctx, "1", func(_ context.Context, cur *tokenstore.Token) (*tokenstore.Token, bool, error) {
				if cur.AccessToken != "old" {
					return cur, false, nil
				}
				grants.Add(1)
				return &tokenstore.Token{AccessToken: "new", RefreshToken: cur.RefreshToken}, true, nil
			})
			if err != nil || tok.AccessToken != "new" {
				t.Errorf("refresh = %+v, %v", tok, err)
			}
		})
	}
	wg.Wait()
	if n := grants.Load(); n != 1 {
		t.Fatalf("%d grants, want 1", n)
	}
	rs[0].MarkNeedsReauth(canceled(), "1", "invalid_grant")
	if cur, _ := store.Get(ctx, handoff.SourceHubSpot, "1"); cur == nil || !cur.NeedsReauth {
		t.Fatal("a cancelled context must not stop the re-authorization mark")
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
