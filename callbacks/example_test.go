package callbacks_test

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"os"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// A receiver of Handoff's callbacks verifies each request with the
// Standard Webhooks library (fixtures/agent/README.md has the same in
// Python and Node).
func Example_receiver() {
	wh, err := standardwebhooks.NewWebhook(os.Getenv("AGENT_CALLBACK_SECRET")) // "whsec_..."
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/agent/callbacks", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || wh.Verify(body, r.Header) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(body, &ev)
		// dedupe on r.Header.Get("webhook-id"), then handle ev
		w.WriteHeader(http.StatusNoContent)
	})
}
