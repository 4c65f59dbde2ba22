package main

import "testing"

const (
	vecSecret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
	vecURL    = "https://www.example.com/webhook_uri"
	vecBody1  = `[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]`
	vecBodyPy = `{'example_field':'example_value'}`
)

// The official vectors of docs/crm/hubspot.md §2.4 (1-8) and the self-made A/B.
func TestHubSpotSignatureVectors(t *testing.T) {
	cases := []struct {
		name string
		got  string
		want string
	}{
		{"1 v1", hubspotV1(vecSecret, []byte(vecBody1)), "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"},
		{"2 v1", hubspotV1(vecSecret, []byte(vecBodyPy)), "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"},
		{"3 v2 GET", hubspotV2(vecSecret, "GET", vecURL, nil), "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"},
		{"4 v2", hubspotV2(vecSecret, "POST", vecURL, []byte(`{"example_field":"example_value"}`)), "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"},
		{"5 v2", hubspotV2(vecSecret, "POST", vecURL, []byte(vecBodyPy)), "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"},
		{"6 v3", hubspotV3(vecSecret, "POST", vecURL, []byte(vecBodyPy), "15000000"), "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="},
		{"7 v3", hubspotV3(vecSecret, "POST", vecURL, []byte(vecBodyPy), "1693657560000"), "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="},
		{"8 v3", hubspotV3(vecSecret, "POST", vecURL, []byte(vecBodyPy), "1700000300000"), "RnbPH7+UMKVkbV32P8bz450N4M56aPmcru1+D3kSDtw="},
		{"A v3", hubspotV3(vecSecret, "POST", vecURL, []byte(vecBody1), "1700000000000"), "/pXDSgWeGksQpwCsgqd43P0eY6gBIse9UX0tfkudUrE="},
		{"B v3 decoded URI", hubspotV3(vecSecret, "POST", vecURL+"?src=hs%3Aapp%2Fv3&x=%28a%29&q=a%20b", []byte(vecBody1), "1700000000000"), "NewrpcE3DZp3S57FK686hb/ibGdFf6CYQEcLUHrudIM="},
		{"B lower-case escapes", hubspotV3(vecSecret, "POST", vecURL+"?src=hs%3aapp%2fv3&x=%28a%29&q=a%20b", []byte(vecBody1), "1700000000000"), "NewrpcE3DZp3S57FK686hb/ibGdFf6CYQEcLUHrudIM="},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("vector %s: got %s, want %s", c.name, c.got, c.want)
		}
	}
	// B's negative: the undecoded URL gives another signature, which the
	// decoder must not produce.
	const undecoded = "9a+9u9KmArSgXrIPmDzpaWaLMYUxm3HIFij7SfkYy8s="
	if got := hubspotV3(vecSecret, "POST", vecURL+"?src=hs%3Aapp%2Fv3&x=%28a%29&q=a%20b", []byte(vecBody1), "1700000000000"); got == undecoded {
		t.Errorf("vector B signed the undecoded URI")
	}
	if got := hubspotURIDecoder.Replace("/a?q=a%20b%26c%3Dd%3A"); got != "/a?q=a%20b%26c%3Dd:" {
		t.Errorf("only the 12 escapes are decoded: got %s", got)
	}
}

// The Standard Webhooks specification's example
// (github.com/standard-webhooks/standard-webhooks, spec/standard-webhooks.md).
func TestStandardWebhookSignatureVector(t *testing.T) {
	key, err := standardWebhookKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := standardWebhookSignature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := standardWebhookKey("whsec_!!!"); err == nil {
		t.Error("bad base64 after whsec_ accepted")
	}
	raw, err := standardWebhookKey("plain-secret")
	if err != nil || string(raw) != "plain-secret" {
		t.Errorf("raw secret: %q %v", raw, err)
	}
}
