package hubspot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/hubspot"
	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
	"github.com/handoff-dev/handoff/connectors/ratelimit"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
	"github.com/handoff-dev/handoff/internal/testredis"
)

const portal = "62515"

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t      *testing.T
	fake   *hubspottest.Server
	store  *tokenstore.Store
	lim    *ratelimit.Limiter
	client *hubspot.Client
	cfg    hubspot.Config
	logs   *syncBuffer
	db     testredis.DB
}

func baseConfig(fake *hubspottest.Server) hubspot.Config {
	return fake.Config("https://handoff.example.com")
}

// newEnv starts the fake and a client on a real Redis. mod adjusts the config.
func newEnv(t *testing.T, mod func(*hubspot.Config)) *env {
	t.Helper()
	fake := hubspottest.New(hubspottest.DefaultSeed())
	t.Cleanup(fake.Close)
	db := testredis.New(t)
	rdb := db.Client(t)
	store, err := tokenstore.New(rdb, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, fake: fake, store: store, lim: ratelimit.New(rdb), cfg: baseConfig(fake), logs: &syncBuffer{}, db: db}
	if mod != nil {
		mod(&e.cfg)
	}
	e.client = e.newClient(e.cfg)
	return e
}

func (e *env) newClient(cfg hubspot.Config) *hubspot.Client {
	e.t.Helper()
	c, err := hubspot.New(cfg, hubspot.Deps{
		Tokens: e.store, Limiter: e.lim,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// install stores a token pair minted by the fake, as a finished install would.
func (e *env) install(lifetime time.Duration) hubspottest.Tokens {
	e.t.Helper()
	tk := e.fake.MintToken(lifetime)
	if err := e.store.Put(context.Background(), handoff.SourceHubSpot, portal, &tokenstore.Token{
		AccessToken: tk.AccessToken, RefreshToken: tk.RefreshToken, TokenType: "bearer", Expiry: tk.Expiry,
	}); err != nil {
		e.t.Fatal(err)
	}
	return tk
}

// lastRequest returns the last recorded request with method and path.
func (e *env) lastRequest(method, path string) hubspottest.Request {
	e.t.Helper()
	reqs := e.fake.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == method && reqs[i].Path == path {
			return reqs[i]
		}
	}
	e.t.Fatalf("no %s %s request recorded", method, path)
	return hubspottest.Request{}
}

func readFixture(t testing.TB, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "hubspot", "api", name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return v
}

func decode(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "?"
}

// covers reports where got lacks a field of want, or has it with another
// JSON type (null in either is accepted for a scalar: HubSpot sends null
// for unset properties). Arrays: every element of got is checked against
// want's first element.
func covers(want, got any, path string) []string {
	var errs []string
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{path + ": want object, got " + kind(got)}
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				errs = append(errs, path+"."+k+": missing")
				continue
			}
			errs = append(errs, covers(wv, gv, path+"."+k)...)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{path + ": want array, got " + kind(got)}
		}
		if len(w) > 0 {
			for i, gv := range g {
				errs = append(errs, covers(w[0], gv, path+"["+strconv.Itoa(i)+"]")...)
			}
		}
	default:
		if kind(want) != kind(got) && kind(want) != "null" && kind(got) != "null" {
			errs = append(errs, path+": want "+kind(want)+", got "+kind(got))
		}
	}
	return errs
}

// sameShape: got covers want and want covers got (no undocumented fields).
func sameShape(t testing.TB, name string, want, got any) {
	t.Helper()
	errs := append(covers(want, got, "$"), prefix("extra ", covers(got, want, "$"))...)
	if len(errs) > 0 {
		sort.Strings(errs)
		t.Errorf("%s: shape differs from fixture:\n  %s", name, strings.Join(errs, "\n  "))
	}
}

func prefix(p string, ss []string) []string {
	for i := range ss {
		ss[i] = p + ss[i]
	}
	return ss
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
