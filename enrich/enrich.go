// Package enrich builds the handoff.Context the escalation ladder sees from
// one handoff.Event: the buyer's CRM profile (cached per tenant in Redis),
// the contact's recent activity across channels, the conversation's turns
// and progress, the agent's own report and the text signals.
//
// Progress rule (documented in docs/bundle.md too): a turn is an event that
// carries buyer text or an agent report. A turn makes progress when the
// buyer brings something new, which we detect as any of
//   - a topic appears that the conversation has not seen before,
//   - the agent's confidence rose compared to the previous turn,
//   - the primary deal's stage differs from the previous turn's.
//
// Otherwise turns_without_progress grows by one; progress resets it to 0.
package enrich

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff"
)

// Config tunes caching and history. Load it with go-envconfig.
type Config struct {
	// CacheTTL is how long a contact profile read from a CRM is reused.
	CacheTTL time.Duration `env:"ENRICH_CACHE_TTL, default=10m"`
	// NegativeTTL is how long "the CRM has no such contact" is remembered.
	NegativeTTL time.Duration `env:"ENRICH_NEGATIVE_TTL, default=1m"`
	// HistoryMax caps the recent events kept per contact.
	HistoryMax int `env:"HISTORY_MAX, default=50"`
	// HistoryTTL is how long a contact's history and a conversation's state
	// live after their last event.
	HistoryTTL time.Duration `env:"HISTORY_TTL, default=720h"`
	// HistoryShared keys history by email alone, across CRMs and tenants.
	// Leave it off when tenants are different companies.
	HistoryShared bool `env:"HISTORY_SHARED_ACROSS_TENANTS, default=false"`
}

// Defaults returns the documented defaults (what go-envconfig would load
// from an empty environment).
func Defaults() Config {
	return Config{CacheTTL: 10 * time.Minute, NegativeTTL: time.Minute, HistoryMax: 50, HistoryTTL: 720 * time.Hour}
}

// ProfileReader reads a buyer's profile from one CRM (the connectors'
// Profile method).
type ProfileReader interface {
	Profile(ctx context.Context, tenant string, ref handoff.ContactRef) (*handoff.Profile, error)
}

// ThreadReader is implemented by CRMs with conversation threads (HubSpot):
// a conversation.newMessage webhook carries ids only, so the text is read.
type ThreadReader interface {
	ThreadMessages(ctx context.Context, tenant, threadID string) ([]handoff.Message, error)
}

// ThreadContacter is implemented by CRMs whose message webhooks name only
// the thread (HubSpot conversation.newMessage): it returns the CRM id of the
// contact the thread belongs to, or "" when there is none yet.
type ThreadContacter interface {
	ThreadContact(ctx context.Context, tenant, threadID string) (string, error)
}

// Signaler computes text signals (the ladder implements it).
type Signaler interface {
	Signals(text string) handoff.Signals
}

// Deps are the enricher's collaborators.
type Deps struct {
	Redis    redis.UniversalClient            // required
	Profiles map[handoff.Source]ProfileReader // per CRM; a CRM without a reader is skipped
	Signaler Signaler                         // required
	Clock    func() time.Time                 // default time.Now
	Logger   *slog.Logger                     // default slog.Default()
	Metrics  prometheus.Registerer            // optional
	Threads  map[handoff.Source]ThreadReader  // optional; filled from Profiles when they implement it
}

// Enricher builds contexts. It is safe for concurrent use.
type Enricher struct {
	cfg      Config
	rdb      redis.UniversalClient
	profiles map[handoff.Source]ProfileReader
	threads  map[handoff.Source]ThreadReader
	signaler Signaler
	now      func() time.Time
	log      *slog.Logger
	cache    *prometheus.CounterVec
	crmCalls *prometheus.CounterVec
}

