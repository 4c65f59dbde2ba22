package webhooks_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/handoff-dev/handoff/internal/testredis"
)

// The shared-secret header the Marketo notes recommend is also
// "Authorization: Bearer {{my.WebhookSecret}}"; it is accepted beside
// X-Handoff-Secret, and checked just as strictly.
func TestMarketoBearerSecret(t *testing.T) {
	r := newRig(t, testredis.New(t).Client(t), nil)
	body := fixture(t, "marketo/page_visit.json")
	bearer := func(v string) http.Header {
		h := http.Header{}
		h.Set("Authorization", v)
		h.Set("Content-Type", "application/json")
		return h
	}
	for _, c := range []struct {
		name   string
		h      http.Header
		status int
	}{
		{"bearer", bearer("Bearer " + mktSecret), 200},
		{"bearer, scheme lower case", bearer("bearer " + mktSecret), 200},
		{"wrong bearer", bearer("Bearer guess"), 401},
		{"basic is not a bearer", bearer("Basic " + mktSecret), 401},
	} {
		if res := post(t, r.base+"/webhooks/marketo", body, c.h); res.status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, res.status, res.body, c.status)
		}
	}
}

// A webhook with Request Token Encoding Form/Url and a form template is
// accepted like the JSON one (the doc's receivers take "JSON or form").
func TestMarketoFormBody(t *testing.T) {
	r := newRig(t, testredis.New(t).Client(t), nil)
	h := http.Header{}
	h.Set("X-Handoff-Secret", mktSecret)
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	form := "lead_id=318581&email=ana%40acme.example&kind=form_submission&occurred_at=2026-11-22+10%3A00%3A00&fields%5Bcompany%5D=Acme+%26+Co"
	res := post(t, r.base+"/webhooks/marketo", []byte(form), h)
	if res.status != 200 || !strings.Contains(res.body, `"accepted":1`) {
		t.Fatalf("form call: %d %s", res.status, res.body)
	}
	// The same call as JSON is the same event: a duplicate.
	h.Set("Content-Type", "application/json")
	js := `{"lead_id": 318581, "email": "ana@acme.example", "kind": "form_submission", "occurred_at": "2026-11-22 10:00:00", "fields": {"company": "Acme & Co"}}`
	res = post(t, r.base+"/webhooks/marketo", []byte(js), h)
	if res.status != 200 || !strings.Contains(res.body, `"duplicates":1`) {
		t.Fatalf("JSON twin of the form call: %d %s", res.status, res.body)
	}
	res = post(t, r.base+"/webhooks/marketo", []byte("email=ana%40acme.example&kind=form_submission"), h)
	if res.status != 400 || !strings.Contains(res.body, "lead_id") {
		t.Fatalf("form without lead_id: %d %s", res.status, res.body)
	}
}
