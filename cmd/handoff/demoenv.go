package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
	"github.com/handoff-dev/handoff/connectors/marketo/marketotest"
	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/ladder"
	"github.com/handoff-dev/handoff/webhooks"
)

// demoEnv is a whole Handoff running in-process against the three CRM
// fakes: the real HTTP server, the real worker, the real connectors and
// OAuth transports. `handoff demo` and the end-to-end tests use it.
type demoEnv struct {
	HubSpot    *hubspottest.Server
	Salesforce *salesforcetest.Server
	Marketo    *marketotest.Server

	Base       string // http://127.0.0.1:port
	AdminToken string
	Env        map[string]string
	app        *app
	clock      func() time.Time // the pipeline's time (nil: the wall clock), kept for restarts
	cancel     context.CancelFunc
	served     chan error

	hsSeed hubspottest.Seed
	sfSeed salesforcetest.Seed
	mkSeed marketotest.Seed

	hubspotSecret []byte
	sfKey         []byte
	agentKey      []byte
	marketoSecret string
	http          *http.Client
}

// demoOptions tune startDemo.
type demoOptions struct {
	Addr     string            // listen address; "" picks a free loopback port
	RedisURL string            // "" = embedded
	Extra    map[string]string // more environment (e.g. LADDER_FILE)
	Log      io.Writer         // service log (JSON); nil discards
	LogLevel string
	Role     string // serve role of the in-process app: "" = all (http + worker)
	// Clock is the pipeline's time (nil: the wall clock).
	Clock func() time.Time
}

