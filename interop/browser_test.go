package interop

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/probe"
)

// browserTimeout bounds one whole browser run: start, every case, results.
const browserTimeout = 90 * time.Second

//go:embed testdata/browser.html
var browserPage []byte

// browserPlan is what the page runs; the page fetches it as JSON. Each list
// is run in order and answered in the same order.
type browserPlan struct {
	// ServerCloses: the server closes with Body (hex); Drop drops the TCP
	// connection instead. The page reports the CloseEvent.
	ServerCloses []serverClose `json:"serverCloses"`
	// BrowserCloses: the page calls close(Code, Reason), or close() when
	// Plain; the server parses what arrives.
	BrowserCloses []browserClose `json:"browserCloses"`
	// Refusals: the page calls close(Code, Reason) and reports the name of
	// the exception it throws, or "accepted".
	Refusals []browserClose `json:"refusals"`
	// Raw: the server sends a raw Close frame; the server records the
	// browser's reply on the wire and the page its CloseEvent.
	Raw []string `json:"raw"`
}

type serverClose struct {
	Code reasons.Reason `json:"code"`
	Text string         `json:"text"`
	Body []byte         `json:"-"`
	Drop bool           `json:"drop"`
}

type browserClose struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	Plain  bool   `json:"plain"` // close() with no arguments
}

// closeEvent is what the page saw of a connection's end.
type closeEvent struct {
	Code     int    `json:"code"`
	Reason   string `json:"reason"`
	WasClean bool   `json:"wasClean"`
	Timeout  bool   `json:"timeout"`
}

type browserResults struct {
	Error         string       `json:"error"`
	ServerCloses  []closeEvent `json:"serverCloses"`
	BrowserCloses []closeEvent `json:"browserCloses"`
	Refusals      []string     `json:"refusals"`
	Raw           []closeEvent `json:"raw"`
}

// serverSaw is what the Go server read from the browser on one connection.
type serverSaw struct {
	code  reasons.Reason
	text  string
	err   error
	reply string // for raw cases: the browser's reply on the wire
}

// refusalCodes is a spread of codes to hand to WebSocket.close().
var refusalCodes = []int{0, 999, 1000, 1001, 1002, 1005, 1006, 1011, 1014, 1015, 2999, 3000, 3008, 3999, 4000, 4999, 5000, 65535}

// rawAnswer is what a browser did with one of browserRawCases: its reply on
// the wire (as in TestRawCloseFrames) and the CloseEvent code the page saw.
type rawAnswer struct {
	reply   string
	event   int
	verdict probe.Verdict // written by hand: the verdict the reply earns
}

// chromiumRaw is what Chromium answers to each of browserRawCases. Every
// entry is asserted by TestBrowserCloseCodes.
// Chromium checks only for the three codes RFC 6455 says are never sent:
// it echoes and reports every other code, even 0 and 65535, and an echo of
// a code that §7.4 does not define is wrong (§5.5.1). It answers a reason
// that is not UTF-8 with 1002 rather than 1007.
var chromiumRaw = browsersEcho(map[string]rawAnswer{
	"empty body":                    {"empty", 1005, probe.OK},
	"1-byte body":                   {"1002", 1006, probe.OK},
	"126-byte body":                 {"1002", 1006, probe.OK},
	"code 0":                        {"0", 0, probe.Wrong},
	"code 1005":                     {"1002", 1006, probe.OK},
	"code 1006":                     {"1002", 1006, probe.OK},
	"code 1015":                     {"1002", 1006, probe.OK},
	"UTF-8: lone continuation byte": {"1002", 1006, probe.Tolerated},
	"UTF-8: overlong '/'":           {"1002", 1006, probe.Tolerated},
	"UTF-8: surrogate U+D800":       {"1002", 1006, probe.Tolerated},
	"UTF-8: above U+10FFFF":         {"1002", 1006, probe.Tolerated},
	"UTF-8: truncated sequence":     {"1002", 1006, probe.Tolerated},
	"UTF-8: byte 0xff":              {"1002", 1006, probe.Tolerated},
})

