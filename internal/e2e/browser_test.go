package e2e

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored from the npm package (see testdata/).
//
//go:embed testdata/axe.min.js
var axeSource string

// The widths every main page is looked at: a laptop and a phone.
const (
	desktopWidth  = 1280
	desktopHeight = 900
	phoneWidth    = 360
	phoneHeight   = 780
)

// actionTimeout bounds one browser action (a click and the page it loads, a
// screenshot, an axe run), so a hang fails with the step's name instead of at
// the end of the whole test binary. It is generous: nothing is timed.
const actionTimeout = 90 * time.Second

// chromiumPath finds the browser: ROSTER_CHROMIUM, else Debian's chromium.
// A missing browser fails the test: `make chromium` installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ROSTER_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the browser tests need Chromium and none was found (looked for chromium, chromium-browser, google-chrome). Install it with `make chromium` (Debian: apt-get install chromium), or set ROSTER_CHROMIUM to its path.")
	return ""
}

// browser is one Chromium process; each person in a test gets a browser
// context of their own in it (separate cookies, like separate browsers).
type browser struct {
	t   *testing.T
	ctx context.Context
	rec *recorder
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(desktopWidth, desktopHeight),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Do starts the browser and binds it to ctx, which has no
	// deadline; each action later gets its own timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("Chromium did not start: %v", err)
	}
	return &browser{t: t, ctx: ctx, rec: newRecorder(t)}
}

// person is someone using the console in their own browser context.
type person struct {
	t     *testing.T
	name  string // short, for screenshot names
	app   *app
	ctx   context.Context
	rec   *recorder
	js    bool
	width int64
}

// newPerson opens a tab in a new browser context, 1280 wide, with
// JavaScript on or off.
func (b *browser) newPerson(a *app, name string, js bool) *person {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	p := &person{t: b.t, name: name, app: a, ctx: ctx, rec: b.rec, js: js}
	// The first Do opens the tab and binds it to ctx, which has no deadline.
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("opening a tab for %s: %v", name, err)
	}
	p.setWidth(desktopWidth)
	// Menus animate their chevrons; with reduced motion (which style.css
	// honours) a screenshot never catches one half-turned.
	p.do("prefer reduced motion", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}},
		})
		return err
	}))
	if !js {
		p.setScripting(false)
	}
	return p
}

// setScripting turns the page's JavaScript on or off. Off, the page behaves
// as in a browser with JavaScript disabled: app.js never runs.
func (p *person) setScripting(on bool) {
	p.t.Helper()
	p.do("set JavaScript", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	}))
}

func (p *person) setWidth(w int64) {
	p.t.Helper()
	h := int64(desktopHeight)
	var opts []chromedp.EmulateViewportOption
	if w < 600 {
		h = phoneHeight
		// mobile=true makes the page's viewport meta tag count, as on a phone.
		opts = append(opts, func(m *emulation.SetDeviceMetricsOverrideParams, _ *emulation.SetTouchEmulationEnabledParams) {
			m.Mobile = true
		})
	}
	p.do(fmt.Sprintf("set the viewport to %d px", w),
		chromedp.EmulateViewport(w, h, opts...),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.ResetPageScaleFactor, cdp.Empty{})
			return err
		}),
		settled(w, w < 600))
	p.width = w
}

// settled waits until the page has laid itself out at the new width: a click
// aimed from the old layout would miss its button.
func settled(w int64, mobile bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var last *page.GetLayoutMetricsResult
		for {
			m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
			if err != nil {
				return err
			}
			if m.CSSLayoutViewport != nil && m.CSSVisualViewport != nil && m.CSSContentSize != nil &&
				(mobile || (m.CSSLayoutViewport.ClientWidth == w && m.CSSVisualViewport.Scale == 1)) &&
				last != nil && sameLayout(last, &m) {
				return nil
			}
			last = &m
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(25 * time.Millisecond):
			}
		}
	})
}

func sameLayout(a, b *page.GetLayoutMetricsResult) bool {
	return *a.CSSLayoutViewport == *b.CSSLayoutViewport && *a.CSSVisualViewport == *b.CSSVisualViewport && *a.CSSContentSize == *b.CSSContentSize
}

// do runs browser actions that need no page load, failing the test with
// what was being done.
func (p *person) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fatalf("%s: %v", what, err)
	}
}