// seedTeams adds every owner email of every team to the fakes' users (the
// ones a seed already has keep their ids): HubSpot owners, Salesforce
// users, Marketo's sales team.
func seedTeams(teams map[string]ladder.Team, hs hubspottest.Seed, sf salesforcetest.Seed, mk marketotest.Seed) (hubspottest.Seed, salesforcetest.Seed, marketotest.Seed) {
	team := map[string]string{} // email -> the first team naming it
	for _, id := range sortedKeys(teams) {
		for _, e := range teams[id].Owners {
			if e = strings.ToLower(strings.TrimSpace(e)); strings.Contains(e, "@") && team[e] == "" {
				team[e] = id
			}
		}
	}
	known := func(emails []string) map[string]bool {
		m := map[string]bool{}
		for _, e := range emails {
			m[strings.ToLower(e)] = true
		}
		return m
	}
	var hsEmails, sfEmails []string
	for _, o := range hs.Owners {
		hsEmails = append(hsEmails, o.Email)
	}
	for _, u := range sf.Users {
		sfEmails = append(sfEmails, u.Email)
	}
	hsKnown, sfKnown, mkKnown := known(hsEmails), known(sfEmails), known(mk.Owners)
	for i, e := range sortedKeys(team) {
		local, _, _ := strings.Cut(e, "@")
		first := strings.ToUpper(local[:1]) + local[1:]
		last := strings.ReplaceAll(team[e], "_", " ")
		if !hsKnown[e] {
			hs.Owners = append(hs.Owners, hubspottest.Owner{ID: strconv.Itoa(77000001 + i), Email: e, FirstName: first, LastName: last,
				UserID: int64(9200001 + i), Team: last})
		}
		if !sfKnown[e] {
			sf.Users = append(sf.Users, salesforcetest.User{ID: handoff.SalesforceID18(fmt.Sprintf("0055e00000T%04d", i)),
				FirstName: first, LastName: last, Email: e, Username: e, Title: last})
		}
		if !mkKnown[e] {
			mk.Owners = append(mk.Owners, e)
		}
	}
	return hs, sf, mk
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func mustRandom(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func stdSecret() (string, []byte) {
	k := make([]byte, 24)
	_, _ = rand.Read(k)
	return "whsec_" + base64.StdEncoding.EncodeToString(k), k
}

// startDemo starts the fakes and Handoff, installs the HubSpot portal and
// the Salesforce org through the real OAuth routes, and returns when the
// service is ready.
func startDemo(ctx context.Context, o demoOptions) (*demoEnv, error) {
	d := &demoEnv{http: &http.Client{Timeout: 30 * time.Second}, clock: o.Clock}
	// Every member of the ladder's teams is a user of each fake CRM, so a
	// route to a team lands on the member the decision names.
	lad, err := ladder.LoadOrDefault(o.Extra["LADDER_FILE"])
	if err != nil {
		return nil, fmt.Errorf("LADDER_FILE: %w", err)
	}
	d.hsSeed, d.sfSeed, d.mkSeed = seedTeams(lad.Teams(), hubspottest.DefaultSeed(), salesforcetest.DefaultSeed(), marketotest.DefaultSeed())
	if prop := o.Extra["HUBSPOT_OWNER_STATE_PROPERTY"]; prop != "" {
		// The portal has the custom contact property the mirror writes.
		d.hsSeed.ContactProperties = append(d.hsSeed.ContactProperties, prop)
	}
	d.HubSpot = hubspottest.New(d.hsSeed)
	d.Salesforce = salesforcetest.New(d.sfSeed)
	d.Marketo = marketotest.New(d.mkSeed)

	addr := o.Addr
	if addr == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		addr = l.Addr().String()
		l.Close()
	}
	d.Base = "http://" + addr
	d.AdminToken = randomHex(16)
	sfSecret, sfKey := stdSecret()
	agentSecret, agentKey := stdSecret()
	d.sfKey, d.agentKey = sfKey, agentKey
	d.marketoSecret = randomHex(16)

	hs := d.HubSpot.Config(d.Base)
	d.hubspotSecret = []byte(hs.ClientSecret)
	level := o.LogLevel
	if level == "" {
		level = "info"
	}
	env := map[string]string{
		"HTTP_ADDR": addr, "PUBLIC_BASE_URL": d.Base, "ADMIN_TOKEN": d.AdminToken, "LOG_LEVEL": level,
		"REDIS_URL": o.RedisURL,

		"HUBSPOT_CLIENT_ID": hs.ClientID, "HUBSPOT_CLIENT_SECRET": hs.ClientSecret, "HUBSPOT_APP_ID": hs.AppID,
		"HUBSPOT_API_BASE_URL": hs.APIBaseURL, "HUBSPOT_AUTH_URL": hs.AuthURL, "HUBSPOT_TOKEN_URL": hs.TokenURL,

		"SALESFORCE_ORG_IDS": salesforcetest.OrgID, "SALESFORCE_WEBHOOK_SECRET": sfSecret,

		"MARKETO_BASE_URL": d.Marketo.URL, "MARKETO_IDENTITY_URL": d.Marketo.IdentityURL,
		"MARKETO_CLIENT_ID": marketotest.ClientID, "MARKETO_CLIENT_SECRET": marketotest.ClientSecret,
		"MARKETO_MUNCHKIN_ID": marketotest.Munchkin, "MARKETO_TASK_TARGET": "campaign:" + strconv.Itoa(marketotest.CampaignID),
		"MARKETO_ACTIVITY_TYPE_ID": strconv.Itoa(marketotest.ActivityTypeID), "MARKETO_OWNER_EMAIL_FIELD": marketotest.OwnerEmailField, "MARKETO_WEBHOOK_SECRET": d.marketoSecret,

		"AGENT_WEBHOOK_SECRET": agentSecret,
		"TOKEN_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(mustRandom(32)),
		// The demo's worker picks retries up quickly.
		"JOB_RETRY_MAX_DELAY": "5s", "WORKER_POLL_INTERVAL": "20ms",
	}
	for k, v := range d.Salesforce.Env() {
		env[k] = v
	}
	for k, v := range o.Extra {
		env[k] = v
	}
	for k, v := range env {
		if v == "" {
			delete(env, k)
		}
	}
	d.Env = env

	cfg, err := loadConfig(ctx, envconfig.MapLookuper(env))
	if err != nil {
		d.Close()
		return nil, err
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	log := newLogger(cfg.Log, logw)
	role := o.Role
	if role == "" {
		role = roleAll
	}
	a, err := newApp(ctx, cfg, role, log, o.Clock)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.app = a
	l, err := net.Listen("tcp", addr)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.cancel = cancel
	d.served = make(chan error, 1)
	go func() { d.served <- a.serve(sctx, l) }()

	if err := d.waitReady(ctx, 15*time.Second); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.install(ctx, "/oauth/hubspot/install"); err != nil {
		d.Close()
		return nil, fmt.Errorf("install the HubSpot portal: %w", err)
	}
	return d, nil
}

func (d *demoEnv) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		resp, err := d.http.Get(d.Base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("handoff did not become ready within %s", within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// install runs an OAuth install the way a browser would: follow the
// redirects from our install route to the CRM's consent page (the fake
// approves) and back to our callback.
func (d *demoEnv) install(ctx context.Context, path string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.Base+path, nil)
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("is connected")) {
		return fmt.Errorf("install answered %d: %s", resp.StatusCode, firstLine(string(body)))
	}
	return nil
}

// Close stops Handoff (gracefully) and the fakes.
func (d *demoEnv) Close() {
	if d.cancel != nil {
		d.cancel()
		select {
		case <-d.served:
		case <-time.After(30 * time.Second):
		}
		d.cancel = nil
	}
	if d.app != nil {
		d.app.close()
		d.app = nil
	}
	for _, c := range []interface{ Close() }{d.HubSpot, d.Salesforce, d.Marketo} {
		if c != nil {
			c.Close()
		}
	}
}

// Delivery is one webhook as a sender would post it.
type Delivery struct {
	Label  string // what it shows, for the demo's table
	Route  string
	Body   []byte
	Header http.Header
}

// Response is what Handoff answered.
type Response struct {
	Status int
	Body   string
}

// post sends one delivery, signing it at send time (timestamps are fresh).
func (d *demoEnv) post(ctx context.Context, dl Delivery) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Base+dl.Route, bytes.NewReader(dl.Body))
	if err != nil {
		return Response{}, err
	}
	for k, vs := range dl.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return Response{Status: resp.StatusCode, Body: string(b)}, nil
}