// firefoxRaw is what Firefox answers to each of browserRawCases. Every
// entry is asserted by TestBrowserCloseCodes.
// Firefox answers the codes that are never sent (1005, 1006, 1015) and code
// 0 with an empty Close frame, yet reports them to the page as a clean close
// with that code. It echoes and reports every other code, even 999 and
// 65535 (wrong, as an echo sends a code §7.4 does not define, §5.5.1), and
// drops the connection, with no Close frame, on a 126-byte body or a reason
// that is not UTF-8.
var firefoxRaw = browsersEcho(map[string]rawAnswer{
	"empty body":                    {"empty", 1005, probe.OK},
	"1-byte body":                   {"empty", 1005, probe.Tolerated},
	"126-byte body":                 {"dropped", 1006, probe.Tolerated},
	"code 0":                        {"empty", 0, probe.Tolerated},
	"code 1005":                     {"empty", 1005, probe.Tolerated},
	"code 1006":                     {"empty", 1006, probe.Tolerated},
	"code 1015":                     {"empty", 1015, probe.Tolerated},
	"UTF-8: lone continuation byte": {"dropped", 1006, probe.Tolerated},
	"UTF-8: overlong '/'":           {"dropped", 1006, probe.Tolerated},
	"UTF-8: surrogate U+D800":       {"dropped", 1006, probe.Tolerated},
	"UTF-8: above U+10FFFF":         {"dropped", 1006, probe.Tolerated},
	"UTF-8: truncated sequence":     {"dropped", 1006, probe.Tolerated},
	"UTF-8: byte 0xff":              {"dropped", 1006, probe.Tolerated},
})

// browsersEcho adds to m what Chromium and Firefox both do with every code
// they take: echo it in their Close frame and report it to the page, ok
// for the valid codes and wrong for those no section of §7.4 defines: the
// echo sends that code itself (§5.5.1).
func browsersEcho(m map[string]rawAnswer) map[string]rawAnswer {
	add := func(v probe.Verdict, names ...string) {
		for _, name := range names {
			code, err := strconv.Atoi(regexp.MustCompile(`\d+`).FindString(name))
			if err != nil {
				panic(name)
			}
			m[name] = rawAnswer{strconv.Itoa(code), code, v}
		}
	}
	add(probe.OK, "valid code 1000", "valid code 1001", "valid code 1002", "valid code 1003", "valid code 1007",
		"valid code 1008", "valid code 1009", "valid code 1010", "valid code 1011", "valid code 3000", "valid code 3999",
		"valid code 4000", "valid code 4999", "1000 alone", "1000 with reason", "1000 with 123-byte reason",
		"1012 (IANA)", "1013 (IANA)", "1014 (IANA)")
	add(probe.Wrong, "code 999", "code 1004", "code 1016", "code 1100", "code 2000", "code 2999", "code 5000", "code 65535")
	return m
}

// firefoxRefuses lists where Firefox's close() departs from BrowserCloseable
// and MaxTextLen.
var firefoxRefuses = map[string]string{}

// browserRawCases are the rawCases the server sends to the browser: all
// but the one that asks whether the server closes TCP, which only a server
// can be asked, and the ones that send frames around the Close frame (7.1.x),
// which the browser server does not send.
func browserRawCases() []probe.Case {
	var cases []probe.Case
	for _, c := range rawCases {
		if !c.AfterClose && len(c.Before) == 0 && len(c.After) == 0 {
			cases = append(cases, c)
		}
	}
	return cases
}

func newBrowserPlan(t *testing.T) browserPlan {
	t.Helper()
	var p browserPlan
	for _, r := range sendableCodes {
		for _, text := range closeTexts {
			body, err := reasons.Format(r, text)
			if err != nil {
				t.Fatalf("Format(%d, %q): %v", r, text, err)
			}
			p.ServerCloses = append(p.ServerCloses, serverClose{Code: r, Text: text, Body: body})
		}
	}
	p.ServerCloses = append(p.ServerCloses,
		serverClose{Code: reasons.NoStatus, Body: []byte{}},  // an empty Close frame
		serverClose{Code: reasons.AbnormalClose, Drop: true}) // no Close frame at all
	multi123 := strings.Repeat("é", 61) + "a"
	p.BrowserCloses = []browserClose{
		{Code: 1000},
		{Code: 1000, Reason: "bye"},
		{Code: 3000, Reason: "who are you?"},
		{Code: 3008, Reason: "too slow"},
		{Code: 4999, Reason: multi123},
		{Plain: true},
	}
	for _, code := range refusalCodes {
		p.Refusals = append(p.Refusals, browserClose{Code: code, Reason: "x"})
	}
	p.Refusals = append(p.Refusals,
		browserClose{Code: 1000, Reason: multi123},
		browserClose{Code: 1000, Reason: multi123 + "b"},
		browserClose{Code: 4000, Reason: strings.Repeat("€", 42)}) // 126 bytes
	for _, c := range browserRawCases() {
		p.Raw = append(p.Raw, c.Name)
	}
	return p
}

// browserServer serves the page and every WebSocket the page opens. Its
// WebSockets are upgraded by gobwas/ws and framed by internal/wsframe, so
// the test sees the raw bytes.
type browserServer struct {
	plan    browserPlan
	results chan browserResults

	mu         sync.Mutex
	browserSaw map[string]serverSaw // by path
}

