package salesforce_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/salesforce"
	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
	"github.com/handoff-dev/handoff/connectors/tokenstore"
	"github.com/handoff-dev/handoff/internal/testredis"
)

// syncBuffer collects log output from many goroutines.
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
	fake   *salesforcetest.Server
	store  *tokenstore.Store
	client *salesforce.Client
	cfg    salesforce.Config
	deps   salesforce.Deps
	logs   *syncBuffer
	key    *rsa.PrivateKey
	keyPEM string
}

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func testKey(t testing.TB) (*rsa.PrivateKey, string) {
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	b, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	return rsaKey, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b}))
}

// newEnv starts a fake org and a client on a fresh Redis DB. mod may
// adjust the config before the client is built.
func newEnv(t *testing.T, mod func(*salesforce.Config), opts ...salesforcetest.Option) *env {
	t.Helper()
	key, keyPEM := testKey(t)
	fake := salesforcetest.New(salesforcetest.DefaultSeed(), append([]salesforcetest.Option{salesforcetest.WithJWTKey(&key.PublicKey)}, opts...)...)
	t.Cleanup(fake.Close)
	rdb := testredis.New(t).Client(t)
	store, err := tokenstore.New(rdb, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, fake: fake, store: store, logs: &syncBuffer{}, key: key, keyPEM: keyPEM}
	e.cfg = salesforce.Config{
		ClientID:      salesforcetest.DefaultClientID,
		ClientSecret:  salesforcetest.DefaultClientSecret,
		LoginURL:      fake.URL,
		PublicBaseURL: "https://handoff.example",
		RateLimit:     "0",
	}
	if mod != nil {
		mod(&e.cfg)
	}
	e.deps = salesforce.Deps{
		Tokens:     store,
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	e.client = e.newClient()
	return e
}

func (e *env) newClient() *salesforce.Client {
	c, err := salesforce.New(e.cfg, e.deps)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// install runs the browser part of the web-server flow against the fake
// and returns the callback query.
func (e *env) authorize(c *salesforce.Client) url.Values {
	e.t.Helper()
	authURL, err := c.AuthCodeURL(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("authorize: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	if !strings.HasPrefix(loc.String(), "https://handoff.example/oauth/salesforce/callback?") {
		e.t.Fatalf("redirected to %s", loc)
	}
	return loc.Query()
}

func (e *env) install() string {
	e.t.Helper()
	tenant, err := e.client.Callback(context.Background(), e.authorize(e.client))
	if err != nil {
		e.t.Fatalf("callback: %v", err)
	}
	return tenant
}

// assertNoSecrets checks that no stored token value reached the logs.
func (e *env) assertNoSecrets(extra ...string) {
	e.t.Helper()
	logs := e.logs.String()
	secrets := append([]string{salesforcetest.DefaultClientSecret}, extra...)
	if tok, err := e.store.Get(context.Background(), handoff.SourceSalesforce, salesforcetest.OrgID); err == nil {
		secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			e.t.Fatalf("a secret reached the logs")
		}
	}
}

func (e *env) apiRequests() []salesforcetest.Request {
	var out []salesforcetest.Request
	for _, r := range e.fake.Requests() {
		if strings.HasPrefix(r.Path, "/services/data/") {
			out = append(out, r)
		}
	}
	return out
}
