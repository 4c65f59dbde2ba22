package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"

	"github.com/handoff-dev/handoff/internal/testredis"
)

func TestBaselineEnqueuesOneTaskPerEvent(t *testing.T) {
	rdb := testredis.New(t).Client(t)
	e := echo.New()
	e.POST("/webhooks/*", handler(asynq.NewClientFromRedisClient(rdb), 8))
	srv := httptest.NewServer(e)
	defer srv.Close()

	post := func(id, events string) ack {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/hubspot", strings.NewReader(strings.Repeat("x", 1000)))
		req.Header.Set("X-Load-ID", id)
		req.Header.Set("X-Load-Events", events)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var a ack
		if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&a) != nil {
			t.Fatalf("status %d", res.StatusCode)
		}
		return a
	}
	if a := post("req-1", "100"); a.Accepted != 100 || a.Duplicates != 0 {
		t.Errorf("first: %+v", a)
	}
	if a := post("req-1", "100"); a.Accepted != 0 || a.Duplicates != 100 {
		t.Errorf("resend: %+v", a)
	}
	if a := post("req-2", "3"); a.Accepted != 3 {
		t.Errorf("second: %+v", a)
	}
	info, err := asynq.NewInspectorFromRedisClient(rdb).GetQueueInfo("events")
	if err != nil || info.Size != 103 {
		t.Fatalf("queue %+v %v, want 103 tasks", info, err)
	}
}