func (s *browserServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(browserPage)
		return
	case r.URL.Path == "/plan":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.plan)
		return
	case r.URL.Path == "/results" && r.Method == http.MethodPost:
		var res browserResults
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&res); err != nil {
			res.Error = "bad results: " + err.Error()
		}
		select {
		case s.results <- res:
		default:
		}
		return
	}
	kind, idx, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/ws/"), "/")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil {
		http.NotFound(w, r)
		return
	}
	conn, buf, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	ep := &referenceEndpoint{conn, buf}
	var saw serverSaw
	switch kind {
	case "server-close":
		c := s.plan.ServerCloses[i]
		if c.Drop {
			return
		}
		if err := ep.writeClose(c.Body); err != nil {
			return
		}
		ep.readClose() // the browser's reply makes the close clean
		return
	case "browser-close", "refusal":
		var code int
		code, saw.text, saw.err = ep.awaitClose()
		saw.code = reasons.Reason(code)
	case "raw":
		payload := browserRawCases()[i].Payload
		if err := writeServerClose(conn, payload); err != nil {
			return
		}
		saw.reply = replyOf(ep.readClose()).String()
	default:
		return
	}
	s.mu.Lock()
	s.browserSaw[r.URL.Path] = saw
	s.mu.Unlock()
}

func (s *browserServer) saw(path string) (serverSaw, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.browserSaw[path]
	return v, ok
}

// browserEngine is a browser the page runs in.
type browserEngine struct {
	name string
	peer outsidePeer
	// args are the command-line arguments that open url headless, with the
	// fresh profile directory profile.
	args func(profile, url string) []string
	// raw is what the browser answers to each of browserRawCases.
	raw map[string]rawAnswer
	// refuses lists the close(code, reason) calls the browser refuses
	// otherwise than BrowserCloseable and MaxTextLen say: by code (and
	// reason length), the exception's name, or "accepted".
	refuses map[string]string
}

var browsers = []browserEngine{
	{
		name: "chromium", peer: chromium, raw: chromiumRaw,
		args: func(profile, url string) []string {
			return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--user-data-dir=" + profile, url}
		},
	},
	{
		name: "firefox", peer: firefox, raw: firefoxRaw, refuses: firefoxRefuses,
		args: func(profile, url string) []string {
			return []string{"--headless", "--no-remote", "--profile", profile, url}
		},
	},
}

// firefoxPrefs keep a headless Firefox from reaching out to the network and
// from showing first-run pages.
const firefoxPrefs = `user_pref("app.update.disabledForTesting", true);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("browser.safebrowsing.update.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("browser.aboutwelcome.enabled", false);
`

// runBrowser starts the browser at path on url with a fresh profile and
// returns the page's results. It kills the browser, by its PID, before
// returning.
func runBrowser(t *testing.T, b browserEngine, path, url string, results <-chan browserResults) browserResults {
	t.Helper()
	var res browserResults
	done := make(chan struct{})
	go func() {
		select {
		case res = <-results:
			close(done)
		case <-time.After(browserTimeout + time.Second):
		}
	}()
	launchBrowser(t, b, path, url, done, b.args)
	return res
}

// launchBrowser starts the browser at path on url, with the arguments args
// gives for a fresh profile, and returns once done is closed; it fails the
// test when the browser exits first or browserTimeout passes. It kills the
// browser, by its PID, before returning.
func launchBrowser(t *testing.T, b browserEngine, path, url string, done <-chan struct{}, args func(profile, url string) []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	profile := t.TempDir()
	if b.name == "firefox" {
		if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(firefoxPrefs), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(ctx, path, args(profile, url)...)
	cmd.Env = append(os.Environ(), "HOME="+profile, "MOZ_CRASHREPORTER_DISABLE=1")
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", b.name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("%s (pid %d) did not exit after being killed", b.name, cmd.Process.Pid)
		}
	}()
	select {
	case <-done:
	case err := <-exited:
		select {
		case <-done: // it finished its work and exited, as --screenshot does
		default:
			t.Fatalf("%s exited before the page was done: %v\n%s", b.name, err, stderr.String())
		}
	case <-ctx.Done():
		t.Fatalf("the page was not done within %v\n%s said:\n%s", browserTimeout, b.name, stderr.String())
	}
}

// TestBrowserCloseCodes runs each real headless browser against a Go server
// on 127.0.0.1, in both directions, and checks that package reasons agrees
// with what the browser does.
func TestBrowserCloseCodes(t *testing.T) {
	t.Parallel()
	for _, b := range browsers {
		t.Run(b.name, func(t *testing.T) { testBrowser(t, b) })
	}
}

