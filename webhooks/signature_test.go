package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

const (
	vecSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
	vecURL    = "https://www.example.com/webhook_uri"
	vecBody1  = `[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]`
	vecBodyPy = `{'example_field':'example_value'}`
)

// The official vectors of docs/crm/hubspot.md §2.4 (docs and SDK tests).
func TestHubSpotOfficialVectors(t *testing.T) {
	s := []byte(vecSecret)
	v1 := []struct{ body, want string }{
		{vecBody1, "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"},
		{vecBodyPy, "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"},
	}
	for _, c := range v1 {
		if got := HubSpotSignV1(s, []byte(c.body)); got != c.want {
			t.Errorf("v1(%s) = %s, want %s", c.body, got, c.want)
		}
		if err := VerifyHubSpotV1V2(s, "v1", "POST", vecURL, []byte(c.body), c.want); err != nil {
			t.Errorf("verify v1: %v", err)
		}
	}
	v2 := []struct{ method, body, want string }{
		{"GET", "", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"},
		{"POST", `{"example_field":"example_value"}`, "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"},
		{"POST", vecBodyPy, "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"},
	}
	for _, c := range v2 {
		if got := HubSpotSignV2(s, c.method, vecURL, []byte(c.body)); got != c.want {
			t.Errorf("v2(%s %s) = %s, want %s", c.method, c.body, got, c.want)
		}
		if err := VerifyHubSpotV1V2(s, "v2", c.method, vecURL, []byte(c.body), c.want); err != nil {
			t.Errorf("verify v2: %v", err)
		}
		if err := VerifyHubSpotV1V2(s, "v2", c.method, vecURL+"x", []byte(c.body), c.want); !errors.Is(err, errSigMismatch) {
			t.Errorf("verify v2 with another URL: %v, want mismatch", err)
		}
	}
	v3 := []struct{ ts, want string }{
		{"15000000", "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="},
		{"1693657560000", "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="},
		{"1700000300000", "RnbPH7+UMKVkbV32P8bz450N4M56aPmcru1+D3kSDtw="},
	}
	for _, c := range v3 {
		if got := HubSpotSignV3(s, "POST", vecURL, []byte(vecBodyPy), c.ts); got != c.want {
			t.Errorf("v3(ts %s) = %s, want %s", c.ts, got, c.want)
		}
		var ms int64
		for _, r := range c.ts {
			ms = ms*10 + int64(r-'0')
		}
		now := time.UnixMilli(ms).Add(time.Minute) // the clock is injected
		if err := VerifyHubSpotV3(s, "POST", vecURL, []byte(vecBodyPy), c.ts, c.want, now, 5*time.Minute); err != nil {
			t.Errorf("verify v3(ts %s): %v", c.ts, err)
		}
		if err := VerifyHubSpotV3(s, "POST", vecURL, []byte(vecBodyPy), c.ts, c.want, now.Add(5*time.Minute), 5*time.Minute); !errors.Is(err, errTSStale) {
			t.Errorf("verify v3(ts %s) 6 minutes later: %v, want stale", c.ts, err)
		}
	}
}

// The self-generated vectors A and B (B exercises the URI decoding table).
func TestHubSpotV3DecodingVectors(t *testing.T) {
	s := []byte(vecSecret)
	ts := "1700000000000"
	now := time.UnixMilli(1700000000000)
	if got := HubSpotSignV3(s, "POST", vecURL, []byte(vecBody1), ts); got != "/pXDSgWeGksQpwCsgqd43P0eY6gBIse9UX0tfkudUrE=" {
		t.Errorf("vector A = %s", got)
	}
	raw := "/webhook_uri?src=hs%3Aapp%2Fv3&x=%28a%29&q=a%20b"
	uri := HubSpotV3URI("https://www.example.com", raw)
	if uri != "https://www.example.com/webhook_uri?src=hs:app/v3&x=(a)&q=a%20b" {
		t.Fatalf("decoded URI = %s", uri)
	}
	if err := VerifyHubSpotV3(s, "POST", uri, []byte(vecBody1), ts, "NewrpcE3DZp3S57FK686hb/ibGdFf6CYQEcLUHrudIM=", now, 5*time.Minute); err != nil {
		t.Errorf("vector B: %v", err)
	}
	// Signed over the undecoded URL: must be refused.
	if err := VerifyHubSpotV3(s, "POST", uri, []byte(vecBody1), ts, "9a+9u9KmArSgXrIPmDzpaWaLMYUxm3HIFij7SfkYy8s=", now, 5*time.Minute); !errors.Is(err, errSigMismatch) {
		t.Errorf("vector B negative: %v, want mismatch", err)
	}
}

func TestHubSpotDecodeTable(t *testing.T) {
	in := "%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B|%3a%2f|%20%26%3D%25%41|%|%3|%ZZ"
	want := ":/?@!$'()*,;|:/|%20%26%3D%25%41|%|%3|%ZZ"
	if got := hubspotDecodeURI(in); got != want {
		t.Errorf("decode = %q, want %q", got, want)
	}
}

// independentV3 is a second, deliberately naive implementation of the v3
// scheme written from the documentation, not from our code.
func independentV3(secret, method, fullURL, body, ts string) string {
	decoded := fullURL
	for enc, dec := range map[string]string{"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"} {
		decoded = replaceAll(decoded, enc, dec)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(method + decoded + body + ts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func replaceAll(s, old, new string) string {
	out := ""
	for {
		i := indexOf(s, old)
		if i < 0 {
			return out + s
		}
		out += s[:i] + new
		s = s[i+len(old):]
	}
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestStandardWebhooksAgainstReferenceLibrary(t *testing.T) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, err := webhookKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"id":"turn_1"}`)
	now := time.Now()
	sig, err := ref.Sign("msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if ours := SignStandardWebhook(key, "msg_1", now.Unix(), body); ours != sig {
		t.Fatalf("our signature %s, reference %s", ours, sig)
	}
	h := http.Header{}
	h.Set(HeaderWebhookID, "msg_1")
	h.Set(HeaderWebhookTimestamp, itoa(now.Unix()))
	h.Set(HeaderWebhookSignature, "v1,bm90IGl0 "+sig) // rotation: any entry may match
	if err := VerifyStandardWebhook(key, h, body, now, 5*time.Minute); err != nil {
		t.Fatalf("verify reference signature: %v", err)
	}
	if err := ref.Verify(body, h); err != nil {
		t.Fatalf("reference verifies its own: %v", err)
	}
	cases := map[string]func(h http.Header, b []byte, now time.Time) (http.Header, []byte, time.Time){
		"one byte changed": func(h http.Header, b []byte, n time.Time) (http.Header, []byte, time.Time) {
			c := append([]byte(nil), b...)
			c[3] ^= 1
			return h, c, n
		},
		"stale": func(h http.Header, b []byte, n time.Time) (http.Header, []byte, time.Time) {
			return h, b, n.Add(6 * time.Minute)
		},
		"future": func(h http.Header, b []byte, n time.Time) (http.Header, []byte, time.Time) {
			return h, b, n.Add(-6 * time.Minute)
		},
		"other id": func(h http.Header, b []byte, n time.Time) (http.Header, []byte, time.Time) {
			c := h.Clone()
			c.Set(HeaderWebhookID, "msg_2")
			return c, b, n
		},
		"no signature": func(h http.Header, b []byte, n time.Time) (http.Header, []byte, time.Time) {
			c := h.Clone()
			c.Del(HeaderWebhookSignature)
			return c, b, n
		},
	}
	for name, mut := range cases {
		hh, bb, nn := mut(h, body, now)
		if err := VerifyStandardWebhook(key, hh, bb, nn, 5*time.Minute); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestWebhookKey(t *testing.T) {
	if _, err := webhookKey("whsec_!!!"); err == nil {
		t.Error("bad base64 accepted")
	}
	k, err := webhookKey("plain-secret")
	if err != nil || string(k) != "plain-secret" {
		t.Errorf("raw secret = %q, %v", k, err)
	}
}

func TestSecretEqual(t *testing.T) {
	if !secretEqual([]byte("abc"), []byte("abc")) || secretEqual([]byte("abc"), []byte("abd")) || secretEqual([]byte("abc"), []byte("abcd")) {
		t.Fatal("secretEqual is wrong")
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkHubSpotVerifyParse100 is the CPU cost of one 100-event batch:
// v3 verification (URI decoding, timestamp, HMAC) and parsing into events.
func BenchmarkHubSpotVerifyParse100(b *testing.B) {
	var sb strings.Builder
	sb.WriteByte('[')
	for i := range 100 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"eventId":%d,"subscriptionId":686627,"portalId":62515,"appId":7906213,"occurredAt":%d,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":%d,"propertyName":"lifecyclestage","propertyValue":"salesqualifiedlead","changeSource":"CRM_UI"}`,
			3029365000+i, 1764000000000+int64(i), 847297356000+int64(i))
	}
	sb.WriteByte(']')
	body := []byte(sb.String())
	secret := []byte(vecSecret)
	now := time.UnixMilli(1764000000000)
	ts := "1764000000000"
	reqURI := "/webhooks/hubspot"
	sig := HubSpotSignV3(secret, "POST", HubSpotV3URI("https://h.example", reqURI), body, ts)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyHubSpotV3(secret, "POST", HubSpotV3URI("https://h.example", reqURI), body, ts, sig, now, 5*time.Minute); err != nil {
			b.Fatal(err)
		}
		evs, _, err := ParseHubSpotBatch(body, now)
		if err != nil || len(evs) != 100 {
			b.Fatal(err)
		}
	}
}
