package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Sources the tool can send.
const (
	srcHubSpot    = "hubspot"
	srcSalesforce = "salesforce"
	srcMarketo    = "marketo"
	srcAgent      = "agent"
	srcMix        = "mix"
)

// payload is one request body, kept for --duplicates resends: a resend
// repeats the body (so every event in it is a duplicate) and is signed again
// with a fresh timestamp, as a sender's retry would be.
type payload struct {
	source string
	path   string
	body   []byte
	events int
	id     string // unique per payload; the agent's webhook-id
}

// secrets are what the tool signs with; the names follow the server's
// environment variables.
type secrets struct {
	HubSpotClientSecret  string // HUBSPOT_CLIENT_SECRET
	PublicBaseURL        string // PUBLIC_BASE_URL (what HubSpot's v3 signature covers)
	SalesforceOrgID      string // first of SALESFORCE_ORG_IDS
	MarketoWebhookSecret string // MARKETO_WEBHOOK_SECRET
	AgentWebhookSecret   string // AGENT_WEBHOOK_SECRET
}

// generator builds unique payloads: every event id embeds the run id and a
// sequence number, so nothing is deduplicated by the server unless resent,
// also across runs against the same Redis.
type generator struct {
	run      int64 // 9 decimal digits, from the start time
	runTag   string
	batch    int
	portalID int64
	sources  []string // rotated by sequence for "mix"
	now      func() time.Time
}

func newGenerator(source string, batch int, sec secrets, start time.Time) (*generator, error) {
	g := &generator{
		run:      start.UnixMilli() % 1_000_000_000,
		batch:    batch,
		portalID: 62515,
		now:      time.Now,
	}
	g.runTag = fmt.Sprintf("%09d", g.run)
	have := map[string]bool{
		srcHubSpot:    sec.HubSpotClientSecret != "",
		srcSalesforce: sec.SalesforceOrgID != "",
		srcMarketo:    sec.MarketoWebhookSecret != "",
		srcAgent:      sec.AgentWebhookSecret != "",
	}
	need := map[string]string{
		srcHubSpot:    "--hubspot-secret or HUBSPOT_CLIENT_SECRET",
		srcSalesforce: "--salesforce-org or SALESFORCE_ORG_IDS",
		srcMarketo:    "--marketo-secret or MARKETO_WEBHOOK_SECRET",
		srcAgent:      "--agent-secret or AGENT_WEBHOOK_SECRET",
	}
	switch source {
	case srcHubSpot, srcSalesforce, srcMarketo, srcAgent:
		if !have[source] {
			return nil, fmt.Errorf("--source %s needs %s", source, need[source])
		}
		g.sources = []string{source}
	case srcMix:
		for _, s := range []string{srcHubSpot, srcSalesforce, srcMarketo, srcAgent} {
			if have[s] {
				g.sources = append(g.sources, s)
			}
		}
		if len(g.sources) == 0 {
			return nil, fmt.Errorf("--source mix needs the secret of at least one source")
		}
	default:
		return nil, fmt.Errorf("--source %q: want hubspot, salesforce, marketo, agent or mix", source)
	}
	if sec.SalesforceOrgID != "" && len(sec.SalesforceOrgID) != 15 && len(sec.SalesforceOrgID) != 18 {
		return nil, fmt.Errorf("salesforce org %q: want a 15- or 18-character org id", sec.SalesforceOrgID)
	}
	return g, nil
}

// next builds the payload of request number seq (0-based).
func (g *generator) next(seq int64, org string) payload {
	src := g.sources[seq%int64(len(g.sources))]
	switch src {
	case srcHubSpot:
		return g.hubspot(seq)
	case srcSalesforce:
		return g.salesforce(seq, org)
	case srcMarketo:
		return g.marketo(seq)
	default:
		return g.agent(seq)
	}
}

func (g *generator) requestID(src string, seq int64) string {
	return src + "-" + g.runTag + "-" + strconv.FormatInt(seq, 10)
}

func (g *generator) hubspot(seq int64) payload {
	occurred := g.now().UnixMilli()
	b := make([]byte, 0, 260*g.batch+2)
	b = append(b, '[')
	for i := range g.batch {
		n := seq*int64(g.batch) + int64(i)
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"eventId":`...)
		b = strconv.AppendInt(b, g.run*1_000_000_000+n, 10)
		b = append(b, `,"subscriptionId":686627,"portalId":`...)
		b = strconv.AppendInt(b, g.portalID, 10)
		b = append(b, `,"appId":7906213,"occurredAt":`...)
		b = strconv.AppendInt(b, occurred, 10)
		b = append(b, `,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":`...)
		b = strconv.AppendInt(b, 847297356000+n%1_000_000, 10)
		b = append(b, `,"propertyName":"lifecyclestage","propertyValue":"salesqualifiedlead","changeSource":"CRM_UI"}`...)
	}
	b = append(b, ']')
	return payload{source: srcHubSpot, path: "/webhooks/hubspot", body: b, events: g.batch, id: g.requestID(srcHubSpot, seq)}
}

