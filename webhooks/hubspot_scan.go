package webhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// A small, allocation-light decoder for HubSpot webhook batches. The
// events are flat objects of scalars, so a hand-written scanner decodes a
// 100-event batch several times faster than encoding/json (which validates
// the whole input, then reflects over each field). It accepts exactly
// standard JSON and decodes fields as encoding/json would into hsEvent
// (case-insensitive keys, null leaves a field unchanged, ids as numbers or
// numeric strings); FuzzHubSpotScanMatchesEncodingJSON checks the two
// agree. It stops at MaxBatch+1 events, so memory stays bounded.

var errScanEOF = errors.New("unexpected end of JSON input")

type jscan struct {
	b     []byte
	text_ string // the same bytes, converted once: substrings cost nothing
	i     int
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

func (s *jscan) errf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", s.i, fmt.Sprintf(format, args...))
}

// peek returns the next non-space byte, or 0 at the end.
func (s *jscan) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *jscan) expect(c byte) error {
	if s.peek() != c {
		if s.i >= len(s.b) {
			return errScanEOF
		}
		return s.errf("want %q, found %q", c, s.b[s.i])
	}
	s.i++
	return nil
}

// str decodes a JSON string at the cursor.
func (s *jscan) str() (string, error) {
	if s.peek() != '"' {
		return "", s.errf("want a string")
	}
	start := s.i
	s.i++
	simple := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			seg := s.b[start+1 : s.i-1]
			if simple && utf8.Valid(seg) {
				return s.sub(start+1, s.i-1), nil
			}
			// Escapes or invalid UTF-8: let encoding/json decode this one
			// token, with its exact rules.
			var out string
			if err := json.Unmarshal(s.b[start:s.i], &out); err != nil {
				return "", fmt.Errorf("invalid JSON string at byte %d", start)
			}
			return out, nil
		case c == '\\':
			simple = false
			s.i += 2
			continue
		case c < 0x20:
			return "", s.errf("control character in string")
		}
		s.i++
	}
	return "", errScanEOF
}

// key decodes an object key without allocating when it has no escapes.
func (s *jscan) key() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.errf("want a string")
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			if !utf8.Valid(s.b[start:j]) {
				break
			}
			s.i = j + 1
			return s.b[start:j], nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	v, err := s.str()
	return []byte(v), err
}

// num scans a JSON number and returns its text.
func (s *jscan) num() (string, error) {
	s.ws()
	start := s.i
	n := scanNumber(s.b[s.i:])
	if n == 0 {
		return "", s.errf("want a value")
	}
	s.i += n
	return s.sub(start, s.i), nil
}

func (s *jscan) sub(from, to int) string {
	if s.text_ != "" {
		return s.text_[from:to]
	}
	return string(s.b[from:to])
}

// scanNumber returns the length of the JSON number at the start of b, or 0.
func scanNumber(b []byte) int {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0
		}
	}
	return i
}

func isJSONNumber(s string) bool { return s != "" && scanNumber([]byte(s)) == len(s) }

func (s *jscan) lit(word string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return s.errf("want a value")
	}
	s.i += len(word)
	return nil
}

// maxDepth is encoding/json's limit on nested arrays and objects.
const maxDepth = 10000

// skip validates and skips any value; depth is the number of arrays and
// objects around it (0 at the top level), so that a value nested deeper
// than encoding/json allows is refused here too.
func (s *jscan) skip(depth int) error {
	if c := s.peek(); (c == '[' || c == '{') && depth >= maxDepth {
		return s.errf("nested too deeply")
	}
	switch c := s.peek(); {
	case c == 0:
		return errScanEOF
	case c == '"':
		_, err := s.str()
		return err
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return s.sepErr(']')
			}
		}
	case c == '{':
		s.i++
		if s.peek() == '}' {
			s.i++
			return nil
		}
		for {
			if _, err := s.str(); err != nil {
				return err
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case '}':
				s.i++
				return nil
			default:
				return s.sepErr('}')
			}
		}
	default:
		_, err := s.num()
		return err
	}
}

func (s *jscan) sepErr(closer byte) error {
	if s.i >= len(s.b) {
		return errScanEOF
	}
	return s.errf("want ',' or %q, found %q", closer, s.b[s.i])
}