// run runs one action that returns a value.
func run[T any](p *person, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.fatalf("%s: %v", what, err)
	}
	return v
}

func (p *person) fatalf(format string, args ...any) {
	p.t.Helper()
	msg := fmt.Sprintf(format, args...)
	// Leave a picture of where it went wrong.
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		name := p.rec.next(p.name + "-FAILED")
		os.WriteFile(filepath.Join(p.rec.dir, name), png, 0o644)
		msg += "\n(screenshot: test-output/e2e/" + filepath.Base(p.rec.dir) + "/" + name + ")"
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		msg += "\n(" + p.name + "'s page: " + loc + ")"
	}
	p.t.Fatalf("%s: %s", p.name, msg)
}

// visit opens a page of the console by its path (or a full URL), checks it
// with axe, and returns its HTTP status.
func (p *person) visit(path string) int64 {
	p.t.Helper()
	url := path
	if strings.HasPrefix(path, "/") {
		url = p.app.URL + path
	}
	resp := run(p, "open "+url, chromedp.NavigateResponse(url))
	p.a11y()
	return status(resp)
}

// follow clicks a link or a submit button, waits for the page it loads,
// checks that page with axe, and returns its HTTP status (after redirects).
func (p *person) follow(sel chromedp.Search) int64 {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
	if err != nil {
		p.fatalf("click %s and wait for the next page: %v", sel, err)
	}
	p.a11y()
	return status(resp)
}

func status(resp *network.Response) int64 {
	if resp == nil {
		return 0
	}
	return resp.Status
}

// click clicks an element that loads no page (a menu button, a check box).
func (p *person) click(sel chromedp.Search) {
	p.t.Helper()
	p.do("click "+string(sel), chromedp.Click(sel))
}

// fill types text into an empty (emptied) field, as a person would.
func (p *person) fill(sel chromedp.Search, text string) {
	p.t.Helper()
	steps := []chromedp.Action[chromedp.Void]{chromedp.Clear(sel), chromedp.SendKeys(sel, text)}
	// An empty <textarea> has no text node, which Clear needs: nothing to clear.
	if n := run(p, "find "+string(sel), chromedp.Nodes(sel)); len(n) > 0 && n[0].NodeName == "TEXTAREA" && n[0].ChildNodeCount == 0 {
		steps = steps[1:]
	}
	p.do("type into "+string(sel), steps...)
}

// setChecked ticks or unticks a check box by clicking it.
func (p *person) setChecked(sel chromedp.Search, on bool) {
	p.t.Helper()
	checked := run(p, "read "+string(sel), chromedp.JavascriptAttribute[bool](sel, "checked"))
	if checked != on {
		p.click(sel)
	}
	if got := run(p, "read "+string(sel), chromedp.JavascriptAttribute[bool](sel, "checked")); got != on {
		p.fatalf("clicking %s did not change it to checked=%v", sel, on)
	}
}

func (p *person) checked(sel chromedp.Search) bool {
	p.t.Helper()
	return run(p, "read "+string(sel), chromedp.JavascriptAttribute[bool](sel, "checked"))
}

func (p *person) disabled(sel chromedp.Search) bool {
	p.t.Helper()
	return run(p, "read "+string(sel), chromedp.JavascriptAttribute[bool](sel, "disabled"))
}

// text is the rendered text of the first element matching sel.
func (p *person) text(sel chromedp.Search) string {
	p.t.Helper()
	return run(p, "read the text of "+string(sel), chromedp.Text(sel))
}

// count is how many elements match an XPath now, without waiting.
func (p *person) count(xpath string) int {
	p.t.Helper()
	js := fmt.Sprintf(`document.evaluate(%q, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength`, xpath)
	return run(p, "count "+xpath, chromedp.Evaluate[int](js))
}

func (p *person) location() string {
	p.t.Helper()
	return run(p, "read the location", chromedp.Location())
}

// path is the current page's path (and query).
func (p *person) path() string {
	return strings.TrimPrefix(p.location(), p.app.URL)
}

// mainText is what the page says: the text of <main>.
func (p *person) mainText() string {
	p.t.Helper()
	return p.text(xp(`//main`))
}

