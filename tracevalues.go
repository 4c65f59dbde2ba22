package handoff

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// TraceValue is one context value a condition read: the path (for example
// "account.tier" or "thresholds.late_stage_probability") and its value.
type TraceValue struct {
	Path  string
	Value any
}

// TraceValues are the values one trace step saw, in a fixed order (sorted
// by path for conditions). They are a slice rather than a map because a
// decision builds one per rung on the hot path: a ladder shares one backing
// array across the whole trace, where maps cost an allocation each. In JSON
// they are an object, {"account.tier":"tier_1",...}, keys in slice order.
type TraceValues []TraceValue

// Get returns the value read at path.
func (v TraceValues) Get(path string) (any, bool) {
	for _, x := range v {
		if x.Path == path {
			return x.Value, true
		}
	}
	return nil, false
}

// Value returns the value read at path, or nil.
func (v TraceValues) Value(path string) any {
	x, _ := v.Get(path)
	return x
}

// MarshalJSON writes the values as one JSON object, keys in slice order.
func (v TraceValues) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(x.Path)
		if err != nil {
			return nil, fmt.Errorf("encoding trace value path %q: %w", x.Path, err)
		}
		b.Write(k)
		b.WriteByte(':')
		val, err := json.Marshal(x.Value)
		if err != nil {
			return nil, fmt.Errorf("encoding trace value %q: %w", x.Path, err)
		}
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a JSON object, keeping its key order. Values decode
// as encoding/json decodes into any (numbers as float64, lists as []any).
func (v *TraceValues) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		*v = nil
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	t, err := dec.Token()
	if err != nil {
		return fmt.Errorf("decoding trace values: %w", err)
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("decoding trace values: want a JSON object, got %v", t)
	}
	out := TraceValues{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("decoding trace values: %w", err)
		}
		k, _ := t.(string) // object keys are always strings
		var val any
		if err := dec.Decode(&val); err != nil {
			return fmt.Errorf("decoding trace value %q: %w", k, err)
		}
		out = append(out, TraceValue{Path: k, Value: val})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return fmt.Errorf("decoding trace values: %w", err)
	}
	*v = out
	return nil
}
