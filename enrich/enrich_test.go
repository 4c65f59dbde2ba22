package enrich

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/testredis"
)

// fakeProfiles is a hand-written CRM double: contacts by id and email,
// counting Profile calls.
type fakeProfiles struct {
	mu       sync.Mutex
	calls    int
	contacts []handoff.Profile
	err      error
	threads  map[string][]handoff.Message
}

func (f *fakeProfiles) Profile(_ context.Context, tenant string, ref handoff.ContactRef) (*handoff.Profile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	for _, p := range f.contacts {
		if (ref.ID != "" && p.Contact.ID == ref.ID) || (ref.Email != "" && strings.EqualFold(p.Contact.Email, ref.Email)) {
			cp := p
			cp.Calls = 2
			return &cp, nil
		}
	}
	return nil, fmt.Errorf("read contact: %w", handoff.ErrNotFound)
}

func (f *fakeProfiles) ThreadMessages(_ context.Context, tenant, threadID string) ([]handoff.Message, error) {
	return f.threads[threadID], nil
}

func (f *fakeProfiles) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// wordSignaler: topics are the listed words found in the text; sentiment
// -0.8 for "angry", 0.5 for "great".
type wordSignaler struct{}

func (wordSignaler) Signals(text string) handoff.Signals {
	s := handoff.Signals{Topics: []string{}}
	low := strings.ToLower(text)
	for _, t := range []string{"pricing", "legal", "security"} {
		if strings.Contains(low, t) {
			s.Topics = append(s.Topics, t)
		}
	}
	if strings.Contains(low, "angry") {
		s.Sentiment = -0.8
	}
	if strings.Contains(low, "great") {
		s.Sentiment = 0.5
	}
	return s
}

func ana() handoff.Profile {
	return handoff.Profile{
		Contact: handoff.ContactRef{CRM: handoff.SourceHubSpot, Tenant: "62515", ID: "123", Email: "ana@acme.example"},
		Facts:   handoff.ContactFacts{ID: "123", Email: "ana@acme.example", Name: "Ana", Known: true, OwnerID: "o1"},
		Account: handoff.AccountFacts{ID: "c1", Name: "Acme", Tier: "tier_1", Known: true, OwnerID: "o9"},
		Deal:    handoff.DealFacts{ID: "d1", Stage: "contractsent", Probability: 0.8, IsOpen: true, Known: true},
	}
}