// see checks that the page's <main> says each of the words.
func (p *person) see(words ...string) {
	p.t.Helper()
	text := p.mainText()
	for _, w := range words {
		if !strings.Contains(normalizeSpace(text), w) {
			p.fatalf("the page does not say %q; it says:\n%s", w, text)
		}
	}
}

// notSee checks that the page's <main> says none of the words.
func (p *person) notSee(words ...string) {
	p.t.Helper()
	text := p.mainText()
	for _, w := range words {
		if strings.Contains(normalizeSpace(text), w) {
			p.fatalf("the page still says %q; it says:\n%s", w, text)
		}
	}
}

var spaces = regexp.MustCompile(`\s+`)

func normalizeSpace(s string) string { return spaces.ReplaceAllString(s, " ") }

// expectStatus fails when a page answered another status than want.
func (p *person) expectStatus(got, want int64, what string) {
	p.t.Helper()
	if got != want {
		p.fatalf("%s: HTTP status %d, want %d; the page says:\n%s", what, got, want, p.mainText())
	}
}

// shot saves a full-page screenshot of this step at the current width.
func (p *person) shot(step string) {
	p.t.Helper()
	png := run(p, "screenshot "+step, chromedp.FullScreenshot(100))
	name := p.rec.next(fmt.Sprintf("%s-%s-%d", p.name, step, p.width))
	if err := os.WriteFile(filepath.Join(p.rec.dir, name), png, 0o644); err != nil {
		p.t.Errorf("saving %s: %v", name, err)
	}
}

// shotWidths saves the step at 1280 and at 360 (phone) wide, checking the
// page with axe at the phone width too, and goes back to 1280.
func (p *person) shotWidths(step string) {
	p.t.Helper()
	p.shot(step)
	p.setWidth(phoneWidth)
	p.a11y()
	p.checkOverflow(step)
	p.shot(step)
	p.setWidth(desktopWidth)
}

// overflowJS finds what sticks out of the viewport sideways: the elements
// whose right edge passes it while their parent's does not.
const overflowJS = `(() => {
  const w = document.documentElement.clientWidth;
  const sw = document.documentElement.scrollWidth;
  const out = [];
  if (sw <= w) return { width: w, scrollWidth: sw, culprits: out };
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (el.classList.length) s += "." + Array.from(el.classList).join(".");
    return s;
  };
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= w + 0.5) continue;
    const closed = el.closest("details:not([open])");
    if (closed && !el.closest("summary")) continue; // not shown
    if (getComputedStyle(el).visibility === "hidden") continue;
    const parent = el.parentElement;
    if (parent && parent.getBoundingClientRect().right > w + 0.5) continue;
    const path = [];
    for (let e = el; e && e !== document.body; e = e.parentElement) path.unshift(name(e));
    out.push(path.slice(-4).join(" > ") + " (right edge at " + Math.round(r.right) + " px)");
  }
  return { width: w, scrollWidth: sw, culprits: out.slice(0, 6) };
})()`

// checkOverflow notes (in layout.txt, without failing) a page that is wider
// than the phone's screen, so that it scrolls sideways.
func (p *person) checkOverflow(step string) {
	p.t.Helper()
	type overflow struct {
		Width       int      `json:"width"`
		ScrollWidth int      `json:"scrollWidth"`
		Culprits    []string `json:"culprits"`
	}
	o := run(p, "measure the page's width", chromedp.Evaluate[overflow](overflowJS))
	if o.ScrollWidth <= o.Width {
		return
	}
	p.rec.mu.Lock()
	defer p.rec.mu.Unlock()
	fmt.Fprintf(&p.rec.layout, "%s (%s): the page is %d px wide on a %d px screen and scrolls sideways; sticking out:\n\t%s\n",
		step, p.path(), o.ScrollWidth, o.Width, strings.Join(o.Culprits, "\n\t"))
	p.t.Logf("layout: %s at %d px: page is %d px wide (see layout.txt)", step, o.Width, o.ScrollWidth)
}

// xp is an XPath selector.
func xp(format string, args ...any) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(format, args...))
}

// lit quotes s as an XPath string literal.
func lit(s string) string {
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return `"` + s + `"`
}

// The console's controls, named by the words on them.

// button is a button in the page's <main> whose text is label.
func button(label string) chromedp.Search {
	return xp(`//main//button[normalize-space(.)=%s]`, lit(label))
}

