package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRunJSONReportAndEnvSecrets(t *testing.T) {
	var gotSig, gotTS string
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotSig, gotTS = r.Header.Get("X-HubSpot-Signature-v3"), r.Header.Get("X-HubSpot-Request-Timestamp")
		gotBody, _ = io.ReadAll(r.Body)
		w.Write([]byte(`{"status":"ok","received":2,"accepted":2,"duplicates":0}`))
	}))
	defer srv.Close()
	env := map[string]string{"HUBSPOT_CLIENT_SECRET": "from-env", "PUBLIC_BASE_URL": "https://handoff.example.com/"}
	var out, errOut strings.Builder
	code := run(t.Context(), []string{"--target", srv.URL, "--batch", "2", "--requests", "3", "--concurrency", "1", "--json"},
		func(k string) string { return env[k] }, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var rep report
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("json report: %v\n%s", err, out.String())
	}
	if rep.Sent != 3 || rep.Acked != 3 || rep.EventsAcked != 6 || rep.Source != "hubspot" || rep.Batch != 2 {
		t.Errorf("report %+v", rep)
	}
	// Signed over PUBLIC_BASE_URL (trailing slash trimmed), not the target.
	if want := hubspotV3("from-env", "POST", "https://handoff.example.com/webhooks/hubspot", gotBody, gotTS); gotTS == "" || gotSig != want {
		t.Errorf("signature %q, want %q", gotSig, want)
	}
}

func TestRunUsageErrors(t *testing.T) {
	env := func(string) string { return "" }
	for _, args := range [][]string{
		{"--source", "hubspot"}, // no secret
		{"--source", "zendesk", "--marketo-secret", "m"},
		{"--batch", "101", "--hubspot-secret", "s"},
		{"--duration", "0s", "--hubspot-secret", "s"},
		{"--duration", "2h", "--hubspot-secret", "s"},
		{"--duplicates", "1", "--hubspot-secret", "s"},
		{"--rate", "-1", "--hubspot-secret", "s"},
		{"--source", "agent", "--agent-secret", "whsec_!!"},
		{"--source", "salesforce", "--salesforce-org", "00D"},
	} {
		var out, errOut strings.Builder
		if code := run(t.Context(), args, env, &out, &errOut); code != 2 || errOut.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut.String())
		}
	}
}
