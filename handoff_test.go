package handoff

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestKindsAreUnique(t *testing.T) {
	seen := map[Kind]bool{}
	for _, k := range Kinds {
		if seen[k] {
			t.Fatalf("kind %q listed twice", k)
		}
		seen[k] = true
	}
}

func TestIsPermanent(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{&PermanentError{CRM: SourceHubSpot, Status: 400, Code: "VALIDATION_ERROR"}, true},
		{fmt.Errorf("create task: %w", &PermanentError{CRM: SourceSalesforce}), true},
		{&AuthError{CRM: SourceHubSpot, Refreshable: false}, true},
		{&AuthError{CRM: SourceHubSpot, Refreshable: true}, false},
		{&RateLimitError{CRM: SourceMarketo, RetryAfter: time.Second}, false},
		{&TransientError{CRM: SourceMarketo, Status: 503, Err: errors.New("down")}, false},
		{errors.New("plain"), false},
	}
	for _, c := range cases {
		if got := IsPermanent(c.err); got != c.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestEventTextIgnoresOutbound(t *testing.T) {
	e := Event{Message: &Message{Text: "hi", Direction: Outbound}}
	if e.Text() != "" {
		t.Fatalf("outbound text returned as buyer text")
	}
	e.Message.Direction = Inbound
	if e.Text() != "hi" {
		t.Fatalf("Text() = %q", e.Text())
	}
}

func TestDecisionMatched(t *testing.T) {
	d := Decision{RungID: "pricing"}
	if d.Matched() != "pricing" || !(Decision{Action: ActionHold}).Escalates() || (Decision{Action: ActionContinue}).Escalates() {
		t.Fatal("Matched/Escalates wrong")
	}
	d.ExceptionID = "regulated"
	if d.Matched() != "regulated" {
		t.Fatal("exception should win")
	}
}

func TestConversationKey(t *testing.T) {
	cases := []struct {
		ev   Event
		want string
	}{
		{Event{Source: SourceAgent, ConversationID: "conv_42", Contact: ContactRef{Email: "a@b"}}, "conv_42"},
		{Event{Source: SourceHubSpot, Tenant: "62515", Contact: ContactRef{ID: "123"}}, "hubspot:62515:123"},
		{Event{Source: SourceAgent, Tenant: "t", Contact: ContactRef{CRM: SourceSalesforce, Tenant: "00D1", Email: "Ana@Acme.example"}}, "salesforce:00D1:ana@acme.example"},
		{Event{Source: SourceMarketo, Tenant: "m"}, ""},
	}
	for _, c := range cases {
		if got := c.ev.ConversationKey(); got != c.want {
			t.Errorf("ConversationKey(%+v) = %q, want %q", c.ev, got, c.want)
		}
	}
}
