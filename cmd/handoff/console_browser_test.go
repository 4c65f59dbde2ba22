package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/hubspot"
)

// chromiumPath finds the browser the console tests drive: $CHROMIUM, else
// chromium (the Debian package) or google-chrome on PATH. Missing, the
// tests skip locally and fail under CI=true (scripts/test.sh installs it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install chromium); the console's browser tests must run in CI")
	}
	t.Skip("chromium is not installed (apt-get install chromium): skipping the console's browser tests")
	return ""
}

// browser starts a headless Chromium with a fresh profile at 1280×800.
func browser(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800),
	}
	actx, cancel := chromedp.NewExecAllocator(parent, opts...)
	t.Cleanup(cancel)
	bctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// screenshotDir is where the views' screenshots go: $HANDOFF_SCREENSHOT_DIR
// (kept as a test artefact) or the test's temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("HANDOFF_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

func browse(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// read runs one action that gives a value.
func read[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func js[T any](t *testing.T, ctx context.Context, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	return read(t, ctx, expr, chromedp.Evaluate[T](expr, opts...))
}

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	return read(t, ctx, "text of "+css, chromedp.Text(chromedp.CSS(css)))
}

// unlabelledControls lists the page's visible form controls that have no
// label: no <label> with text, no aria-label(ledby) with text, and (a
// button) no text of its own.
const unlabelledControls = `Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea, button')).filter(el => {
  const txt = s => (s || '').trim() !== '';
  if (el.labels && Array.from(el.labels).some(l => txt(l.textContent))) return false;
  if (txt(el.getAttribute('aria-label'))) return false;
  const by = el.getAttribute('aria-labelledby');
  if (by && by.split(/\s+/).some(id => txt(document.getElementById(id)?.textContent))) return false;
  if (el.tagName === 'BUTTON' && txt(el.textContent)) return false;
  return true;
}).map(el => el.outerHTML.slice(0, 160))`

// sidewaysScroll is empty unless the page is wider than the viewport;
// then it names the elements that reach past its right edge.
const sidewaysScroll = `(() => {
  const w = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= w) return [];
  return Array.from(document.querySelectorAll('body *')).filter(el => el.getBoundingClientRect().right > w + 1)
    .slice(0, 12).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '') + ' ' + Math.round(el.getBoundingClientRect().right) + 'px of ' + w);
})()`

// tabTo presses Tab from where the focus is until the element matching
// css has it (at most 80 presses).
func tabTo(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	for range 80 {
		if js[bool](t, ctx, fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, css)) {
			return
		}
		browse(t, ctx, "Tab", chromedp.KeyEvent(kb.Tab))
	}
	t.Fatalf("80 presses of Tab did not reach %s", css)
}

// tabThrough presses Tab from the top of the page to its end and checks
// that it reached every enabled control of the forms: each field and
// button, and each group of radio buttons at its checked one (the arrow
// keys choose within a group).
func tabThrough(t *testing.T, ctx context.Context, forms ...string) {
	t.Helper()
	want := js[[]string](t, ctx, fmt.Sprintf(`(() => {
  let n = 0; const seen = new Set(), out = [];
  document.querySelectorAll(%q).forEach(el => {
    if (el.disabled || el.type === 'hidden') return;
    if (el.type === 'radio') {
      if (seen.has(el.form.id + el.name)) return;
      seen.add(el.form.id + el.name);
      el = el.form.querySelector('input[type=radio][name="' + el.name + '"]:checked') || el;
    }
    el.dataset.kb = 'kb' + (n++); out.push(el.dataset.kb + ' ' + el.outerHTML.slice(0, 100));
  });
  return out;
})()`, strings.Join(forms, " input, ")+" input, "+strings.Join(forms, " select, ")+" select, "+strings.Join(forms, " textarea, ")+" textarea, "+strings.Join(forms, " button, ")+" button"))
	if len(want) == 0 {
		t.Fatalf("no controls in %v", forms)
	}
	js[bool](t, ctx, `(document.activeElement && document.activeElement.blur(), window.scrollTo(0, 0), true)`)
	reached := map[string]bool{}
	for range 150 {
		browse(t, ctx, "Tab", chromedp.KeyEvent(kb.Tab))
		if k := js[string](t, ctx, `document.activeElement?.dataset?.kb ?? ''`); k != "" {
			reached[k] = true
		}
	}
	for _, w := range want {
		if k, _, _ := strings.Cut(w, " "); !reached[k] {
			t.Errorf("the keyboard does not reach %s", w)
		}
	}
}