// typeErr reports a value of the wrong JSON type for a field, after
// skipping it so the error names the field, like encoding/json.
func (s *jscan) typeErr(field, want string) error {
	kind := "value"
	switch c := s.peek(); {
	case c == '"':
		kind = "string"
	case c == '{':
		kind = "object"
	case c == '[':
		kind = "array"
	case c == 't' || c == 'f':
		kind = "bool"
	case c == '-' || (c >= '0' && c <= '9'):
		kind = "number"
	}
	if err := s.skip(0); err != nil {
		return err
	}
	return &fieldTypeError{fmt.Sprintf("field %s: want %s, got JSON %s", field, want, kind)}
}

// fieldTypeError is a well-formed value of the wrong type: decoding goes
// on (like encoding/json) and the first one is reported.
type fieldTypeError struct{ msg string }

func (e *fieldTypeError) Error() string { return e.msg }

func isFieldTypeError(err error) bool {
	var fe *fieldTypeError
	return errors.As(err, &fe)
}

func (s *jscan) isNull() bool {
	if s.peek() == 'n' && s.lit("null") == nil {
		return true
	}
	return false
}

// number decodes into a json.Number field: a number, a string holding a
// valid number, or null (unchanged).
func (s *jscan) number(dst *json.Number, field string) error {
	switch c := s.peek(); {
	case c == 'n':
		if s.isNull() {
			return nil
		}
		return s.errf("want a value")
	case c == '"':
		v, err := s.str()
		if err != nil {
			return err
		}
		if !isJSONNumber(v) {
			return &fieldTypeError{fmt.Sprintf("field %s: %q is not a number", field, v)}
		}
		*dst = json.Number(v)
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		v, err := s.num()
		if err != nil {
			return err
		}
		*dst = json.Number(v)
		return nil
	}
	return s.typeErr(field, "number")
}

func (s *jscan) text(dst *string, field string) error {
	switch s.peek() {
	case 'n':
		if s.isNull() {
			return nil
		}
		return s.errf("want a value")
	case '"':
		v, err := s.str()
		*dst = v
		return err
	}
	return s.typeErr(field, "string")
}

func (s *jscan) flex(dst **flexString, field string) error {
	switch c := s.peek(); {
	case c == 'n':
		if s.isNull() {
			*dst = nil
			return nil
		}
		return s.errf("want a value")
	case c == '"':
		v, err := s.str()
		if err != nil {
			return err
		}
		f := flexString(v)
		*dst = &f
		return nil
	case c == 't' || c == 'f':
		word := "true"
		if c == 'f' {
			word = "false"
		}
		if err := s.lit(word); err != nil {
			return err
		}
		f := flexString(word)
		*dst = &f
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		v, err := s.num()
		if err != nil {
			return err
		}
		f := flexString(v)
		*dst = &f
		return nil
	}
	return s.typeErr(field, "a string or a number")
}

func (s *jscan) boolean(dst **bool, field string) error {
	switch s.peek() {
	case 'n':
		if s.isNull() {
			*dst = nil
			return nil
		}
		return s.errf("want a value")
	case 't', 'f':
		v := s.b[s.i] == 't'
		word := "false"
		if v {
			word = "true"
		}
		if err := s.lit(word); err != nil {
			return err
		}
		*dst = &v
		return nil
	}
	return s.typeErr(field, "bool")
}