func testBrowser(t *testing.T, b browserEngine) {
	path := b.peer.need(t)
	s := &browserServer{plan: newBrowserPlan(t), results: make(chan browserResults, 1), browserSaw: map[string]serverSaw{}}
	srv := httptest.NewServer(s)
	defer srv.Close()

	res := runBrowser(t, b, path, srv.URL+"/", s.results)
	if res.Error != "" {
		t.Fatalf("the page failed: %s", res.Error)
	}
	plan := s.plan
	if len(res.ServerCloses) != len(plan.ServerCloses) || len(res.BrowserCloses) != len(plan.BrowserCloses) ||
		len(res.Refusals) != len(plan.Refusals) || len(res.Raw) != len(plan.Raw) {
		t.Fatalf("the page answered %d/%d/%d/%d cases, want %d/%d/%d/%d",
			len(res.ServerCloses), len(res.BrowserCloses), len(res.Refusals), len(res.Raw),
			len(plan.ServerCloses), len(plan.BrowserCloses), len(plan.Refusals), len(plan.Raw))
	}

	t.Run("server_closes", func(t *testing.T) {
		for i, c := range plan.ServerCloses {
			got := res.ServerCloses[i]
			wantClean := !c.Drop
			if got.Code != int(c.Code) || got.Reason != c.Text || got.WasClean != wantClean || got.Timeout {
				t.Errorf("server closed with %d %q (drop=%v): page saw %+v, want code %d, reason %q, wasClean %v",
					c.Code, c.Text, c.Drop, got, c.Code, c.Text, wantClean)
			}
		}
	})

	t.Run("browser_closes", func(t *testing.T) {
		for i, c := range plan.BrowserCloses {
			saw, ok := s.saw(fmt.Sprintf("/ws/browser-close/%d", i))
			want, wantText := reasons.Reason(c.Code), c.Reason
			if c.Plain {
				want, wantText = reasons.NoStatus, ""
			}
			if !ok || saw.err != nil || saw.code != want || saw.text != wantText {
				t.Errorf("page closed with %+v: server parsed %d %q, %v (seen %v); want %d %q",
					c, saw.code, saw.text, saw.err, ok, want, wantText)
			}
			if ev := res.BrowserCloses[i]; !ev.WasClean || ev.Code != int(want) {
				t.Errorf("page closed with %+v: its CloseEvent was %+v, want a clean close with %d", c, ev, want)
			}
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for i, c := range plan.Refusals {
			got := res.Refusals[i]
			want := browserRefusal(c)
			if dev, ok := b.refuses[refusalKey(c)]; ok {
				if dev == want {
					t.Errorf("%s's refusal list repeats what BrowserCloseable says for %s", b.name, refusalKey(c))
				}
				want = dev
			}
			if got != want {
				t.Errorf("close(%d, %d-byte reason): %s %s, want %s", c.Code, len(c.Reason), b.name, got, want)
			}
			if got != "accepted" {
				continue
			}
			saw, ok := s.saw(fmt.Sprintf("/ws/refusal/%d", i))
			if !ok || saw.err != nil || int(saw.code) != c.Code || saw.text != c.Reason {
				t.Errorf("close(%d, %q) was accepted, but the server parsed %d %q, %v", c.Code, c.Reason, saw.code, saw.text, saw.err)
			}
		}
	})

	t.Run("raw", func(t *testing.T) {
		for i, c := range browserRawCases() {
			saw, _ := s.saw(fmt.Sprintf("/ws/raw/%d", i))
			ev := res.Raw[i]
			want, listed := b.raw[c.Name]
			if !listed || saw.reply != want.reply || ev.Code != want.event {
				t.Errorf("%s: %s replied %s and reported CloseEvent %+v; its table lists %+v (listed %v)",
					c.Name, b.name, saw.reply, ev, want, listed)
			}
		}
	})
}

// browserRefusal is what BrowserCloseable and MaxTextLen say a browser does
// with close(c.Code, c.Reason): the exception the WebSocket standard names,
// or "accepted".
func browserRefusal(c browserClose) string {
	switch {
	case !reasons.Reason(c.Code).BrowserCloseable():
		return "InvalidAccessError"
	case len(c.Reason) > reasons.MaxTextLen:
		return "SyntaxError"
	}
	return "accepted"
}

// refusalKey names a close(code, reason) call in the engines' refuses maps.
func refusalKey(c browserClose) string {
	return fmt.Sprintf("%d, %d-byte reason", c.Code, len(c.Reason))
}

// replyOf turns what a raw reader returned, a Close frame's body or an error
// when the connection ended without one, into a probe.Reply.
func replyOf(body []byte, err error) probe.Reply {
	if err != nil {
		return probe.Dropped
	}
	return probe.Close(body)
}