func (g *generator) salesforce(seq int64, org string) payload {
	b := make([]byte, 0, 800+330*g.batch)
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>`...)
	b = append(b, org...)
	b = append(b, `</OrganizationId><ActionId>04kxx0000000001AAA</ActionId><SessionId xsi:nil="true"/><EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/62.0/00Dxx0000000001</EnterpriseUrl><PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/62.0/00Dxx0000000001</PartnerUrl>`...)
	for i := range g.batch {
		n := seq*int64(g.batch) + int64(i)
		b = fmt.Appendf(b, `<Notification><Id>04l%07d%08d</Id><sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>003%07d%08d</sf:Id><sf:Email>buyer%d@example.com</sf:Email><sf:LastModifiedDate>2026-11-22T10:00:00.000Z</sf:LastModifiedDate></sObject></Notification>`,
			g.run%10_000_000, n%100_000_000, g.run%10_000_000, n%100_000_000, n)
	}
	b = append(b, `</notifications></soapenv:Body></soapenv:Envelope>`...)
	return payload{source: srcSalesforce, path: "/webhooks/salesforce", body: b, events: g.batch, id: g.requestID(srcSalesforce, seq)}
}

func (g *generator) marketo(seq int64) payload {
	b, _ := json.Marshal(map[string]any{
		"activity_id": fmt.Sprintf("load-%s-%d", g.runTag, seq),
		"lead_id":     318581 + seq%100_000,
		"email":       fmt.Sprintf("lead%d@acme.example", seq%100_000),
		"kind":        "form_submission",
		"channel":     "web",
		"occurred_at": g.now().UTC().Format("2006-01-02 15:04:05"),
		"campaign":    "Demo request - trigger",
		"program":     "2026-11 Demo Request",
		"trigger":     "Fills Out Form",
		"message":     "We need SSO and a SOC 2 report before we can buy. Pricing for 500 seats?",
	})
	return payload{source: srcMarketo, path: "/webhooks/marketo", body: b, events: 1, id: g.requestID(srcMarketo, seq)}
}

func (g *generator) agent(seq int64) payload {
	id := fmt.Sprintf("turn_load_%s_%d", g.runTag, seq)
	b, _ := json.Marshal(map[string]any{
		"type":            "agent.turn",
		"id":              id,
		"occurred_at":     g.now().UTC().Format(time.RFC3339Nano),
		"conversation_id": fmt.Sprintf("conv_load_%s_%d", g.runTag, seq%1000),
		"channel":         "chat",
		"contact":         map[string]any{"email": fmt.Sprintf("buyer%d@acme.example", seq%1000), "crm": "hubspot", "tenant": "62515"},
		"turn":            seq%20 + 1,
		"buyer_message":   "Can I talk to a real person about pricing?",
		"agent_reply":     "Let me check that for you.",
		"confidence":      0.42,
		"sources":         []string{"https://docs.example.com/pricing"},
		"tool_failures":   0,
	})
	return payload{source: srcAgent, path: "/webhooks/agent", body: b, events: 1, id: id}
}

// signer turns a payload into signed headers.
type signer struct {
	sec      secrets
	agentKey []byte
}

func newSigner(sec secrets) (*signer, error) {
	s := &signer{sec: sec}
	if sec.AgentWebhookSecret != "" {
		k, err := standardWebhookKey(sec.AgentWebhookSecret)
		if err != nil {
			return nil, fmt.Errorf("agent secret: %w", err)
		}
		s.agentKey = k
	}
	return s, nil
}

// headers returns the headers that authenticate p, signed at now. The
// load-test headers let the baseline server count events without parsing.
func (s *signer) headers(p *payload, now time.Time) http.Header {
	h := http.Header{}
	h.Set("X-Load-Events", strconv.Itoa(p.events))
	h.Set("X-Load-ID", p.id)
	switch p.source {
	case srcHubSpot:
		ts := strconv.FormatInt(now.UnixMilli(), 10)
		h.Set("Content-Type", "application/json")
		h.Set("X-HubSpot-Request-Timestamp", ts)
		h.Set("X-HubSpot-Signature-v3", hubspotV3(s.sec.HubSpotClientSecret, http.MethodPost, s.sec.PublicBaseURL+p.path, p.body, ts))
	case srcSalesforce:
		h.Set("Content-Type", "text/xml; charset=utf-8")
		h.Set("SOAPAction", `""`)
	case srcMarketo:
		h.Set("Content-Type", "application/json")
		h.Set("X-Handoff-Secret", s.sec.MarketoWebhookSecret)
	case srcAgent:
		h.Set("Content-Type", "application/json")
		h.Set("webhook-id", p.id)
		h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		h.Set("webhook-signature", standardWebhookSignature(s.agentKey, p.id, now.Unix(), p.body))
	}
	return h
}