// New returns an Enricher.
func New(cfg Config, deps Deps) (*Enricher, error) {
	if deps.Redis == nil {
		return nil, errors.New("enrich: Redis is required")
	}
	if deps.Signaler == nil {
		return nil, errors.New("enrich: Signaler is required")
	}
	if cfg.HistoryMax <= 0 {
		cfg.HistoryMax = 50
	}
	if cfg.HistoryTTL <= 0 {
		cfg.HistoryTTL = 720 * time.Hour
	}
	e := &Enricher{
		cfg: cfg, rdb: deps.Redis, profiles: deps.Profiles, signaler: deps.Signaler,
		now: deps.Clock, log: deps.Logger, threads: map[handoff.Source]ThreadReader{},
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	for src, p := range deps.Profiles {
		if tr, ok := p.(ThreadReader); ok {
			e.threads[src] = tr
		}
	}
	for src, tr := range deps.Threads {
		e.threads[src] = tr
	}
	e.cache = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "handoff_enrich_cache_total", Help: "Enrichment cache lookups by kind and result (hit, miss).",
	}, []string{"kind", "result"})
	e.crmCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "handoff_enrich_crm_calls_total", Help: "CRM API calls made by enrichment reads, by CRM.",
	}, []string{"crm"})
	if deps.Metrics != nil {
		for _, c := range []prometheus.Collector{e.cache, e.crmCalls} {
			if err := deps.Metrics.Register(c); err != nil {
				return nil, fmt.Errorf("enrich: register metrics: %w", err)
			}
		}
	}
	return e, nil
}

// Build returns the context for ev. CRM errors (rate limits, not installed,
// transient failures) are returned wrapped, so the job retries; a contact
// the CRM does not know is not an error (Contact.Known is false).
func (e *Enricher) Build(ctx context.Context, ev handoff.Event) (handoff.Context, error) {
	crm, tenant := ev.ContactCRM()
	c := handoff.Context{
		Event: handoff.EventFacts{
			Source: string(ev.Source), Kind: string(ev.Kind), Channel: ev.Channel,
			Tenant: tenant, Campaign: ev.Campaign,
		},
	}
	if ev.Property != nil {
		c.Event.Property, c.Event.Value = ev.Property.Name, ev.Property.Value
	}

	if ev.Contact.IsZero() && ev.Message != nil && ev.Message.ThreadID != "" {
		if tc, ok := e.threads[ev.Source].(ThreadContacter); ok {
			id, err := tc.ThreadContact(ctx, tenant, ev.Message.ThreadID)
			if err != nil {
				return c, fmt.Errorf("find the contact of %s thread %s: %w", ev.Source, ev.Message.ThreadID, err)
			}
			ev.Contact.ID, ev.Contact.CRM, ev.Contact.Tenant = id, crm, tenant
		}
	}
	prof, err := e.profile(ctx, crm, tenant, ev.Contact)
	if err != nil {
		return c, err
	}
	if prof != nil {
		c.Contact, c.Account, c.Deal = prof.Facts, prof.Account, prof.Deal
	}
	// Derived fields (the industry class) are filled here, for fresh and
	// cached profiles alike, not by each connector.
	c.Normalize()
	if c.Contact.ID == "" {
		c.Contact.ID = ev.Contact.ID
	}
	// The same buyer named by id in one event and by email in the next is
	// one conversation: key it by the id the CRM resolved.
	if ev.Contact.ID == "" && c.Contact.ID != "" {
		ev.Contact.ID = c.Contact.ID
	}
	if c.Contact.Email == "" {
		c.Contact.Email = ev.Contact.Email
	}

	text, err := e.text(ctx, ev, tenant)
	if err != nil {
		return c, err
	}
	c.Event.Text = text
	if text != "" {
		c.Signals = e.signaler.Signals(text)
	}
	if c.Signals.Topics == nil {
		c.Signals.Topics = []string{}
	}

	c.Agent = agentFacts(ev.Agent)

	hist, err := e.history(ctx, ev, crm, tenant, c.Contact, text)
	if err != nil {
		return c, err
	}
	c.History = hist

	conv, err := e.conversation(ctx, ev, c)
	if err != nil {
		return c, err
	}
	c.Conversation = conv
	return c, nil
}