// hubspotDelivery signs a HubSpot app webhook batch (signature v3).
func (d *demoEnv) hubspotDelivery(label string, events []map[string]any) Delivery {
	body := mustJSON(events)
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	uri := webhooks.HubSpotV3URI(d.Base, webhooks.PathHubSpot)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-HubSpot-Request-Timestamp", ts)
	h.Set("X-HubSpot-Signature-v3", webhooks.HubSpotSignV3(d.hubspotSecret, http.MethodPost, uri, body, ts))
	return Delivery{Label: label, Route: webhooks.PathHubSpot, Body: body, Header: h}
}

// stdDelivery signs a Standard Webhooks request (agent turns, Salesforce events).
func stdDelivery(label, route string, key []byte, id string, payload any) Delivery {
	body := mustJSON(payload)
	ts := time.Now().Unix()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", webhooks.SignStandardWebhook(key, id, ts, body))
	return Delivery{Label: label, Route: route, Body: body, Header: h}
}

func (d *demoEnv) agentDelivery(label string, turn map[string]any) Delivery {
	return stdDelivery(label, webhooks.PathAgent, d.agentKey, turn["id"].(string), turn)
}

func (d *demoEnv) salesforceEventDelivery(label string, id string, ev map[string]any) Delivery {
	return stdDelivery(label, webhooks.PathSalesforceEvents, d.sfKey, id, ev)
}

func (d *demoEnv) marketoDelivery(label string, payload map[string]any) Delivery {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Handoff-Secret", d.marketoSecret)
	return Delivery{Label: label, Route: webhooks.PathMarketo, Body: mustJSON(payload), Header: h}
}

// salesforceOutbound builds an Outbound Message (SOAP) for one sObject.
func salesforceOutbound(label, notificationID, sobjectType string, fields map[string]string) Delivery {
	var f strings.Builder
	for _, k := range sortedKeys(fields) {
		fmt.Fprintf(&f, "<sf:%s>%s</sf:%s>", k, xmlEscape(fields[k]), k)
	}
	body := `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>` + salesforcetest.OrgID + `</OrganizationId>
   <ActionId>04k5e000000Handoff</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/00D5e000000AbCd</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0/00D5e000000AbCd</PartnerUrl>
   <Notification>
    <Id>` + notificationID + `</Id>
    <sObject xsi:type="sf:` + sobjectType + `" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">` + f.String() + `</sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>`
	h := http.Header{}
	h.Set("Content-Type", "text/xml; charset=utf-8")
	h.Set("SOAPAction", `""`)
	return Delivery{Label: label, Route: webhooks.PathSalesforce, Body: []byte(body), Header: h}
}

// drained reports whether the event and handoff queues have no work left
// (scheduled SLA checks aside).
func (d *demoEnv) drained() (bool, error) {
	for _, q := range []string{jobs.QueueEvents, jobs.QueueHandoff} {
		info, err := d.app.inspector.GetQueueInfo(q)
		if err != nil {
			if strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "not found") {
				continue
			}
			return false, err
		}
		if info.Pending+info.Active+info.Retry+info.Aggregating > 0 {
			return false, nil
		}
	}
	return true, nil
}

// waitDrained waits until the queues are empty for a short while.
func (d *demoEnv) waitDrained(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	quiet := 0
	for quiet < 3 {
		ok, err := d.drained()
		if err != nil {
			return err
		}
		if ok {
			quiet++
		} else {
			quiet = 0
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("work still queued after %s (see /admin/queues/)", within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// archived lists tasks that gave up, with their errors.
func (d *demoEnv) archived() []*asynq.TaskInfo {
	var out []*asynq.TaskInfo
	for _, q := range []string{jobs.QueueEvents, jobs.QueueHandoff} {
		ts, err := d.app.inspector.ListArchivedTasks(q)
		if err == nil {
			out = append(out, ts...)
		}
	}
	return out
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
