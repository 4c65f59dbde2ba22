package jobs

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/handoff-dev/handoff"
)

// Strings that exercise every escaping rule of encoding/json: HTML
// characters, U+2028/U+2029, control characters (short and \u forms),
// quotes and backslashes, invalid UTF-8 (replaced by U+FFFD), multi-byte
// runes.
var trickyStrings = []string{
	"", "plain", "<b>Tom & Jerry</b>", "line\u2028sep\u2029para", "nul\x00 bell\x07 esc\x1b del\x7f",
	"tab\t nl\n cr\r bs\b ff\f", `quote " backslash \ slash /`, "bad \xff\xfe utf8 \xc3", "emoji 🤝 ünïcödé 日本語",
	"trailing\xe2\x82", strings200(),
}

func strings200() string {
	var b bytes.Buffer
	for i := range 200 {
		b.WriteByte(byte(i%94 + 32))
	}
	return b.String()
}

func randomEvent(r *rand.Rand) handoff.Event {
	s := func() string { return trickyStrings[r.IntN(len(trickyStrings))] }
	zones := []*time.Location{time.UTC, time.FixedZone("X", -5*3600-30*60), time.FixedZone("Y", 14*3600)}
	tm := func() time.Time {
		if r.IntN(5) == 0 {
			return time.Time{}
		}
		return time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
	}
	ev := handoff.Event{
		Source: handoff.Source(s()), Tenant: s(), NativeID: s(), DedupeKey: s(), Kind: handoff.Kind(s()), Channel: s(),
		OccurredAt: tm(), ReceivedAt: tm(),
		Contact:        handoff.ContactRef{CRM: handoff.Source(s()), Tenant: s(), ID: s(), Type: s(), Email: s()},
		ConversationID: s(), Campaign: s(), Program: s(),
	}
	if r.IntN(2) == 0 {
		ev.Object = &handoff.ObjectRef{Type: s(), ID: s()}
	}
	if r.IntN(2) == 0 {
		ev.Property = &handoff.PropertyChange{Name: s(), Value: s(), Previous: s()}
	}
	if r.IntN(2) == 0 {
		ev.Message = &handoff.Message{ID: s(), Text: s(), Direction: handoff.Direction(s()), ThreadID: s()}
	}
	if r.IntN(2) == 0 {
		a := &handoff.AgentTurn{Turn: r.IntN(50) - 5, Reply: s(), ToolFailures: r.IntN(4), TranscriptURL: s()}
		if r.IntN(2) == 0 {
			c := []float64{0, 1, 0.7, 1e-9, 0.123456789}[r.IntN(5)]
			a.Confidence = &c
		}
		for range r.IntN(3) {
			a.Sources = append(a.Sources, s())
		}
		ev.Agent = a
	}
	switch r.IntN(3) {
	case 0: // nil
	case 1:
		ev.Attributes = map[string]string{}
	default:
		ev.Attributes = map[string]string{}
		for range r.IntN(6) + 1 {
			ev.Attributes[s()] = s()
		}
	}
	raws := []string{``, `{}`, `{"eventId":1,"propertyValue":"<b>&</b>","nested":{"a":[1,2.5e3,null,true]}}`, `[1,"x"]`, `"str"`, `123`}
	if raw := raws[r.IntN(len(raws))]; raw != "" {
		ev.Raw = json.RawMessage(raw)
	}
	return ev
}

// The ingest path encodes event payloads with goccy/go-json for speed; the
// bytes must be exactly what encoding/json produces, so a worker (which
// decodes with encoding/json) reads the same event either way.
func TestEventPayloadEncodingMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		ev := randomEvent(r)
		checkPayloadEncoding(t, i, ev)
		if t.Failed() {
			return
		}
	}
}

func checkPayloadEncoding(t *testing.T, i int, ev handoff.Event) {
	t.Helper()
	want, err := json.Marshal(EventPayload{V: EventPayloadVersion, Event: ev})
	if err != nil {
		t.Fatalf("event %d: encoding/json: %v", i, err)
	}
	task, err := NewEventTask(&ev)
	if err != nil {
		t.Fatalf("event %d: NewEventTask: %v", i, err)
	}
	if got := task.Payload(); !bytes.Equal(got, want) {
		t.Fatalf("event %d: payload differs from encoding/json\n got %s\nwant %s", i, got, want)
	}
	// Same bytes, so the worker decodes the same event; check it decodes.
	// (Times are not compared: RFC 3339 drops the seconds of a zone
	// offset such as -00:01:35, in both encoders.)
	p, err := DecodeEventPayload(task.Payload())
	if err != nil {
		t.Fatalf("event %d: decode: %v", i, err)
	}
	if p.Event.Contact.ID != utf8Valid(ev.Contact.ID) || p.Event.Tenant != utf8Valid(ev.Tenant) {
		t.Fatalf("event %d: round trip changed the event: %+v", i, p.Event)
	}
}

// utf8Valid is what a string becomes through JSON: invalid bytes turn into
// U+FFFD.
func utf8Valid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}

func FuzzEventPayloadEncoding(f *testing.F) {
	f.Add("hubspot", "<b>&</b>", "a\u2028b", "\xff", `{"a":"<x>"}`, int64(1764000000), int64(-18000))
	f.Add("", "", "", "", "", int64(0), int64(0))
	f.Fuzz(func(t *testing.T, a, b, c, d, raw string, sec, offset int64) {
		loc := time.FixedZone("z", int(offset%(18*3600)))
		ev := handoff.Event{
			Source: handoff.Source(a), Tenant: b, NativeID: c, DedupeKey: d, Kind: handoff.Kind(a + b),
			OccurredAt: time.Unix(sec%253402300799, 0).In(loc),
			Contact:    handoff.ContactRef{ID: c, Email: d},
			Message:    &handoff.Message{Text: b + c},
			Attributes: map[string]string{a: b, c: d, d: a},
		}
		if json.Valid([]byte(raw)) {
			ev.Raw = json.RawMessage(raw)
		}
		if _, err := json.Marshal(EventPayload{Event: ev}); err != nil {
			// encoding/json refuses it (e.g. a year outside 0..9999); the
			// fast encoder must refuse it too.
			if _, err2 := NewEventTask(&ev); err2 == nil {
				t.Fatalf("encoding/json refused (%v), NewEventTask did not", err)
			}
			return
		}
		checkPayloadEncoding(t, 0, ev)
	})
}
