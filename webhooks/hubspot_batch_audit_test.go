package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/webhooks"
)

// docs/crm/hubspot.md §1.1: association events add associationType, fromObjectId, toObjectId,
// associationRemoved and isPrimaryAssociation; the doc does not settle
// whether they carry objectId too. Without it the whole batch used to be
// refused (400, so HubSpot redelivered it ten times and then dropped it).
func TestAssociationEventWithoutObjectID(t *testing.T) {
	body := []byte(`[{"eventId":7,"subscriptionId":12347,"portalId":62515,"appId":54321,"occurredAt":1764000000002,` +
		`"subscriptionType":"contact.associationChange","attemptNumber":0,"changeSource":"USER","associationType":"CONTACT_TO_COMPANY",` +
		`"fromObjectId":1001,"toObjectId":2002,"associationRemoved":false,"isPrimaryAssociation":true},` +
		`{"eventId":8,"subscriptionId":12348,"portalId":62515,"appId":54321,"occurredAt":1764000000003,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":1003}]`)
	evs, unknown, err := webhooks.ParseHubSpotBatch(body, time.Now())
	if err != nil || unknown != 0 || len(evs) != 2 {
		t.Fatalf("parse: %v, %d unknown, %d events", err, unknown, len(evs))
	}
	a := evs[0]
	if a.Kind != handoff.KindAssociationChange || a.Object == nil || a.Object.ID != "1001" || a.Contact.ID != "1001" ||
		a.Attributes["to_object_id"] != "2002" || a.Attributes["is_primary_association"] != "true" {
		t.Fatalf("association event %+v", a)
	}
	// Still required where the doc has it: a creation without objectId is refused.
	if _, _, err := webhooks.ParseHubSpotBatch([]byte(`[{"eventId":9,"portalId":62515,"occurredAt":1764000000003,"subscriptionType":"contact.creation"}]`), time.Now()); err == nil {
		t.Fatal("creation without objectId accepted")
	}
}

// docs/crm/hubspot.md §1.3: answer 2xx for what is deliberately ignored; an empty batch has
// nothing to store and a redelivery would not change that. It used to be
// a 400.
func TestEmptyBatchIsAcknowledged(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	r := newRig(t, rdb, nil)
	u := r.base + "/webhooks/hubspot"
	body := []byte(`[]`)
	res := post(t, u, body, hubspotV3(hsSecret, "POST", u, body, nowMS()))
	if res.status != 200 {
		t.Fatalf("empty batch: %d %s", res.status, res.body)
	}
	if a, d := ackCounts(t, res.body); a != 0 || d != 0 {
		t.Fatalf("ack %d/%d", a, d)
	}
	// Unsigned, it is still refused.
	if res := post(t, u, body, nil); res.status != 401 {
		t.Fatalf("unsigned empty batch: %d", res.status)
	}
}

// docs/crm/hubspot.md §1.1/§7: conversation.newMessage with messageType COMMENT is an internal
// note, not something the buyer wrote; it used to become a chat message.
func TestConversationCommentIsNotAChatMessage(t *testing.T) {
	body := []byte(`[{"eventId":3269195544,"subscriptionId":2371671,"portalId":23428445,"appId":2438486,"occurredAt":1702439388898,"subscriptionType":"conversation.newMessage","attemptNumber":0,"objectId":6065362089,"messageId":"9b38dc6d5b5744a788931a9cf3a7b225","messageType":"MESSAGE","changeFlag":"NEW_MESSAGE"},` +
		`{"eventId":3269195545,"subscriptionId":2371671,"portalId":23428445,"appId":2438486,"occurredAt":1702439388899,"subscriptionType":"conversation.newMessage","attemptNumber":0,"objectId":6065362089,"messageId":"9b38dc6d5b5744a788931a9cf3a7b226","messageType":"COMMENT","changeFlag":"NEW_MESSAGE"}]`)
	evs, unknown, err := webhooks.ParseHubSpotBatch(body, time.Now())
	if err != nil || unknown != 0 || len(evs) != 2 {
		t.Fatalf("parse: %v, %d unknown, %d events", err, unknown, len(evs))
	}
	if evs[0].Kind != handoff.KindChatMessage {
		t.Fatalf("MESSAGE: kind %s", evs[0].Kind)
	}
	c := evs[1]
	if c.Kind != handoff.KindOther || c.Attributes["message_type"] != "COMMENT" || c.ConversationID != "6065362089" || c.Message == nil || c.Message.ID != "9b38dc6d5b5744a788931a9cf3a7b226" {
		t.Fatalf("COMMENT: %+v", c)
	}
	if c.DedupeKey == evs[0].DedupeKey {
		t.Fatal("two messages share a dedupe key")
	}
}

// docs/crm/hubspot.md §2.3: HubSpot's decoding table shows upper-case escapes only; whether
// lower-case ones (%3a) are decoded too is UNCONFIRMED. Both readings are
// accepted; a signature over the undecoded upper-case form stays refused
// (vector B's negative case).
func TestV3LowerCaseEscapesEitherReading(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	r := newRig(t, rdb, nil)
	body := hubspotBatch(1, 62515)
	u := r.base + "/webhooks/hubspot?src=hs%3aapp%2fv3&n=1"
	decoded := r.base + "/webhooks/hubspot?src=hs:app/v3&n=1"
	for name, signed := range map[string]string{"lower-case kept": u, "lower-case decoded": decoded} {
		if res := post(t, u, body, hubspotV3(hsSecret, "POST", signed, body, nowMS())); res.status != 200 {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
	up := r.base + "/webhooks/hubspot?src=hs%3Aapp&n=2"
	h := hubspotV3("x", "POST", "", nil, nowMS()) // headers only; the signature is replaced below
	m := hmac.New(sha256.New, []byte(hsSecret))
	m.Write([]byte("POST" + up + string(body) + h.Get("X-HubSpot-Request-Timestamp")))
	h.Set("X-HubSpot-Signature-v3", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	if res := post(t, up, body, h); res.status != 401 {
		t.Fatalf("signed over undecoded %%3A: %d %s", res.status, res.body)
	}
}
