package console

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/ladder"
	"github.com/handoff-dev/handoff/ladder/laddercli"
)

var funcs = template.FuncMap{
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"human":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"pct":     func(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" },
	"secs":    func(v float64) string { return durText(time.Duration(v * float64(time.Second))) },
	"dur":     durText,
	"pathesc": url.PathEscape,
	"json": func(v any) string {
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	},
}

func durText(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	var s string
	switch {
	case d >= 48*time.Hour:
		s = fmt.Sprintf("%dd %dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= time.Hour:
		s = fmt.Sprintf("%dh %02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	default:
		s = fmt.Sprintf("%dm", d/time.Minute)
	}
	if neg {
		return "-" + s
	}
	return s
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// filter is the tenant, CRM and window every view takes.
type filter struct {
	Tenant, CRM, Window, From, To string
	W                             jobs.Window
	Query                         string // the filter as a query string, for links
}

func (c *Console) filter(ec echo.Context, defaultWindow string) (filter, error) {
	f := filter{Tenant: strings.TrimSpace(ec.QueryParam("tenant")), CRM: strings.TrimSpace(ec.QueryParam("crm")),
		Window: ec.QueryParam("window"), From: ec.QueryParam("from"), To: ec.QueryParam("to")}
	if f.Window == "" && f.From == "" && f.To == "" {
		f.Window = defaultWindow
	}
	from, to := localTime(f.From), localTime(f.To)
	w, ok, err := jobs.ParseWindow(f.Window, from, to, c.d.Now())
	if f.Window == "custom" {
		w, ok, err = jobs.ParseWindow("", from, to, c.d.Now())
	}
	if err != nil {
		return f, err
	}
	if !ok {
		w, _, _ = jobs.ParseWindow("24h", "", "", c.d.Now())
	}
	f.W = w
	q := url.Values{}
	for k, v := range map[string]string{"tenant": f.Tenant, "crm": f.CRM, "window": f.Window, "from": f.From, "to": f.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	f.Query = q.Encode()
	return f, nil
}

// localTime accepts RFC 3339 or a datetime-local value (read as UTC; the
// page's script sends the viewer's offset).
func localTime(s string) string {
	if s == "" {
		return ""
	}
	if _, err := time.Parse(time.RFC3339, s); err == nil {
		return s
	}
	if t, err := time.Parse("2006-01-02T15:04", s); err == nil {
		return t.UTC().Format(time.RFC3339)
	}
	return s
}

func (c *Console) bad(ec echo.Context, err error) error {
	return c.render(ec, http.StatusBadRequest, "error", map[string]any{"Title": "Bad request", "Message": err.Error()})
}

func (c *Console) fail(ec echo.Context, what string, err error) error {
	c.d.Log.ErrorContext(ec.Request().Context(), "console: "+what, "error", err)
	return c.render(ec, http.StatusServiceUnavailable, "error", map[string]any{"Title": "Unavailable", "Message": what + " failed; try again"})
}

// boardRow is an open handoff as the board shows it.
type boardRow struct {
	jobs.OpenHandoff
	Age, Left time.Duration
	Breached  bool
	Used      float64 // share of the SLA used (1 = due now)
}

func (c *Console) open(ec echo.Context) error {
	f, err := c.filter(ec, "")
	if err != nil {
		return c.bad(ec, err)
	}
	hs, err := c.d.Board.OpenBoard(ec.Request().Context(), jobs.BoardFilter{CRM: f.CRM, Tenant: f.Tenant})
	if err != nil {
		return c.fail(ec, "reading open handoffs", err)
	}
	now := c.d.Now()
	rows := make([]boardRow, len(hs))
	for i, h := range hs {
		r := boardRow{OpenHandoff: h, Age: now.Sub(h.Created), Left: h.Due.Sub(now), Breached: now.After(h.Due)}
		if total := h.Due.Sub(h.Created); total > 0 {
			r.Used = float64(r.Age) / float64(total)
		}
		rows[i] = r
	}
	return c.render(ec, http.StatusOK, "open", map[string]any{"Title": "Open handoffs", "F": f, "Rows": rows, "Now": now})
}

func (c *Console) decisions(ec echo.Context) error {
	f, err := c.filter(ec, "7d")
	if err != nil {
		return c.bad(ec, err)
	}
	q := jobs.DecisionQuery{Contact: strings.TrimSpace(ec.QueryParam("contact")), Conversation: strings.TrimSpace(ec.QueryParam("conversation")),
		Rung: strings.TrimSpace(ec.QueryParam("rung")), Action: ec.QueryParam("action"), Tenant: f.Tenant, CRM: f.CRM, From: f.W.From, To: f.W.To, Limit: 50, Brief: true}
	ds, err := c.d.Records.FindDecisions(ec.Request().Context(), q)
	if err != nil {
		return c.fail(ec, "reading decisions", err)
	}
	return c.render(ec, http.StatusOK, "decisions", map[string]any{"Title": "Decisions", "F": f, "Q": q, "Decisions": ds,
		"Actions": []string{"continue", "assist", "handoff", "hold"}})
}

func (c *Console) decision(ec echo.Context) error {
	id := ec.Param("id")
	d, ok, err := c.d.Records.DecisionByID(ec.Request().Context(), id)
	if err != nil {
		return c.fail(ec, "reading the decision", err)
	}
	if !ok {
		return c.render(ec, http.StatusNotFound, "error", map[string]any{"Title": "Not found", "Message": "no decision " + id + " in the audit stream (it may have been trimmed)"})
	}
	var trace bytes.Buffer
	laddercli.Explain(&trace, c.d.Live, eventName(d), d.Context, d.Decision)
	data := map[string]any{"Title": "Decision " + id, "D": d, "Trace": trace.String()}
	switch {
	case d.Plan == jobs.PlanFollowUp && d.HandoffID != "":
		data["FollowUp"] = true // appended to the open task of the handoff that holds the conversation
	case d.HandoffID != "" && d.Decision.Escalates():
		b := jobs.BuildBundle(d.HandoffID, d.Decision, d.Context, d.Event)
		data["Bundle"] = b
		crm := decisionCRM(d)
		data["CRM"] = crmNames[crm]
		if r, ok := c.d.Tasks[crm]; ok && r.Render != nil {
			body := r.Render(b, d.HandoffID)
			if r.HTML {
				data["TaskHTML"] = taskHTML(body)
			} else {
				data["TaskText"] = body
			}
		}
	}
	return c.render(ec, http.StatusOK, "decision", data)
}

// crmNames are the CRMs as the pages name them.
var crmNames = map[handoff.Source]string{handoff.SourceHubSpot: "HubSpot", handoff.SourceSalesforce: "Salesforce", handoff.SourceMarketo: "Marketo"}

// decisionCRM is the CRM that got a decision's task: the event's own CRM,
// or for an agent's event the CRM its contact names (the pipeline's rule,
// handoff.Event.ContactCRM).
func decisionCRM(d jobs.DecisionRecord) handoff.Source {
	ev := handoff.Event{Source: d.Event.Source, Tenant: d.Event.Tenant, Contact: d.Event.Contact}
	crm, _ := ev.ContactCRM()
	return crm
}

func eventName(d jobs.DecisionRecord) string {
	return fmt.Sprintf("%s/%s %s", d.Event.Source, d.Event.Kind, cmp.Or(d.Event.Contact.Email, d.Event.Contact.ID))
}

// timelineItem is one line of a conversation's timeline.
type timelineItem struct {
	At       time.Time
	Kind     string // decision | ownership
	Decision *jobs.DecisionRecord
	Change   *jobs.OwnershipChange
}

func convParam(ec echo.Context) string {
	id := ec.Param("id")
	if u, err := url.PathUnescape(id); err == nil {
		return u
	}
	return id
}

func (c *Console) conversation(ec echo.Context) error {
	id := convParam(ec)
	ctx := ec.Request().Context()
	conv, err := c.d.Board.Conversation(ctx, id)
	if err != nil {
		return c.fail(ec, "reading the conversation", err)
	}
	ds, err := c.d.Records.FindDecisions(ctx, jobs.DecisionQuery{Conversation: id, Limit: 200, Brief: true})
	if err != nil {
		return c.fail(ec, "reading the conversation's decisions", err)
	}
	var items []timelineItem
	for i := range ds {
		items = append(items, timelineItem{At: ds[i].At, Kind: "decision", Decision: &ds[i]})
	}
	for i := range conv.History {
		items = append(items, timelineItem{At: conv.History[i].At, Kind: "ownership", Change: &conv.History[i]})
	}
	if len(items) == 0 && conv.Owner.Since.IsZero() {
		return c.render(ec, http.StatusNotFound, "error", map[string]any{"Title": "Not found", "Message": "nothing recorded for conversation " + id})
	}
	slices.SortStableFunc(items, func(a, b timelineItem) int { return b.At.Compare(a.At) })
	return c.render(ec, http.StatusOK, "conversation", map[string]any{"Title": "Conversation " + id, "Conv": conv, "Items": items,
		"Done": ec.QueryParam("released") != ""})
}

func (c *Console) release(ec echo.Context) error {
	if r, _ := ec.Get("role").(role); r != roleAdmin {
		return c.render(ec, http.StatusForbidden, "error", map[string]any{"Title": "Read-only", "Message": "the console token is read-only: releasing a conversation needs ADMIN_TOKEN"})
	}
	id := convParam(ec)
	if ec.FormValue("confirm") != id {
		return c.bad(ec, errors.New("type the conversation id to confirm the release"))
	}
	reason := strings.TrimSpace(ec.FormValue("reason"))
	if reason == "" {
		reason = "released from the console"
	}
	if len(reason) > 500 {
		return c.bad(ec, errors.New("the reason must be at most 500 characters"))
	}
	_, err := c.d.Board.Release(ec.Request().Context(), id, reason)
	if errors.Is(err, jobs.ErrNotOwned) {
		return c.render(ec, http.StatusConflict, "error", map[string]any{"Title": "Not owned", "Message": "conversation " + id + " is not held by a human"})
	}
	if err != nil {
		return c.fail(ec, "releasing the conversation", err)
	}
	c.d.Log.InfoContext(ec.Request().Context(), "conversation released from the console", "conversation", id)
	return ec.Redirect(http.StatusSeeOther, "/console/conversations/"+url.PathEscape(id)+"?released=1")
}

// kv is a label and count for tables.
type kv struct {
	Key   string
	Value int64
}

func sortedKV(m map[string]int64) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	slices.SortFunc(out, func(a, b kv) int { return cmp.Or(cmp.Compare(b.Value, a.Value), cmp.Compare(a.Key, b.Key)) })
	return out
}

func prefixed(counters map[string]int64, prefix string) map[string]int64 {
	m := map[string]int64{}
	for k, v := range counters {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			m[rest] += v
		}
	}
	return m
}

func nan(ok bool, v float64) float64 {
	if !ok {
		return math.NaN()
	}
	return v
}

func (c *Console) outcomes(ec echo.Context) error {
	f, err := c.filter(ec, "24h")
	if err != nil {
		return c.bad(ec, err)
	}
	points, total, counters, err := c.d.Records.Series(ec.Request().Context(), f.W)
	if err != nil {
		return c.fail(ec, "reading outcomes", err)
	}
	at := make([]time.Time, len(points))
	for i, p := range points {
		at[i] = p.At
	}
	line := func(name string, v func(jobs.Report) (float64, bool)) series {
		s := series{Name: name, Values: make([]float64, len(points))}
		for i, p := range points {
			x, ok := v(p.Report)
			s.Values[i] = nan(ok, x)
		}
		return s
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	share := func(v float64) string { return strconv.FormatFloat(100*v, 'f', 0, 64) + "%" }
	hours := func(v float64) string { return durText(time.Duration(v * float64(time.Second))) }
	var rungLines []series
	for i, r := range sortedKV(total.Handoffs.ByRung) {
		if i == 6 {
			break
		}
		rung := r.Key
		rungLines = append(rungLines, line(rung, func(r jobs.Report) (float64, bool) { return float64(r.Handoffs.ByRung[rung]), true }))
	}
	rungLines = append([]series{line("all handoffs", func(r jobs.Report) (float64, bool) { return float64(r.Handoffs.Total), true })}, rungLines...)
	var teamLines []series
	for i, tm := range sortedKV(prefixed(counters, "team_assigned:")) {
		if i == 6 {
			break
		}
		team := tm.Key
		s := series{Name: "team " + team, Values: make([]float64, len(points))}
		for j, p := range points {
			s.Values[j] = float64(p.Teams[team])
		}
		teamLines = append(teamLines, s)
	}
	charts := []template.HTML{
		lineChart("chart-handoffs", "Handoffs by rung", at, rungLines, num),
		lineChart("chart-teams", "Tasks by team", at, teamLines, num),
		lineChart("chart-tth", "Time to human (p50, p90)", at, []series{
			line("p50", func(r jobs.Report) (float64, bool) { return r.TimeToHuman.P50, r.TimeToHuman.Samples > 0 }),
			line("p90", func(r jobs.Report) (float64, bool) { return r.TimeToHuman.P90, r.TimeToHuman.Samples > 0 }),
		}, hours),
		lineChart("chart-rates", "SLA breach rate, completeness, escalation accuracy, precision", at, []series{
			line("SLA breach rate", func(r jobs.Report) (float64, bool) { return r.SLA.BreachRate, r.Handoffs.TasksCreated > 0 }),
			line("completeness (mean)", func(r jobs.Report) (float64, bool) { return r.Completeness.Mean, r.Completeness.Samples > 0 }),
			line("escalation accuracy", func(r jobs.Report) (float64, bool) {
				return r.EscalationAccuracy.Ratio, r.EscalationAccuracy.Denominator > 0
			}),
			line("handoff precision", func(r jobs.Report) (float64, bool) {
				return r.HandoffPrecision.Ratio, r.HandoffPrecision.Denominator > 0
			}),
		}, share),
	}
	return c.render(ec, http.StatusOK, "outcomes", map[string]any{"Title": "Outcomes over time", "F": f, "Total": total, "Charts": charts,
		"ByRung": sortedKV(total.Handoffs.ByRung), "ByOwner": sortedKV(prefixed(counters, "owner_assigned:")),
		"ByTeam": sortedKV(prefixed(counters, "team_assigned:")), "Points": len(points)})
}

// ownerRow is one owner's line of the distribution.
type ownerRow struct {
	Owner                                string
	Assigned, Open, Breached, Reassigned int64
}

func (c *Console) distribution(ec echo.Context) error {
	f, err := c.filter(ec, "7d")
	if err != nil {
		return c.bad(ec, err)
	}
	ctx := ec.Request().Context()
	counters, err := c.d.Records.Counters(ctx, f.W)
	if err != nil {
		return c.fail(ec, "reading distribution", err)
	}
	open, err := c.d.Board.OpenBoard(ctx, jobs.BoardFilter{CRM: f.CRM, Tenant: f.Tenant, Limit: 1000})
	if err != nil {
		return c.fail(ec, "reading open handoffs", err)
	}
	rows := map[string]*ownerRow{}
	get := func(o string) *ownerRow {
		if rows[o] == nil {
			rows[o] = &ownerRow{Owner: o}
		}
		return rows[o]
	}
	for k, v := range prefixed(counters, "owner_assigned:") {
		get(k).Assigned += v
	}
	for k, v := range prefixed(counters, "owner_breached:") {
		get(k).Breached += v
	}
	for k, v := range prefixed(counters, "owner_reassigned_away:") {
		get(k).Reassigned += v
	}
	for _, h := range open {
		get(cmp.Or(strings.ToLower(h.OwnerEmail), h.OwnerID, "(nobody)")).Open++
	}
	list := make([]ownerRow, 0, len(rows))
	for _, r := range rows {
		list = append(list, *r)
	}
	slices.SortFunc(list, func(a, b ownerRow) int {
		return cmp.Or(cmp.Compare(b.Assigned, a.Assigned), cmp.Compare(a.Owner, b.Owner))
	})
	type skip struct {
		Target, Why string
		N           int64
	}
	var skips []skip
	for _, s := range sortedKV(prefixed(counters, "skipped:")) {
		t, why, _ := strings.Cut(s.Key, "|")
		skips = append(skips, skip{t, why, s.Value})
	}
	return c.render(ec, http.StatusOK, "distribution", map[string]any{"Title": "Distribution", "F": f, "Owners": list,
		"Teams": sortedKV(prefixed(counters, "team_assigned:")), "Skips": skips, "Note": f.Tenant != "" || f.CRM != ""})
}

func (c *Console) shadow(ec echo.Context) error {
	f, err := c.filter(ec, "7d")
	if err != nil {
		return c.bad(ec, err)
	}
	ctx := ec.Request().Context()
	points, total, _, err := c.d.Records.Series(ctx, f.W)
	if err != nil {
		return c.fail(ec, "reading shadow agreement", err)
	}
	at := make([]time.Time, len(points))
	agree := series{Name: "agreement", Values: make([]float64, len(points))}
	for i, p := range points {
		at[i] = p.At
		agree.Values[i] = nan(p.Report.ShadowAgreement.Denominator > 0, p.Report.ShadowAgreement.Ratio)
	}
	ds, err := c.d.Records.FindDecisions(ctx, jobs.DecisionQuery{Disagree: true, Tenant: f.Tenant, CRM: f.CRM, From: f.W.From, To: f.W.To, Limit: 50, Brief: true})
	if err != nil {
		return c.fail(ec, "reading disagreements", err)
	}
	return c.render(ec, http.StatusOK, "shadow", map[string]any{"Title": "Shadow ladder", "F": f, "Total": total.ShadowAgreement,
		"Chart":         lineChart("chart-shadow", "Shadow agreement", at, []series{agree}, func(v float64) string { return strconv.FormatFloat(100*v, 'f', 0, 64) + "%" }),
		"Disagreements": ds, "HasShadow": c.d.Shadow != nil})
}

// maxLadderUpload bounds an uploaded ladder file.
const maxLadderUpload = 1 << 20

// pickLadder returns the live, shadow or uploaded ladder named by field.
func (c *Console) pickLadder(ec echo.Context, field string) (*ladder.Ladder, error) {
	switch ec.FormValue(field) {
	case "", "live":
		return c.d.Live, nil
	case "shadow":
		if c.d.Shadow == nil {
			return nil, errors.New("no shadow ladder is configured (SHADOW_LADDER_FILE)")
		}
		return c.d.Shadow, nil
	case "upload":
		var data []byte
		if fh, err := ec.FormFile(field + "_file"); err == nil {
			rd, err := fh.Open()
			if err != nil {
				return nil, fmt.Errorf("read the uploaded ladder: %w", err)
			}
			defer rd.Close()
			if data, err = io.ReadAll(io.LimitReader(rd, maxLadderUpload+1)); err != nil {
				return nil, fmt.Errorf("read the uploaded ladder: %w", err)
			}
		} else {
			data = []byte(ec.FormValue(field + "_yaml"))
		}
		if len(data) == 0 || len(data) > maxLadderUpload {
			return nil, errors.New("paste or upload a ladder file (at most 1 MiB)")
		}
		return ladder.Parse("uploaded.yaml", data)
	}
	return nil, errors.New("choose the live, the shadow or an uploaded ladder")
}

// sampleContext is the playground's starting context.
func sampleContext() handoff.Context {
	var c handoff.Context
	c.Event.Source, c.Event.Kind, c.Event.Channel = "agent", "agent_turn", "chat"
	c.Contact.Email, c.Contact.Name = "ana@globex.example", "Ana Alvarez"
	c.Account.Name, c.Account.Tier = "Globex Corporation", "tier_1"
	return c
}

func (c *Console) playground(ec echo.Context) error {
	data := map[string]any{"Title": "Playground", "HasShadow": c.d.Shadow != nil, "Ladder": "live"}
	ctxv := sampleContext()
	if from := ec.QueryParam("from"); from != "" {
		d, ok, err := c.d.Records.DecisionByID(ec.Request().Context(), from)
		if err != nil {
			return c.fail(ec, "reading the decision", err)
		}
		if ok {
			ctxv = d.Context
			data["Message"] = d.Context.Event.Text
		}
	}
	f, _ := c.filter(ec, "7d")
	data["F"] = f
	if ec.Request().Method == http.MethodGet {
		ctxv.Signals = handoff.Signals{}
		data["Context"] = funcs["json"].(func(any) string)(ctxv)
		return c.render(ec, http.StatusOK, "playground", data)
	}
	msg := ec.FormValue("message")
	raw := ec.FormValue("context")
	data["Message"], data["Context"], data["Ladder"] = msg, raw, ec.FormValue("ladder")
	data["YAML"] = ec.FormValue("ladder_yaml")
	var cx handoff.Context
	if strings.TrimSpace(raw) != "" {
		if err := json.Unmarshal([]byte(raw), &cx); err != nil {
			data["Error"] = "The context is not valid JSON: " + err.Error()
			return c.render(ec, http.StatusBadRequest, "playground", data)
		}
	}
	if msg != "" {
		cx.Event.Text = msg
		cx.Signals = handoff.Signals{}
	}
	l, err := c.pickLadder(ec, "ladder")
	if err != nil {
		data["Error"] = err.Error()
		return c.render(ec, http.StatusBadRequest, "playground", data)
	}
	if cx.Signals.Topics == nil && cx.Event.Text != "" {
		human := cx.Signals.HumanRequest
		cx.Signals = l.Signals(cx.Event.Text)
		cx.Signals.HumanRequest = cx.Signals.HumanRequest || human
	}
	d := l.Decide(cx)
	var trace bytes.Buffer
	laddercli.Explain(&trace, l, "playground", cx, d)
	data["Result"], data["Trace"] = d, trace.String()
	return c.render(ec, http.StatusOK, "playground", data)
}

func (c *Console) diff(ec echo.Context) error {
	f, err := c.filter(ec, "7d")
	if err != nil {
		return c.bad(ec, err)
	}
	if w := ec.FormValue("window"); w != "" {
		if f.W, _, err = jobs.ParseWindow(w, "", "", c.d.Now()); err != nil {
			return c.bad(ec, err)
		}
		f.Window = w
	}
	data := map[string]any{"Title": "Playground", "HasShadow": c.d.Shadow != nil, "Ladder": "live", "F": f,
		"Context": funcs["json"].(func(any) string)(sampleContext())}
	oldL, err := c.pickLadder(ec, "old")
	if err == nil {
		var newL *ladder.Ladder
		if newL, err = c.pickLadder(ec, "new"); err == nil {
			ds, ferr := c.d.Records.FindDecisions(ec.Request().Context(), jobs.DecisionQuery{Tenant: f.Tenant, CRM: f.CRM, From: f.W.From, To: f.W.To, Limit: 500})
			if ferr != nil {
				return c.fail(ec, "reading recorded events", ferr)
			}
			events := make([]laddercli.Event, len(ds))
			for i, d := range ds {
				events[i] = laddercli.Event{Name: d.ID + " " + eventName(d), Context: d.Context}
			}
			var out bytes.Buffer
			laddercli.Compare(oldL, newL, events).Print(&out, false)
			data["Diff"] = out.String()
		}
	}
	if err != nil {
		data["DiffError"] = err.Error()
		return c.render(ec, http.StatusBadRequest, "playground", data)
	}
	return c.render(ec, http.StatusOK, "playground", data)
}
