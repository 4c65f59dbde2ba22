package handoff

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestTraceValuesJSONIsAnOrderedObject(t *testing.T) {
	v := TraceValues{
		{Path: "signals.topics", Value: []string{"pricing"}},
		{Path: "account.tier", Value: "tier_1"},
		{Path: "thresholds.late_stage_probability", Value: 0.6},
		{Path: "contact.is_vip", Value: false},
		{Path: "html", Value: "<b>&</b>"},
	}
	b, err := json.Marshal(TraceStep{Kind: "rung", ID: "pricing", Values: v})
	if err != nil {
		t.Fatal(err)
	}
	want := `"values":{"signals.topics":["pricing"],"account.tier":"tier_1","thresholds.late_stage_probability":0.6,"contact.is_vip":false,"html":"\u003cb\u003e\u0026\u003c/b\u003e"}`
	if !strings.Contains(string(b), want) {
		t.Fatalf("encoded %s\nwant it to contain %s", b, want)
	}
	var back TraceStep
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	wantBack := TraceValues{
		{Path: "signals.topics", Value: []any{"pricing"}},
		{Path: "account.tier", Value: "tier_1"},
		{Path: "thresholds.late_stage_probability", Value: 0.6},
		{Path: "contact.is_vip", Value: false},
		{Path: "html", Value: "<b>&</b>"},
	}
	if !reflect.DeepEqual(back.Values, wantBack) {
		t.Fatalf("decoded %#v", back.Values)
	}
	if got := back.Values.Value("account.tier"); got != "tier_1" {
		t.Errorf("Value(account.tier) = %v", got)
	}
	if _, ok := back.Values.Get("deal.stage"); ok {
		t.Error("Get found a path that is not there")
	}
}

func TestTraceValuesJSONEdgeCases(t *testing.T) {
	// No values: the field is omitted, and decoding gives nil.
	b, err := json.Marshal(TraceStep{Kind: "rung", ID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "values") {
		t.Errorf("empty values encoded: %s", b)
	}
	var v TraceValues
	if err := json.Unmarshal([]byte(`null`), &v); err != nil || v != nil {
		t.Errorf("null decoded to %#v, %v", v, err)
	}
	if err := json.Unmarshal([]byte(`{}`), &v); err != nil || v == nil || len(v) != 0 {
		t.Errorf("{} decoded to %#v, %v", v, err)
	}
	for _, bad := range []string{`[1,2]`, `"x"`, `{"a":}`, `{"a":1`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s decoded without error", bad)
		}
	}
	// A value encoding/json cannot encode is an error naming the path.
	_, err = json.Marshal(TraceValues{{Path: "bad", Value: func() {}}})
	if err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("unencodable value: %v", err)
	}
}
