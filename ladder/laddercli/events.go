package laddercli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/handoff-dev/handoff"
)

// Event is one recorded context to replay, with a name for reports.
type Event struct {
	Name    string
	Context handoff.Context
}

// wrapper is the audit-stream shape: {"context": {...}, "event": {...}}.
type wrapper struct {
	ID      string          `json:"id"`
	Context json.RawMessage `json:"context"`
	Event   *handoff.Event  `json:"event"`
}

// ReadEvents reads contexts from files or directories (every .json and
// .jsonl file in them, sorted). A file holds one JSON object, a JSON array
// of objects, or JSON lines. Each object is a handoff.Context, or an object
// with "context" (a handoff.Context) and optionally "event" (the
// handoff.Event, used to fill the context's event facts when they are
// empty) and "id".
func ReadEvents(paths ...string) ([]Event, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("read events dir: %w", err)
		}
		var in []string
		for _, e := range entries {
			if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".json" || ext == ".jsonl") {
				in = append(in, filepath.Join(p, e.Name()))
			}
		}
		sort.Strings(in)
		files = append(files, in...)
	}
	var out []Event
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		evs, err := ParseEvents(filepath.Base(f), data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, evs...)
	}
	return out, nil
}

// ParseEvents parses the contents of one events file; name prefixes the
// names of the events ("file.json#2").
func ParseEvents(name string, data []byte) ([]Event, error) {
	var raws []json.RawMessage
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("no events in file")
	}
	if trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, fmt.Errorf("parse JSON array: %w", err)
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		for {
			var r json.RawMessage
			if err := dec.Decode(&r); err == io.EOF {
				break
			} else if err != nil {
				return nil, fmt.Errorf("parse event %d: %w", len(raws)+1, err)
			}
			raws = append(raws, r)
		}
	}
	if len(raws) == 0 {
		return nil, errors.New("no events in file")
	}
	out := make([]Event, 0, len(raws))
	for i, r := range raws {
		ev, err := parseEvent(r)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i+1, err)
		}
		if ev.Name == "" {
			ev.Name = name
			if len(raws) > 1 {
				ev.Name = fmt.Sprintf("%s#%d", name, i+1)
			}
		}
		out = append(out, ev)
	}
	return out, nil
}

func parseEvent(raw json.RawMessage) (Event, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return Event{}, fmt.Errorf("want a JSON object: %w", err)
	}
	if _, ok := keys["context"]; ok {
		var w wrapper
		if err := json.Unmarshal(raw, &w); err != nil {
			return Event{}, err
		}
		c, err := decodeContext(w.Context)
		if err != nil {
			return Event{}, err
		}
		if w.Event != nil {
			fillEventFacts(&c, w.Event)
		}
		name := w.ID
		if name == "" && w.Event != nil {
			name = w.Event.NativeID
		}
		return Event{Name: name, Context: c}, nil
	}
	c, err := decodeContext(raw)
	if err != nil {
		return Event{}, err
	}
	return Event{Context: c}, nil
}

// blankContext is the context a hand-written event starts from: what the
// enricher sets when the event says nothing, so that a case or an explained
// event decides as it would live. (agent.confidence is 1 when the agent did
// not report one; a zero would read as "not confident at all".)
func blankContext() handoff.Context {
	return handoff.Context{Agent: handoff.AgentFacts{Confidence: 1}}
}

// decodeContext decodes a handoff.Context strictly, so that a typo in a
// hand-written event ("acount") is an error rather than an empty field,
// and fills the derived fields the enricher fills live (the industry
// class of a context recorded before it existed, or written by hand).
func decodeContext(raw json.RawMessage) (handoff.Context, error) {
	c := blankContext()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("parse context: %w", err)
	}
	c.Normalize()
	return c, nil
}

func fillEventFacts(c *handoff.Context, e *handoff.Event) {
	f := &c.Event
	if f.Source == "" {
		f.Source = string(e.Source)
	}
	if f.Kind == "" {
		f.Kind = string(e.Kind)
	}
	if f.Channel == "" {
		f.Channel = e.Channel
	}
	if f.Tenant == "" {
		f.Tenant = e.Tenant
	}
	if f.Text == "" {
		f.Text = e.Text()
	}
	if f.Campaign == "" {
		f.Campaign = e.Campaign
	}
	if e.Property != nil && f.Property == "" {
		f.Property, f.Value = e.Property.Name, e.Property.Value
	}
	if e.Agent != nil && !c.Agent.HasConfidence && e.Agent.Confidence != nil {
		c.Agent.Confidence, c.Agent.HasConfidence = *e.Agent.Confidence, true
	}
	if e.Agent != nil && e.Agent.Signals != nil {
		s, a := e.Agent.Signals, &c.Agent
		if a.Intents == nil {
			a.Intents = s.Intents
		}
		if !a.HasSentiment && s.Sentiment != nil {
			a.Sentiment, a.HasSentiment = *s.Sentiment, true
		}
		if a.Language == "" {
			a.Language = s.Language
		}
		a.HumanRequest = a.HumanRequest || s.HumanRequest
	}
	if c.Conversation.ID == "" {
		c.Conversation.ID = e.ConversationID
	}
}
