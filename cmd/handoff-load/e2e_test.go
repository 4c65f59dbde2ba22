package main

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/webhooks"
)

// The tool's independent signing against the server's verifiers, through
// the real routes and the real Ingester on Redis.
func TestLoadAgainstWebhooks(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	e := echo.New()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	sec := secrets{
		HubSpotClientSecret:  "hs-client-secret-load",
		PublicBaseURL:        "https://handoff.example.com",
		SalesforceOrgID:      "00Dxx0000000001EAA",
		MarketoWebhookSecret: "marketo-load-secret",
		AgentWebhookSecret:   "whsec_YWdlbnQtc2VjcmV0LWxvYWQtdGVzdA==",
	}
	h, err := webhooks.New(webhooks.Config{
		PublicBaseURL:        sec.PublicBaseURL,
		HubSpotClientSecret:  sec.HubSpotClientSecret,
		SalesforceOrgIDs:     []string{sec.SalesforceOrgID},
		MarketoWebhookSecret: sec.MarketoWebhookSecret,
		MarketoBaseURL:       "https://123-ABC-456.mktorest.com",
		AgentWebhookSecret:   sec.AgentWebhookSecret,
	}, jobs.NewIngester(asynq.NewClientFromRedisClient(rdb), rdb, jobs.IngestConfig{}), prometheus.NewRegistry(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Register(e)

	u, err := checkLoopback(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	runMix := func(start time.Time, requests int64, dups float64) report {
		gen, err := newGenerator(srcMix, 5, sec, start)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := newSigner(sec)
		if err != nil {
			t.Fatal(err)
		}
		opt := options{target: u, concurrency: 4, duration: time.Minute, requests: requests, duplicates: dups, timeout: 10 * time.Second, drain: 10 * time.Second}
		return newRunner(opt, gen, sig, sec.SalesforceOrgID, newClient(4, opt.timeout)).run(t.Context())
	}

	// 40 requests: 10 of each source; HubSpot and Salesforce carry 5 events.
	start := time.Now()
	rep := runMix(start, 40, 0)
	if rep.Acked != 40 || rep.Status["200"] != 40 || len(rep.Errors) > 0 {
		t.Fatalf("acked %d, status %v, errors %v (%s)", rep.Acked, rep.Status, rep.Errors, rep.LastError)
	}
	if rep.EventsAcked != 10*5+10*5+10+10 {
		t.Errorf("events acked %d, want 120", rep.EventsAcked)
	}
	// Every JSON route (all but Salesforce's SOAP) reports its counts:
	// nothing was a duplicate.
	if rep.JSONAcks != 30 || rep.EventsAccepted != 70 || rep.EventsDuplicates != 0 {
		t.Errorf("json acks %d, accepted %d, duplicates %d; want 30, 70, 0", rep.JSONAcks, rep.EventsAccepted, rep.EventsDuplicates)
	}
	insp := asynq.NewInspectorFromRedisClient(rdb)
	info, err := insp.GetQueueInfo(jobs.QueueEvents)
	if err != nil || info.Size != 120 {
		t.Fatalf("queue holds %v tasks (%v), want 120", info, err)
	}

	// A second run (another run id) with resends: the resends are
	// acknowledged as duplicates and store nothing.
	rep = runMix(start.Add(time.Second), 120, 0.3) // the run id is the start millisecond
	if rep.Acked != 120 || rep.Resent == 0 {
		t.Fatalf("acked %d, resent %d, status %v, errors %v", rep.Acked, rep.Resent, rep.Status, rep.Errors)
	}
	if rep.EventsDuplicates == 0 || rep.EventsAccepted+rep.EventsDuplicates > rep.EventsAcked {
		t.Errorf("accepted %d + duplicates %d vs acked %d", rep.EventsAccepted, rep.EventsDuplicates, rep.EventsAcked)
	}
	info, err = insp.GetQueueInfo(jobs.QueueEvents)
	if err != nil {
		t.Fatal(err)
	}
	// New tasks = events of first sends only (Salesforce's duplicates are not
	// reported in its SOAP ack, so count from the queue).
	if added := int64(info.Size - 120); added >= rep.EventsAcked || added < rep.EventsAccepted {
		t.Errorf("queue grew by %d; events acked %d, JSON-accepted %d", added, rep.EventsAcked, rep.EventsAccepted)
	}
}