func (s *jscan) numbers(dst *[]json.Number, field string) error {
	switch s.peek() {
	case 'n':
		if s.isNull() {
			*dst = nil
			return nil
		}
		return s.errf("want a value")
	case '[':
	default:
		return s.typeErr(field, "array")
	}
	s.i++
	out := (*dst)[:0]
	if s.peek() == ']' {
		s.i++
		*dst = out
		return nil
	}
	var firstErr error
	for {
		var n json.Number
		if err := s.number(&n, field); err != nil {
			if !isFieldTypeError(err) {
				return err
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		out = append(out, n)
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			*dst = out
			return firstErr
		default:
			return s.sepErr(']')
		}
	}
}

// hsFields lists hsEvent's JSON keys, for case-insensitive matching.
var hsFields = []string{"eventId", "subscriptionId", "portalId", "appId", "occurredAt", "subscriptionType", "eventType",
	"attemptNumber", "objectId", "objectTypeId", "propertyName", "propertyValue", "changeSource", "changeFlag", "sourceId",
	"messageId", "messageType", "primaryObjectId", "mergedObjectIds", "newObjectId", "associationType", "fromObjectId",
	"toObjectId", "associationRemoved", "isPrimaryAssociation"}

// field decodes the value of key into e.
func (s *jscan) field(e *hsEvent, keyb []byte) error {
	switch string(keyb) {
	case "eventId":
		return s.number(&e.EventID, "eventId")
	case "subscriptionId":
		return s.number(&e.SubscriptionID, "subscriptionId")
	case "portalId":
		return s.number(&e.PortalID, "portalId")
	case "appId":
		return s.number(&e.AppID, "appId")
	case "occurredAt":
		return s.number(&e.OccurredAt, "occurredAt")
	case "subscriptionType":
		return s.text(&e.SubscriptionType, "subscriptionType")
	case "eventType":
		return s.text(&e.EventType, "eventType")
	case "attemptNumber":
		return s.number(&e.AttemptNumber, "attemptNumber")
	case "objectId":
		return s.number(&e.ObjectID, "objectId")
	case "objectTypeId":
		return s.text(&e.ObjectTypeID, "objectTypeId")
	case "propertyName":
		return s.text(&e.PropertyName, "propertyName")
	case "propertyValue":
		return s.flex(&e.PropertyValue, "propertyValue")
	case "changeSource":
		return s.text(&e.ChangeSource, "changeSource")
	case "changeFlag":
		return s.text(&e.ChangeFlag, "changeFlag")
	case "sourceId":
		return s.text(&e.SourceID, "sourceId")
	case "messageId":
		return s.text(&e.MessageID, "messageId")
	case "messageType":
		return s.text(&e.MessageType, "messageType")
	case "primaryObjectId":
		return s.number(&e.PrimaryObjectID, "primaryObjectId")
	case "mergedObjectIds":
		return s.numbers(&e.MergedObjectIDs, "mergedObjectIds")
	case "newObjectId":
		return s.number(&e.NewObjectID, "newObjectId")
	case "associationType":
		return s.text(&e.AssociationType, "associationType")
	case "fromObjectId":
		return s.number(&e.FromObjectID, "fromObjectId")
	case "toObjectId":
		return s.number(&e.ToObjectID, "toObjectId")
	case "associationRemoved":
		return s.boolean(&e.AssociationRemoved, "associationRemoved")
	case "isPrimaryAssociation":
		return s.boolean(&e.IsPrimaryAssociation, "isPrimaryAssociation")
	}
	for _, f := range hsFields {
		if bytes.EqualFold([]byte(f), keyb) {
			return s.field(e, []byte(f))
		}
	}
	return s.skip(2) // inside the batch array and the event object
}

// object decodes one event object.
func (s *jscan) object(e *hsEvent) error {
	if s.peek() != '{' {
		if s.isNull() {
			return nil // a null element decodes to an empty event
		}
		return s.typeErr("", "an event object")
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return nil
	}
	var typeErr error
	for {
		key, err := s.key()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := s.field(e, key); err != nil {
			if !isFieldTypeError(err) {
				return err
			}
			if typeErr == nil {
				typeErr = err // like encoding/json: keep going, report the first
			}
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return typeErr
		default:
			return s.sepErr('}')
		}
	}
}

// scanHubSpotBatch decodes a batch into events and the raw bytes of each.
func scanHubSpotBatch(body []byte) ([]hsEvent, []json.RawMessage, error) {
	s := &jscan{b: body, text_: string(body)}
	if s.peek() != '[' {
		if s.i >= len(body) {
			return nil, nil, errScanEOF
		}
		if err := s.skip(0); err != nil {
			return nil, nil, err
		}
		return nil, nil, errors.New("want a JSON array")
	}
	s.i++
	// About 250 bytes per event: size the slices once.
	n := min(MaxBatch, len(body)/200+1)
	events := make([]hsEvent, 0, n)
	raws := make([]json.RawMessage, 0, n)
	if s.peek() == ']' {
		s.i++
	} else {
		for {
			if len(events) == MaxBatch {
				return nil, nil, fmt.Errorf("batch has more than %d events", MaxBatch)
			}
			s.ws()
			start := s.i
			events = append(events, hsEvent{})
			if err := s.object(&events[len(events)-1]); err != nil {
				return nil, nil, fmt.Errorf("event %d: %w", len(events)-1, err)
			}
			raws = append(raws, json.RawMessage(body[start:s.i]))
			sep := s.peek()
			if sep == ',' {
				s.i++
				continue
			}
			if sep == ']' {
				s.i++
				break
			}
			return nil, nil, s.sepErr(']')
		}
	}
	if s.peek() != 0 {
		return nil, nil, s.errf("data after the array")
	}
	return events, raws, nil
}