func newEnricher(t *testing.T, f *fakeProfiles, reg prometheus.Registerer) (*Enricher, *time.Time) {
	t.Helper()
	db := testredis.New(t)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	e, err := New(Defaults(), Deps{
		Redis: db.Client(t), Profiles: map[handoff.Source]ProfileReader{handoff.SourceHubSpot: f},
		Signaler: wordSignaler{}, Clock: func() time.Time { return now }, Metrics: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, &now
}

func agentTurn(id, conv, text string, conf float64) handoff.Event {
	return handoff.Event{
		Source: handoff.SourceAgent, Tenant: "agent-t", DedupeKey: id, NativeID: id, Kind: handoff.KindAgentTurn, Channel: "chat",
		OccurredAt: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), ConversationID: conv,
		Contact: handoff.ContactRef{CRM: handoff.SourceHubSpot, Tenant: "62515", Email: "ana@acme.example"},
		Message: &handoff.Message{Text: text, Direction: handoff.Inbound},
		Agent:   &handoff.AgentTurn{Reply: "Let me check.", Confidence: &conf, Sources: []string{"https://docs.example/p"}},
	}
}

func TestProfileCachedAcrossEventsAndIdentities(t *testing.T) {
	f := &fakeProfiles{contacts: []handoff.Profile{ana()}}
	reg := prometheus.NewRegistry()
	e, _ := newEnricher(t, f, reg)
	ctx := context.Background()

	c, err := e.Build(ctx, agentTurn("t1", "conv1", "hello", 0.9))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Contact.Known || c.Account.Tier != "tier_1" || c.Deal.Stage != "contractsent" {
		t.Fatalf("profile not applied: %+v", c)
	}
	if f.Calls() != 1 {
		t.Fatalf("first event: %d Profile calls, want 1", f.Calls())
	}
	// Same contact by email again, then by id from a HubSpot event: no CRM read.
	if _, err := e.Build(ctx, agentTurn("t2", "conv1", "and?", 0.9)); err != nil {
		t.Fatal(err)
	}
	hs := handoff.Event{Source: handoff.SourceHubSpot, Tenant: "62515", DedupeKey: "hs1", Kind: handoff.KindPropertyChange,
		Contact: handoff.ContactRef{ID: "123"}, Property: &handoff.PropertyChange{Name: "lifecyclestage", Value: "sql"}}
	c, err = e.Build(ctx, hs)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Calls() - 1; got != 0 {
		t.Fatalf("repeat events made %d Profile calls, want 0", got)
	}
	if c.Account.Name != "Acme" || c.Event.Property != "lifecyclestage" {
		t.Fatalf("cached profile not used: %+v", c)
	}
	if hits := testutil.ToFloat64(e.cache.WithLabelValues("profile", "hit")); hits != 2 {
		t.Fatalf("cache hits = %v, want 2", hits)
	}
}

func TestUnknownContactIsNotAnErrorAndIsRemembered(t *testing.T) {
	f := &fakeProfiles{}
	e, _ := newEnricher(t, f, nil)
	ev := agentTurn("t1", "c", "hi", 0.5)
	ev.Contact.Email = "nobody@x.example"
	for i := range 2 {
		c, err := e.Build(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if c.Contact.Known || c.Contact.Email != "nobody@x.example" {
			t.Fatalf("run %d: %+v", i, c.Contact)
		}
	}
	if f.Calls() != 1 {
		t.Fatalf("Profile calls = %d, want 1 (negative cache)", f.Calls())
	}
}

func TestCRMErrorsPropagate(t *testing.T) {
	rl := &handoff.RateLimitError{CRM: handoff.SourceHubSpot, Tenant: "62515", RetryAfter: 3 * time.Second}
	f := &fakeProfiles{err: rl}
	e, _ := newEnricher(t, f, nil)
	_, err := e.Build(context.Background(), agentTurn("t1", "c", "hi", 0.5))
	var got *handoff.RateLimitError
	if !errors.As(err, &got) || got.RetryAfter != 3*time.Second {
		t.Fatalf("err = %v, want the rate limit error", err)
	}
	if strings.Contains(err.Error(), "ana@acme.example") {
		t.Fatalf("error leaks the email: %v", err)
	}
}

func TestHistoryAcrossChannelsOncePerEvent(t *testing.T) {
	f := &fakeProfiles{contacts: []handoff.Profile{ana()}}
	e, _ := newEnricher(t, f, nil)
	ctx := context.Background()
	form := handoff.Event{Source: handoff.SourceHubSpot, Tenant: "62515", DedupeKey: "m1", Kind: handoff.KindFormSubmission, Channel: "web",
		OccurredAt: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), Campaign: "Pricing page",
		Contact: handoff.ContactRef{ID: "123"}}
	if _, err := e.Build(ctx, form); err != nil {
		t.Fatal(err)
	}
	turn := agentTurn("t1", "conv1", "what about pricing?", 0.4)
	if _, err := e.Build(ctx, turn); err != nil {
		t.Fatal(err)
	}
	c, err := e.Build(ctx, turn) // a retry of the same event
	if err != nil {
		t.Fatal(err)
	}
	h := c.History
	if h.Total != 2 || h.ByChannel["web"] != 1 || h.ByChannel["chat"] != 1 || h.ByKind["form_submission"] != 1 {
		t.Fatalf("history = %+v", h)
	}
	if h.Recent[0].Kind != handoff.KindAgentTurn || !strings.Contains(h.Recent[1].Summary, "Pricing page") {
		t.Fatalf("recent not newest first: %+v", h.Recent)
	}
}

func TestHistoryIsolatedPerTenantUnlessShared(t *testing.T) {
	for _, shared := range []bool{false, true} {
		db := testredis.New(t)
		cfg := Defaults()
		cfg.HistoryShared = shared
		e, err := New(cfg, Deps{Redis: db.Client(t), Signaler: wordSignaler{}})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		a := handoff.Event{Source: handoff.SourceMarketo, Tenant: "mkto-1", DedupeKey: "x1", Kind: handoff.KindFormSubmission, Channel: "web",
			Contact: handoff.ContactRef{ID: "L1", Email: "ana@acme.example"}}
		b := handoff.Event{Source: handoff.SourceHubSpot, Tenant: "999", DedupeKey: "x2", Kind: handoff.KindWebsiteVisit, Channel: "web",
			Contact: handoff.ContactRef{ID: "7", Email: "ana@acme.example"}}
		if _, err := e.Build(ctx, a); err != nil {
			t.Fatal(err)
		}
		c, err := e.Build(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(1)
		if shared {
			want = 2
		}
		if c.History.Total != want {
			t.Fatalf("shared=%v: history total = %d, want %d", shared, c.History.Total, want)
		}
	}
}

func TestHistoryIsCapped(t *testing.T) {
	f := &fakeProfiles{contacts: []handoff.Profile{ana()}}
	db := testredis.New(t)
	cfg := Defaults()
	cfg.HistoryMax = 3
	e, err := New(cfg, Deps{Redis: db.Client(t), Profiles: map[handoff.Source]ProfileReader{handoff.SourceHubSpot: f}, Signaler: wordSignaler{}})
	if err != nil {
		t.Fatal(err)
	}
	var c handoff.Context
	for i := range 5 {
		c, err = e.Build(context.Background(), agentTurn(fmt.Sprint("t", i), "conv", "x", 0.5))
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.History.Total != 3 {
		t.Fatalf("history total = %d, want 3", c.History.Total)
	}
}

func TestConversationProgressRule(t *testing.T) {
	f := &fakeProfiles{contacts: []handoff.Profile{ana()}}
	e, _ := newEnricher(t, f, nil)
	ctx := context.Background()
	steps := []struct {
		text   string
		conf   float64
		turns  int64
		noProg int64
	}{
		{"great, tell me about pricing", 0.5, 1, 0}, // new topic
		{"ok", 0.5, 2, 1},               // nothing new
		{"ok again", 0.4, 3, 2},         // confidence fell
		{"and legal terms?", 0.4, 4, 0}, // new topic
		{"pricing again", 0.4, 5, 1},    // known topic
		{"hm", 0.6, 6, 0},               // confidence rose
		{"I am angry", 0.6, 7, 1},
	}
	var c handoff.Context
	var err error
	for i, s := range steps {
		c, err = e.Build(ctx, agentTurn(fmt.Sprint("t", i), "conv-p", s.text, s.conf))
		if err != nil {
			t.Fatal(err)
		}
		if c.Conversation.Turns != s.turns || c.Conversation.TurnsWithoutProgress != s.noProg {
			t.Fatalf("step %d (%q): turns=%d no_progress=%d, want %d/%d", i, s.text, c.Conversation.Turns, c.Conversation.TurnsWithoutProgress, s.turns, s.noProg)
		}
	}
	if c.Conversation.ID != "conv-p" || c.Conversation.OwnerState != handoff.OwnerAgent {
		t.Fatalf("conversation = %+v", c.Conversation)
	}
	if want := -0.8 - 0.5; c.Conversation.SentimentTrend != want {
		t.Fatalf("sentiment trend = %v, want %v", c.Conversation.SentimentTrend, want)
	}
	// A retried turn does not count twice.
	c, err = e.Build(ctx, agentTurn("t6", "conv-p", "I am angry", 0.6))
	if err != nil {
		t.Fatal(err)
	}
	if c.Conversation.Turns != 7 {
		t.Fatalf("retry counted: turns = %d", c.Conversation.Turns)
	}
	if !c.Agent.HasConfidence || c.Agent.Confidence != 0.6 || c.Agent.Reply != "Let me check." || len(c.Agent.Sources) != 1 {
		t.Fatalf("agent facts = %+v", c.Agent)
	}
}

func TestDealStageChangeIsProgress(t *testing.T) {
	f := &fakeProfiles{contacts: []handoff.Profile{ana()}}
	e, _ := newEnricher(t, f, nil)
	ctx := context.Background()
	var c handoff.Context
	var err error
	for i := range 2 {
		if c, err = e.Build(ctx, agentTurn(fmt.Sprint("a", i), "conv-s", "hm", 0.5)); err != nil {
			t.Fatal(err)
		}
	}
	if c.Conversation.TurnsWithoutProgress != 2 {
		t.Fatalf("no progress = %d, want 2", c.Conversation.TurnsWithoutProgress)
	}
	// The deal moves on in the CRM and the cached profile expires.
	p := ana()
	p.Deal.Stage = "closedwon"
	f.mu.Lock()
	f.contacts = []handoff.Profile{p}
	f.mu.Unlock()
	for _, k := range e.rdb.Keys(ctx, "handoff:enrich:profile:*").Val() {
		e.rdb.Del(ctx, k)
	}
	c, err = e.Build(ctx, agentTurn("a2", "conv-s", "hm", 0.5))
	if err != nil {
		t.Fatal(err)
	}
	if c.Conversation.TurnsWithoutProgress != 0 || c.Conversation.Turns != 3 {
		t.Fatalf("stage change not progress: %+v", c.Conversation)
	}
}

func TestHubSpotThreadMessageText(t *testing.T) {
	f := &fakeProfiles{contacts: []handoff.Profile{ana()}, threads: map[string][]handoff.Message{
		"th1": {
			{ID: "m1", Text: "hi", Direction: handoff.Inbound},
			{ID: "m2", Text: "we need pricing for 200 seats", Direction: handoff.Inbound},
			{ID: "m3", Text: "sure", Direction: handoff.Outbound},
		},
	}}
	e, _ := newEnricher(t, f, nil)
	ev := handoff.Event{Source: handoff.SourceHubSpot, Tenant: "62515", DedupeKey: "hsm", Kind: handoff.KindChatMessage, Channel: "chat",
		Contact: handoff.ContactRef{ID: "123"}, Message: &handoff.Message{ID: "m2", ThreadID: "th1"}}
	c, err := e.Build(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if c.Event.Text != "we need pricing for 200 seats" || len(c.Signals.Topics) != 1 || c.Signals.Topics[0] != "pricing" {
		t.Fatalf("text/signals = %q %+v", c.Event.Text, c.Signals)
	}
}

// BenchmarkBuildWarm is the hot path: a repeat event for a cached contact
// (profile cache hit, history push, conversation update) on a real Redis.
func BenchmarkBuildWarm(b *testing.B) {
	f := &fakeProfiles{contacts: []handoff.Profile{ana()}}
	db := testredis.New(b)
	e, err := New(Defaults(), Deps{Redis: db.Client(b), Profiles: map[handoff.Source]ProfileReader{handoff.SourceHubSpot: f}, Signaler: wordSignaler{}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if _, err := e.Build(ctx, agentTurn(fmt.Sprint("b", i), "conv-bench", "what about pricing?", 0.5)); err != nil {
			b.Fatal(err)
		}
	}
	if f.Calls() != 1 {
		b.Fatalf("Profile calls = %d, want 1", f.Calls())
	}
}

// The industry class is derived for fresh and cached profiles alike, from
// whatever spelling the CRM used.
func TestIndustryClassFromProfile(t *testing.T) {
	p := ana()
	p.Account.Industry = "Hospital & Health Care"
	f := &fakeProfiles{contacts: []handoff.Profile{p}}
	e, _ := newEnricher(t, f, nil)
	for i, id := range []string{"t1", "t2"} {
		c, err := e.Build(context.Background(), agentTurn(id, "conv1", "hello", 0.9))
		if err != nil {
			t.Fatal(err)
		}
		if c.Account.Industry != "Hospital & Health Care" || c.Account.IndustryClass != handoff.IndustryHealthcare || !c.Account.Regulated {
			t.Errorf("event %d: account %+v, want industry kept, class healthcare, regulated", i+1, c.Account)
		}
	}
	if f.Calls() != 1 {
		t.Fatalf("%d Profile calls, want 1 (the second event reads the cache)", f.Calls())
	}
}

// What the agent's model reported reaches the ladder as agent.*; a turn
// without signals leaves them empty (has_sentiment false).
func TestAgentSignalsReachTheContext(t *testing.T) {
	e, _ := newEnricher(t, &fakeProfiles{contacts: []handoff.Profile{ana()}}, nil)
	ev := agentTurn("t1", "conv1", "Was kostet das?", 0.6)
	sent := -0.4
	ev.Agent.Signals = &handoff.AgentSignals{Intents: []string{"pricing"}, Sentiment: &sent, Language: "de", HumanRequest: true}
	c, err := e.Build(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Agent
	if len(a.Intents) != 1 || a.Intents[0] != "pricing" || a.Sentiment != -0.4 || !a.HasSentiment || a.Language != "de" || !a.HumanRequest {
		t.Errorf("agent facts %+v", a)
	}
	zero := 0.0
	ev = agentTurn("t2", "conv1", "ok", 0.6)
	ev.Agent.Signals = &handoff.AgentSignals{Sentiment: &zero}
	if c, err = e.Build(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if !c.Agent.HasSentiment || c.Agent.Sentiment != 0 {
		t.Errorf("a reported neutral sentiment: %+v", c.Agent)
	}
	if c, err = e.Build(context.Background(), agentTurn("t3", "conv1", "ok", 0.6)); err != nil {
		t.Fatal(err)
	}
	if a := c.Agent; a.Intents != nil || a.HasSentiment || a.Language != "" || a.HumanRequest {
		t.Errorf("no signals reported, agent facts %+v", a)
	}
}