func agentFacts(a *handoff.AgentTurn) handoff.AgentFacts {
	f := handoff.AgentFacts{Confidence: 1}
	if a == nil {
		return f
	}
	if a.Confidence != nil {
		f.Confidence, f.HasConfidence = *a.Confidence, true
	}
	f.ToolFailures = int64(a.ToolFailures)
	f.Sources = a.Sources
	f.Reply = a.Reply
	f.Turn = int64(a.Turn)
	if s := a.Signals; s != nil {
		f.Intents = slices.Clone(s.Intents)
		if s.Sentiment != nil {
			f.Sentiment, f.HasSentiment = *s.Sentiment, true
		}
		f.Language = s.Language
		f.HumanRequest = s.HumanRequest
	}
	return f
}

// --- profile cache ---

func profileKey(crm handoff.Source, tenant, ident string) string {
	return "handoff:enrich:profile:" + string(crm) + ":" + tenant + ":" + ident
}

// cachedProfile is what the cache holds; Found false is a negative entry.
type cachedProfile struct {
	Found   bool             `json:"found"`
	Profile *handoff.Profile `json:"profile,omitempty"`
}

func (e *Enricher) profile(ctx context.Context, crm handoff.Source, tenant string, ref handoff.ContactRef) (*handoff.Profile, error) {
	if ref.IsZero() || crm == "" {
		return nil, nil
	}
	reader := e.profiles[crm]
	if reader == nil {
		e.log.Debug("no profile reader for CRM; enriching without a profile", "crm", crm)
		return nil, nil
	}
	var keys []string
	if ref.ID != "" {
		keys = append(keys, profileKey(crm, tenant, "id:"+ref.ID))
	}
	if ref.Email != "" {
		keys = append(keys, profileKey(crm, tenant, "email:"+strings.ToLower(ref.Email)))
	}
	vals, err := e.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("read profile cache: %w", err)
	}
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var cp cachedProfile
		if json.Unmarshal([]byte(s), &cp) == nil {
			e.cache.WithLabelValues("profile", "hit").Inc()
			return cp.Profile, nil
		}
	}
	e.cache.WithLabelValues("profile", "miss").Inc()
	ref.Tenant = tenant
	ref.CRM = crm
	p, err := reader.Profile(ctx, tenant, ref)
	ttl := e.cfg.CacheTTL
	cp := cachedProfile{Found: true, Profile: p}
	switch {
	case errors.Is(err, handoff.ErrNotFound):
		cp, ttl = cachedProfile{}, e.cfg.NegativeTTL
		p = nil
	case err != nil:
		return nil, fmt.Errorf("read %s profile of contact %s in tenant %s: %w", crm, refLabel(ref), tenant, err)
	}
	if p != nil {
		e.crmCalls.WithLabelValues(string(crm)).Add(float64(p.Calls))
		// Store under every identity the CRM resolved, so an event that
		// names the contact by id and one that names it by email share it.
		if p.Contact.ID != "" && !slices.Contains(keys, profileKey(crm, tenant, "id:"+p.Contact.ID)) {
			keys = append(keys, profileKey(crm, tenant, "id:"+p.Contact.ID))
		}
		if em := strings.ToLower(firstNonEmpty(p.Contact.Email, p.Facts.Email)); em != "" && !slices.Contains(keys, profileKey(crm, tenant, "email:"+em)) {
			keys = append(keys, profileKey(crm, tenant, "email:"+em))
		}
	}
	if ttl > 0 {
		b, _ := json.Marshal(cp)
		pipe := e.rdb.Pipeline()
		for _, k := range keys {
			pipe.Set(ctx, k, b, ttl)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("write profile cache: %w", err)
		}
	}
	return p, nil
}