// link is a link in the page's <main> whose text is label.
func link(label string) chromedp.Search {
	return xp(`//main//a[normalize-space(.)=%s]`, lit(label))
}

// field is the input or text area labelled by label (a <label for=…>).
func field(label string) chromedp.Search {
	return xp(`//*[self::input or self::textarea][@id=//label[normalize-space(.)=%s]/@for]`, lit(label))
}

// roleBox is a role check box in the page's <main>, by role value.
func roleBox(value string) chromedp.Search {
	return xp(`//main//input[@type='checkbox'][@name='roles'][@value=%s]`, lit(value))
}

// recorder numbers the steps of one test and keeps its screenshots and axe
// findings in test-output/e2e/<test>/.
type recorder struct {
	t   *testing.T
	dir string

	mu     sync.Mutex
	n      int
	axe    strings.Builder
	layout strings.Builder
	seen   map[string]bool
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{t: t, dir: outputDir(t), seen: map[string]bool{}}
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		report := r.axe.String()
		if report == "" {
			report = "axe-core found nothing on any page visited.\n"
		}
		os.WriteFile(filepath.Join(r.dir, "axe.txt"), []byte(report), 0o644)
		if r.layout.Len() > 0 {
			os.WriteFile(filepath.Join(r.dir, "layout.txt"), []byte(r.layout.String()), 0o644)
		}
	})
	return r
}

// next returns the file name of the next step: NN-name.png.
func (r *recorder) next(name string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	return fmt.Sprintf("%02d-%s.png", r.n, name)
}

// axeResult is what axeRun returns: how many rules passed, and the broken ones.
type axeResult struct {
	Passes     int         `json:"passes"`
	Violations []violation `json:"violations"`
}

// violation is one axe-core rule broken on a page.
type violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  string `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

const axeRun = `(async () => {
  const r = await axe.run(document, { resultTypes: ["violations"] });
  return { passes: r.passes.length, violations: r.violations.map((v) => ({
    id: v.id,
    impact: v.impact || "",
    help: v.help,
    nodes: v.nodes.map((n) => ({
      target: n.target.map(String).join(" "),
      html: n.html.slice(0, 160),
      summary: (n.failureSummary || "").slice(0, 300),
    })),
  })) };
})()`

// a11y runs axe-core in the page. Violations with impact serious or
// critical fail the test (the test goes on, to find the others); every
// violation is written to axe.txt. axe is evaluated over the DevTools
// protocol, which the page's CSP (script-src 'self') does not govern. With
// JavaScript off, scripting is switched on for the check only: the page's
// own scripts have already been skipped and do not run afterwards.
func (p *person) a11y() {
	p.t.Helper()
	if !p.js {
		p.setScripting(true)
		defer p.setScripting(false)
	}
	loaded := run(p, "look for axe", chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if !loaded {
		p.do("inject axe-core", chromedp.Evaluate[chromedp.Void](axeSource))
	}
	res := run(p, "run axe-core", chromedp.Evaluate[axeResult](axeRun, chromedp.EvalAwaitPromise))
	if res.Passes == 0 {
		p.fatalf("axe-core ran on %s but checked nothing: is the page empty?", p.path())
	}
	vs := res.Violations
	where := fmt.Sprintf("%s at %d px", p.path(), p.width)
	var bad []string
	p.rec.mu.Lock()
	for _, v := range vs {
		for _, n := range v.Nodes {
			key := v.ID + "|" + n.Target + "|" + pathOnly(p.path())
			if p.rec.seen[key] {
				continue
			}
			p.rec.seen[key] = true
			fmt.Fprintf(&p.rec.axe, "%s\t%s\t%s\t%s\n\t%s\n\t%s\n", v.Impact, v.ID, where, n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", " / "))
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			var targets []string
			for _, n := range v.Nodes {
				targets = append(targets, n.Target)
			}
			bad = append(bad, fmt.Sprintf("  %s (%s): %s — %s", v.ID, v.Impact, v.Help, strings.Join(targets, ", ")))
		}
	}
	p.rec.mu.Unlock()
	if len(bad) > 0 {
		p.t.Errorf("axe-core on %s (%s):\n%s", where, p.name, strings.Join(bad, "\n"))
	}
}

func pathOnly(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return s[:i]
	}
	return s
}