func signIn(t *testing.T, ctx context.Context, base, token string) {
	t.Helper()
	browse(t, ctx, "sign in",
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS(`body[data-page="open"]`)),
	)
}

// The console through a real browser against the real server, Redis, queue
// and CRM fakes after the demo's scripted handoffs.
func TestConsoleInBrowser(t *testing.T) {
	chromiumPath(t)
	consoleToken := "console-read-only-" + runTag()
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: map[string]string{"CONSOLE_TOKEN": consoleToken,
		// A shadow ladder that reads some messages differently, so the
		// shadow view has disagreements to show.
		"SHADOW_LADDER_FILE": "../../fixtures/ladders/gtm-basic.yaml"}})
	steps := d.scenario()
	for _, s := range steps {
		if r, err := d.post(ctx, s.Delivery); err != nil || r.Status != 200 {
			t.Fatalf("%s: %d %v", s.Label, r.Status, err)
		}
	}
	mustDrain(t, ctx, d, 60*time.Second)
	shots := screenshotDir(t)
	b := browser(t, ctx)
	signIn(t, b, d.Base, d.AdminToken)

	t.Run("open handoffs in breach order", func(t *testing.T) {
		browse(t, b, "board", chromedp.Navigate(d.Base+"/console/open"), chromedp.WaitVisible(chromedp.ID("board")))
		dues := js[[]string](t, b, `Array.from(document.querySelectorAll('#board tbody tr td:first-child time')).map(e => e.getAttribute('datetime'))`)
		rows := js[int](t, b, `document.querySelectorAll('#board tbody tr').length`)
		if rows < 10 || len(dues) != rows {
			t.Fatalf("board: %d rows, %d due times", rows, len(dues))
		}
		for i := 1; i < len(dues); i++ {
			if dues[i] < dues[i-1] {
				t.Fatalf("board not in breach order: row %d due %s after row %d due %s", i, dues[i], i-1, dues[i-1])
			}
		}
		if n := js[int](t, b, `document.querySelectorAll('#board a[href^="https://app.hubspot.com/"]').length`); n == 0 {
			t.Fatal("no HubSpot task links on the board")
		}
		// Times are shown in the viewer's zone by the page's script.
		if shown := text(t, b, "#board tbody tr td:first-child time"); strings.Contains(shown, "UTC") {
			t.Fatalf("due time not converted to the viewer's zone: %q", shown)
		}
		shot(t, b, shots, "open")
		// Phone width stays readable (the table turns into cards).
		browse(t, b, "phone width", chromedp.EmulateViewport(390, 844))
		if w := js[int](t, b, `document.documentElement.scrollWidth`); w > 420 {
			t.Errorf("at phone width the page is %dpx wide", w)
		}
		shot(t, b, shots, "open-phone")
		browse(t, b, "desktop width", chromedp.EmulateViewport(1280, 800))
	})

	t.Run("a decision page shows the trace", func(t *testing.T) {
		// The newest HubSpot pricing decision that made a task (a later
		// message of a conversation a person holds is a follow-up).
		browse(t, b, "decisions", chromedp.Navigate(d.Base+"/console/decisions?rung=pricing&window=7d&crm=hubspot"), chromedp.WaitVisible(chromedp.ID("decisions")))
		links := js[[]string](t, b, `[...new Set(Array.from(document.querySelectorAll('#decisions tbody td:first-child a')).map(a => a.href))]`)
		found := false
		for _, link := range links {
			browse(t, b, "decision", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("trace")))
			if found = js[bool](t, b, `!!document.getElementById('task-body')`); found {
				break
			}
		}
		if !found {
			t.Fatalf("none of the %d HubSpot pricing decisions made a task", len(links))
		}
		trace := text(t, b, "#trace")
		for _, want := range []string{"Checked, in order", "MATCH rung      pricing", `Decision: HANDOFF by rung "pricing"`, "saw  "} {
			if !strings.Contains(trace, want) {
				t.Fatalf("trace lacks %q:\n%s", want, trace)
			}
		}
		if snap := read(t, b, "snapshot", chromedp.TextContent(chromedp.ID("snapshot"))); !strings.Contains(snap, `"account"`) {
			t.Fatalf("no enrichment snapshot: %s", snap)
		}
		if bundle := text(t, b, "#bundle"); !strings.Contains(bundle, "Goal:") {
			t.Fatalf("bundle: %s", bundle)
		}
		if task := text(t, b, "#task-body"); !strings.Contains(strings.ToLower(task), "why it escalated") {
			t.Fatalf("the task as the owner saw it: %s", task)
		}
		shot(t, b, shots, "decision")
		browse(t, b, "decisions list", chromedp.Navigate(d.Base+"/console/decisions?window=7d"), chromedp.WaitVisible(chromedp.ID("decisions")))
		shot(t, b, shots, "decisions")
	})

	t.Run("a decision page shows the task as the CRM received it", func(t *testing.T) {
		// What each fake CRM stored as the task text, by handoff id.
		stored := map[handoff.Source]map[string]string{handoff.SourceHubSpot: {}, handoff.SourceSalesforce: {}, handoff.SourceMarketo: {}}
		for _, tk := range hubspotTasks(d) {
			body := tk.Props["hs_task_body"]
			if _, id, ok := strings.Cut(body, "<p>"+html.EscapeString(hubspot.HandoffMarker)); ok {
				stored[handoff.SourceHubSpot][strings.TrimSuffix(strings.TrimSpace(id), "</p>")] = body
			}
		}
		for _, tk := range d.Salesforce.Tasks() {
			if id, _ := tk["Handoff_Id__c"].(string); id != "" {
				stored[handoff.SourceSalesforce][id], _ = tk["Description"].(string)
			}
		}
		for _, tk := range d.Marketo.Tasks() {
			stored[handoff.SourceMarketo][tk.HandoffID] = tk.Body
		}
		for crm, tasks := range stored {
			browse(t, b, "decisions of "+string(crm), chromedp.Navigate(d.Base+"/console/decisions?window=7d&crm="+string(crm)), chromedp.WaitVisible(chromedp.ID("decisions")))
			links := js[[]string](t, b, `[...new Set(Array.from(document.querySelectorAll('#decisions tbody td:first-child a')).map(a => a.href))]`)
			same, appended := 0, 0
			for _, link := range links {
				browse(t, b, "decision", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("trace")))
				id := js[string](t, b, `document.getElementById('handoff-id')?.textContent ?? ''`)
				want, ok := tasks[id]
				if id == "" || !ok {
					continue // no task of its own (continue, follow-up), or none in this CRM
				}
				format := js[string](t, b, `document.getElementById('task-body')?.dataset.format ?? 'none'`)
				var got string
				if crm == handoff.SourceHubSpot {
					// The stored HTML as the browser reads it, beside what the page shows.
					if format != "html" {
						t.Fatalf("%s: a HubSpot task shown as %q", link, format)
					}
					got = js[string](t, b, `document.getElementById('task-body').innerHTML`)
					want = js[string](t, b, fmt.Sprintf(`new DOMParser().parseFromString(%q, 'text/html').body.innerHTML`, want))
				} else {
					if format != "text" {
						t.Fatalf("%s: a %s task shown as %q", link, crm, format)
					}
					got = js[string](t, b, `document.getElementById('task-body').textContent`)
				}
				switch {
				case got == want:
					same++
				case crm != handoff.SourceHubSpot && strings.HasPrefix(want, got+"\n\n--- Update "),
					crm == handoff.SourceHubSpot && strings.Contains(want, "<h3>Update "):
					// A follow-up appended an update to the task since it was
					// written; the page shows what the task said at first.
					appended++
				default:
					t.Errorf("%s (handoff %s): the page's task is not what %s stored:\n--- page\n%s\n--- stored\n%s", link, id, crm, got, want)
				}
			}
			t.Logf("%s: %d decision pages show the stored task exactly, %d its text before a follow-up's update", crm, same, appended)
			if same == 0 {
				t.Errorf("no %s decision page showed the task %s stored (%d decisions, %d tasks)", crm, crm, len(links), len(tasks))
			}
		}
	})

	t.Run("the outcomes chart follows the window", func(t *testing.T) {
		points := `+document.querySelector('#chart-handoffs svg').dataset.points`
		browse(t, b, "outcomes 24h", chromedp.Navigate(d.Base+"/console/outcomes?window=24h"), chromedp.WaitVisible(chromedp.CSS(`#chart-handoffs svg`)))
		points24, total24 := js[int](t, b, points), text(t, b, "#total-handoffs")
		shot(t, b, shots, "outcomes")
		browse(t, b, "outcomes 7d",
			chromedp.SetValue(chromedp.ID("window"), "7d"),
			chromedp.Submit(chromedp.ID("window")),
			chromedp.WaitVisible(chromedp.CSS(`body[data-page="outcomes"]`)),
		)
		read(t, b, "7d loaded", chromedp.Poll[bool](`location.search.includes('window=7d') && !!document.querySelector('#chart-handoffs svg')`))
		points7, total7 := js[int](t, b, points), text(t, b, "#total-handoffs")
		if points24 < 24 || points24 > 25 || points7 < 7 || points7 > 8 {
			t.Fatalf("chart points: 24h %d, 7d %d", points24, points7)
		}
		if total24 != total7 || total24 == "0" {
			t.Fatalf("handoffs: 24h %s, 7d %s (all happened just now)", total24, total7)
		}
		from := time.Now().Add(-72 * time.Hour).UTC().Format(time.RFC3339)
		to := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
		browse(t, b, "outcomes, a custom window before the handoffs",
			chromedp.Navigate(d.Base+"/console/outcomes?window=custom&from="+url.QueryEscape(from)+"&to="+url.QueryEscape(to)),
			chromedp.WaitVisible(chromedp.ID("total-handoffs")))
		if past := text(t, b, "#total-handoffs"); past != "0" {
			t.Fatalf("a window two days ago shows %s handoffs", past)
		}
	})

	t.Run("distribution and shadow render", func(t *testing.T) {
		browse(t, b, "distribution", chromedp.Navigate(d.Base+"/console/distribution?window=24h"), chromedp.WaitVisible(chromedp.ID("owners")))
		if owners := js[int](t, b, `document.querySelectorAll('#owners tbody tr').length`); owners < 3 {
			t.Fatalf("distribution lists %d owners", owners)
		}
		shot(t, b, shots, "distribution")
		browse(t, b, "shadow", chromedp.Navigate(d.Base+"/console/shadow?window=24h"), chromedp.WaitVisible(chromedp.ID("agreement")))
		if n := js[int](t, b, `document.querySelectorAll('#disagreements tbody tr').length`); n == 0 {
			t.Fatalf("the shadow view lists no disagreement (agreement %s)", text(t, b, "#agreement"))
		}
		shot(t, b, shots, "shadow")
	})

	t.Run("the playground explains a pasted message", func(t *testing.T) {
		browse(t, b, "playground",
			chromedp.Navigate(d.Base+"/console/playground"),
			chromedp.WaitVisible(chromedp.ID("message")),
			chromedp.SendKeys(chromedp.ID("message"), "Can I talk to a real person about the price for 500 seats?"),
			chromedp.Click(chromedp.CSS(`#explain-form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.ID("trace")),
		)
		heading, trace := text(t, b, "#result"), text(t, b, "#trace")
		if !strings.Contains(heading, "handoff") || !strings.Contains(trace, "Checked, in order") || !strings.Contains(trace, "500 seats") {
			t.Fatalf("playground: %q\n%s", heading, trace)
		}
		shot(t, b, shots, "playground")
	})

	// A conversation a human holds: the ownerless student's human-request.
	conv := ""
	for _, s := range steps {
		if s.Expect == "human-request" {
			conv = s.Conversation
		}
	}
	if conv == "" {
		t.Fatal("the scenario has no human-request conversation")
	}
	convURL := d.Base + "/console/conversations/" + url.PathEscape(conv)

	t.Run("accessible basics", func(t *testing.T) {
		// A decision with a task, for the decision view.
		browse(t, b, "a handoff decision", chromedp.Navigate(d.Base+"/console/decisions?window=7d&action=handoff"), chromedp.WaitVisible(chromedp.ID("decisions")))
		decision := js[string](t, b, `document.querySelector('#decisions tbody td:first-child a').href`)
		views := map[string]string{
			"open": "/console/open", "decisions": "/console/decisions?window=7d", "decision": strings.TrimPrefix(decision, d.Base),
			"conversation": strings.TrimPrefix(convURL, d.Base), "outcomes": "/console/outcomes?window=24h", "distribution": "/console/distribution?window=24h",
			"shadow": "/console/shadow?window=24h", "playground": "/console/playground",
		}
		for _, name := range sortedKeys(views) {
			for _, size := range [][2]int64{{1280, 800}, {390, 844}} {
				browse(t, b, name, chromedp.EmulateViewport(size[0], size[1]), chromedp.Navigate(d.Base+views[name]), chromedp.WaitReady(chromedp.CSS(`body[data-page]`)))
				if bad := js[[]string](t, b, unlabelledControls); len(bad) > 0 {
					t.Errorf("%s: form controls without a label:\n%s", name, strings.Join(bad, "\n"))
				}
				if wide := js[[]string](t, b, sidewaysScroll); len(wide) > 0 {
					t.Errorf("%s at %dx%d scrolls sideways:\n%s", name, size[0], size[1], strings.Join(wide, "\n"))
				}
			}
		}
		// The sign-in form, signed out.
		out := browser(t, ctx)
		for _, size := range [][2]int64{{1280, 800}, {390, 844}} {
			browse(t, out, "sign-in", chromedp.EmulateViewport(size[0], size[1]), chromedp.Navigate(d.Base+"/console/login"), chromedp.WaitVisible(chromedp.ID("token")))
			if bad := js[[]string](t, out, unlabelledControls); len(bad) > 0 {
				t.Errorf("sign-in: form controls without a label:\n%s", strings.Join(bad, "\n"))
			}
			if wide := js[[]string](t, out, sidewaysScroll); len(wide) > 0 {
				t.Errorf("sign-in at %dx%d scrolls sideways:\n%s", size[0], size[1], strings.Join(wide, "\n"))
			}
		}
		browse(t, b, "desktop width", chromedp.EmulateViewport(1280, 800))
		// The keyboard alone reaches every control of the release and of
		// the playground's two forms.
		browse(t, b, "conversation", chromedp.Navigate(convURL), chromedp.WaitVisible(chromedp.ID("release-form")))
		tabThrough(t, b, "#release-form")
		browse(t, b, "playground", chromedp.Navigate(d.Base+"/console/playground"), chromedp.WaitVisible(chromedp.ID("explain-form")))
		tabThrough(t, b, "#explain-form", "#diff-form")
	})

	t.Run("a read-only token cannot release", func(t *testing.T) {
		ro := browser(t, ctx)
		signIn(t, ro, d.Base, consoleToken)
		browse(t, ro, "conversation, read-only", chromedp.Navigate(convURL), chromedp.WaitVisible(chromedp.ID("timeline")))
		forms := js[int](t, ro, `document.querySelectorAll('#release-form').length`)
		notes := js[int](t, ro, `document.querySelectorAll('#read-only').length`)
		// The server refuses even a hand-made release.
		status := js[int](t, ro, fmt.Sprintf(`fetch(%q, {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "confirm=" + encodeURIComponent(%q), redirect: "manual"}).then(r => r.status)`,
			convURL+"/release", conv), chromedp.EvalAwaitPromise)
		if forms != 0 || notes != 1 || status != 403 {
			t.Fatalf("read-only: release form %d, notice %d, release answered %d", forms, notes, status)
		}
		browse(t, ro, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("owner-state")))
		if state := text(t, ro, "#owner-state strong"); state != "pending" && state != "human" {
			t.Fatalf("after a read-only release attempt the state is %q", state)
		}
	})

	t.Run("another site cannot release through the admin's session", func(t *testing.T) {
		// A page on another port of the same host: another origin but the
		// same site, so the SameSite=Strict cookie goes with its POST.
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><form id="f" method="post" action="%s"><input type="hidden" name="confirm" value="%s">`+
				`<input type="hidden" name="reason" value="cross-site"></form><script>document.getElementById("f").submit()</script>`,
				html.EscapeString(convURL+"/release"), html.EscapeString(conv))
		}))
		defer evil.Close()
		browse(t, b, "the other site's page", chromedp.Navigate(evil.URL))
		read(t, b, "the form's answer", chromedp.Poll[bool](`location.pathname.startsWith('/console/') && !!document.querySelector('body[data-page]')`))
		if page, msg := js[string](t, b, `document.body.dataset.page`), text(t, b, "main"); page != "error" || !strings.Contains(msg, "another site") {
			t.Fatalf("the cross-site release answered with the %s page: %s", page, msg)
		}
		browse(t, b, "conversation", chromedp.Navigate(convURL), chromedp.WaitVisible(chromedp.ID("owner-state")))
		if state := text(t, b, "#owner-state strong"); state != "pending" && state != "human" {
			t.Fatalf("after a cross-site release the state is %q", state)
		}
	})

	t.Run("admin releases with a confirmation", func(t *testing.T) {
		browse(t, b, "conversation, admin", chromedp.Navigate(convURL), chromedp.WaitVisible(chromedp.ID("release-form")))
		shot(t, b, shots, "conversation")
		// With the keyboard only: Tab to each field, type, Enter on the button.
		tabTo(t, b, "#reason")
		browse(t, b, "reason", chromedp.KeyEvent("handled in a call"))
		tabTo(t, b, "#confirm")
		browse(t, b, "confirmation", chromedp.KeyEvent(conv))
		tabTo(t, b, "#release-form button")
		browse(t, b, "release", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(`p.notice[role=status]`)))
		if state := text(t, b, "#owner-state strong"); state != "released" {
			t.Fatalf("after release the state is %q", state)
		}
	})
}