// refLabel names a contact reference without its email (PII stays out of
// errors and logs).
func refLabel(ref handoff.ContactRef) string {
	if ref.ID != "" {
		return ref.ID
	}
	return "(by email)"
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// --- text ---

func (e *Enricher) text(ctx context.Context, ev handoff.Event, tenant string) (string, error) {
	if t := ev.Text(); t != "" || ev.Message == nil {
		return t, nil
	}
	m := ev.Message
	if m.ThreadID == "" || m.Direction == handoff.Outbound {
		return "", nil
	}
	tr := e.threads[ev.Source]
	if tr == nil {
		return "", nil
	}
	msgs, err := tr.ThreadMessages(ctx, tenant, m.ThreadID)
	if err != nil {
		return "", fmt.Errorf("read %s thread %s messages: %w", ev.Source, m.ThreadID, err)
	}
	// The event's own message if we can find it, else the newest inbound one.
	var last string
	for _, x := range msgs {
		if m.ID != "" && x.ID == m.ID {
			if x.Direction == handoff.Outbound {
				return "", nil
			}
			return x.Text, nil
		}
		if x.Direction != handoff.Outbound && x.Text != "" {
			last = x.Text
		}
	}
	return last, nil
}

// --- history ---

// ContactKey is how a contact's history is keyed: per CRM tenant, by the
// lower-cased email when known (so an agent chat, a form and a page visit
// of the same person in that tenant join up), else by the CRM id. With
// shared true (HISTORY_SHARED_ACROSS_TENANTS, for a single-company
// deployment that runs several CRMs) the email alone is the key, joining
// e.g. Marketo and HubSpot activity.
func ContactKey(crm handoff.Source, tenant string, c handoff.ContactFacts, shared bool) string {
	if c.Email != "" {
		if shared {
			return "email:" + strings.ToLower(c.Email)
		}
		return string(crm) + ":" + tenant + ":email:" + strings.ToLower(c.Email)
	}
	if c.ID != "" {
		return string(crm) + ":" + tenant + ":id:" + c.ID
	}
	return ""
}

func (e *Enricher) history(ctx context.Context, ev handoff.Event, crm handoff.Source, tenant string, contact handoff.ContactFacts, text string) (handoff.HistoryFacts, error) {
	h := handoff.HistoryFacts{ByChannel: map[string]int64{}, ByKind: map[string]int64{}}
	ck := ContactKey(crm, tenant, contact, e.cfg.HistoryShared)
	if ck == "" {
		return h, nil
	}
	key := "handoff:enrich:history:" + ck
	item := handoff.HistoryItem{At: ev.OccurredAt, Source: ev.Source, Kind: ev.Kind, Channel: ev.Channel, Summary: summarize(ev, text)}
	if item.At.IsZero() {
		item.At = e.now()
	}
	// Push each event once, even when its job is retried.
	if ev.DedupeKey != "" {
		first, err := e.rdb.SetNX(ctx, "handoff:enrich:seen:"+ck+":"+ev.DedupeKey, 1, e.cfg.HistoryTTL).Result()
		if err != nil {
			return h, fmt.Errorf("mark event in history: %w", err)
		}
		if first {
			if err := e.push(ctx, key, item); err != nil {
				return h, err
			}
		}
	} else if err := e.push(ctx, key, item); err != nil {
		return h, err
	}
	raw, err := e.rdb.LRange(ctx, key, 0, int64(e.cfg.HistoryMax)-1).Result()
	if err != nil {
		return h, fmt.Errorf("read history: %w", err)
	}
	for _, r := range raw {
		var it handoff.HistoryItem
		if json.Unmarshal([]byte(r), &it) != nil {
			continue
		}
		h.Recent = append(h.Recent, it)
	}
	// Newest first, whatever order the events arrived in.
	slices.SortStableFunc(h.Recent, func(a, b handoff.HistoryItem) int { return b.At.Compare(a.At) })
	for _, it := range h.Recent {
		h.Total++
		if it.Channel != "" {
			h.ByChannel[it.Channel]++
		}
		h.ByKind[string(it.Kind)]++
	}
	return h, nil
}

func (e *Enricher) push(ctx context.Context, key string, item handoff.HistoryItem) error {
	b, _ := json.Marshal(item)
	pipe := e.rdb.TxPipeline()
	pipe.LPush(ctx, key, b)
	pipe.LTrim(ctx, key, 0, int64(e.cfg.HistoryMax)-1)
	pipe.Expire(ctx, key, e.cfg.HistoryTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("append to history: %w", err)
	}
	return nil
}

// summarize is one line for the timeline: what happened and, for text, the
// first words.
func summarize(ev handoff.Event, text string) string {
	var b strings.Builder
	b.WriteString(strings.ReplaceAll(string(ev.Kind), "_", " "))
	switch {
	case ev.Campaign != "":
		b.WriteString(": " + ev.Campaign)
	case ev.Property != nil:
		b.WriteString(": " + ev.Property.Name + " = " + ev.Property.Value)
	}
	if text != "" {
		t := text
		if r := []rune(t); len(r) > 140 {
			t = string(r[:140]) + "…"
		}
		b.WriteString(": \"" + t + "\"")
	}
	return b.String()
}

// --- conversation ---

func convKey(k string) string { return "handoff:enrich:conv:" + k }

func (e *Enricher) conversation(ctx context.Context, ev handoff.Event, c handoff.Context) (handoff.ConversationFacts, error) {
	f := handoff.ConversationFacts{ID: ev.ConversationKey(), OwnerState: handoff.OwnerAgent}
	if f.ID == "" {
		return f, nil
	}
	key := convKey(f.ID)
	isTurn := c.Event.Text != "" || ev.Agent != nil
	var out handoff.ConversationFacts
	txf := func(tx *redis.Tx) error {
		st, err := tx.HGetAll(ctx, key).Result()
		if err != nil {
			return err
		}
		turns, _ := strconv.ParseInt(st["turns"], 10, 64)
		nop, _ := strconv.ParseInt(st["no_progress"], 10, 64)
		first, hasFirst := parseFloat(st["first_sentiment"])
		last, _ := parseFloat(st["last_sentiment"])
		out = f
		already := ev.DedupeKey != "" && st["last_event"] == ev.DedupeKey
		if !isTurn || already {
			out.Turns, out.TurnsWithoutProgress = turns, nop
			if hasFirst {
				out.SentimentTrend = last - first
			}
			return nil
		}
		var topics []string
		_ = json.Unmarshal([]byte(st["topics"]), &topics)
		progress := false
		for _, t := range c.Signals.Topics {
			if !slices.Contains(topics, t) {
				topics = append(topics, t)
				progress = true
			}
		}
		if prev, ok := parseFloat(st["confidence"]); ok && c.Agent.HasConfidence && c.Agent.Confidence > prev {
			progress = true
		}
		if prevStage, ok := st["stage"]; ok && c.Deal.Stage != prevStage {
			progress = true
		}
		turns++
		if progress {
			nop = 0
		} else {
			nop++
		}
		fields := map[string]any{"turns": turns, "no_progress": nop, "stage": c.Deal.Stage, "last_event": ev.DedupeKey}
		slices.Sort(topics)
		tb, _ := json.Marshal(topics)
		fields["topics"] = string(tb)
		if c.Agent.HasConfidence {
			fields["confidence"] = c.Agent.Confidence
		}
		if c.Event.Text != "" {
			s := c.Signals.Sentiment
			if !hasFirst {
				first, hasFirst = s, true
				fields["first_sentiment"] = s
			}
			last = s
			fields["last_sentiment"] = s
		}
		out.Turns, out.TurnsWithoutProgress = turns, nop
		if hasFirst {
			out.SentimentTrend = last - first
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, key, fields)
			p.Expire(ctx, key, e.cfg.HistoryTTL)
			return nil
		})
		return err
	}
	for range 10 {
		err := e.rdb.Watch(ctx, txf, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return f, fmt.Errorf("update conversation state: %w", err)
		}
		return out, nil
	}
	return f, fmt.Errorf("update conversation state: too much contention on %s", f.ID)
}

func parseFloat(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}
