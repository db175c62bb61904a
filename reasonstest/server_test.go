package reasonstest_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/wsframe"
	"github.com/wsreasons/reasons/probe"
	"github.com/wsreasons/reasons/reasonstest"
)

// client connects to path on srv, reads what the server sends until its
// Close frame, and answers with reply (nil: no answer, the connection is
// closed).
func client(t *testing.T, srv *reasonstest.Server, path string, reply func(serverClose []byte) []byte) {
	t.Helper()
	c, err := probe.Dial(context.Background(), srv.URL+path, probe.DialOptions{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := c.ReadReply()
	if b := reply(got.Body); b != nil {
		c.Write(b)
		c.AwaitTCPClose()
	}
}

func masked(body []byte) []byte {
	return wsframe.Append(nil, wsframe.OpClose, body, &[4]byte{7, 7, 7, 7})
}

func echo(body []byte) []byte { return masked(body[:min(len(body), 2)]) }

// lastEvent waits until srv has recorded n events and returns the last.
func lastEvent(t *testing.T, srv *reasonstest.Server, n int) reasonstest.Event {
	t.Helper()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if ev := srv.Events(); len(ev) >= n {
			return ev[n-1]
		}
	}
	t.Fatalf("no event %d", n)
	return reasonstest.Event{}
}

// TestServerJudgesClients: each client answer, judged by the same rules as
// the probe, with the client's own rule on masking.
func TestServerJudgesClients(t *testing.T) {
	srv := reasonstest.NewServer(reasonstest.ClientTimeout(500 * time.Millisecond))
	defer srv.Close()
	tests := []struct {
		path            string
		reply           func([]byte) []byte
		sent, got       string
		verdict         probe.Verdict
		rule            string // words the rule holds
		autobahn, grade string
	}{
		{"/close/1012?reason=deploy", echo, "Close 03 f4 64 65 70 6c 6f 79", "1012", probe.OK, "", "", ""},
		{"/close/4000", echo, "Close 0f a0", "4000", probe.OK, "", "", ""},
		{"/close/1000", func(b []byte) []byte { return wsframe.Append(nil, wsframe.OpClose, b, nil) }, "Close 03 e8", "1000, unmasked", probe.Wrong, "§5.3", "", ""},
		{"/close/1000", func([]byte) []byte { return masked([]byte{0x03, 0xed}) }, "Close 03 e8", "1005", probe.Wrong, "§7.4.1", "", ""},
		{"/close/1005", echo, "Close 03 ed", "1005", probe.Wrong, "§7.4.1", "", ""},
		{"/close/1005", func([]byte) []byte { return masked([]byte{0x03, 0xea}) }, "Close 03 ed", "1002", probe.OK, "", "", ""},
		{"/close/3000", func([]byte) []byte { return masked([]byte{0x03, 0xea}) }, "Close 0b b8", "1002", probe.Wrong, "protocol error", "", ""},
		{"/close/1000", func([]byte) []byte { return nil }, "Close 03 e8", "dropped", probe.Wrong, "§5.5.1", "", ""},
		{"/raw/7.9.2", echo, "code 999: Close 03 e7", "999", probe.Wrong, "0-999 are not used as close codes (§7.4.2)", "7.9.2", "WRONG CODE"},
		{"/raw/7.9.2", func([]byte) []byte { return masked([]byte{0x03, 0xea}) }, "code 999: Close 03 e7", "1002", probe.OK, "", "7.9.2", "OK"},
		{"/raw/7.1.1", echo, "text, then Close: Close 03 e8", "1000", probe.OK, "", "7.1.1", "FAILED"}, // no echo of the text
	}
	for i, tc := range tests {
		client(t, srv, tc.path, tc.reply)
		e := lastEvent(t, srv, i+1)
		if e.Path != tc.path || e.Sent != tc.sent || e.Got != tc.got || e.Verdict != tc.verdict || !strings.Contains(e.Rule, tc.rule) ||
			e.Autobahn != tc.autobahn || string(e.Grade) != tc.grade {
			t.Errorf("%s: event %+v\nwant sent %q, got %q, %s (%q), Autobahn %q %s", tc.path, e, tc.sent, tc.got, tc.verdict, tc.rule, tc.autobahn, tc.grade)
		}
	}
}

// TestServerBadRequests: clear errors, no panic.
func TestServerBadRequests(t *testing.T) {
	srv := reasonstest.NewServer()
	defer srv.Close()
	httpURL := "http" + strings.TrimPrefix(srv.URL, "ws")
	for path, want := range map[string]string{
		"/close/70000":        "a number from 0 to 65535",
		"/close/abc":          "a number from 0 to 65535",
		"/close/1000?after=x": "after=",
		"/raw/9.9.9":          "no probe case",
		"/nothing":            "no such path",
		"/close/1000?reason=" + strings.Repeat("x", 1025): "reason= has 1025 bytes: at most 1024",
	} {
		_, err := probe.Dial(context.Background(), srv.URL+path, probe.DialOptions{Timeout: time.Second})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", path, err, want)
		}
	}
	// An Upgrade header without the rest of a handshake.
	req, _ := http.NewRequest(http.MethodGet, httpURL+"/close/1000", nil)
	req.Header.Set("Upgrade", "websocket")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Error(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "Sec-WebSocket-Key") {
			t.Errorf("a handshake without a key: %s %q", resp.Status, body)
		}
	}
	resp, err := http.Get(httpURL + "/cases")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cases []struct{ ID, Autobahn, Name string }
	if err := json.NewDecoder(resp.Body).Decode(&cases); err != nil || len(cases) != 46 || cases[0].ID != "7.1.1" {
		t.Errorf("/cases: %v, %d cases, first %+v", err, len(cases), cases[0])
	}
}

func TestServerSilentAndDrop(t *testing.T) {
	srv := reasonstest.NewServer(reasonstest.ClientTimeout(300 * time.Millisecond))
	defer srv.Close()
	c, err := probe.Dial(context.Background(), srv.URL+"/silent", probe.DialOptions{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c.WriteClose([]byte{0x03, 0xe8})
	time.Sleep(50 * time.Millisecond)
	c.Close() // gives up waiting and closes TCP
	if e := lastEvent(t, srv, 1); !strings.HasPrefix(e.Got, "Close 1000, then TCP closed after") || e.Verdict != probe.OK {
		t.Errorf("silent: %+v", e)
	}
	c, err = probe.Dial(context.Background(), srv.URL+"/drop", probe.DialOptions{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ReadReply(); !got.Dropped {
		t.Errorf("/drop: the client saw %v", got)
	}
	if e := lastEvent(t, srv, 2); e.Sent != "TCP cut, no Close frame" {
		t.Errorf("drop: %+v", e)
	}
}

// TestScriptNaiveClient: a client that comes straight back, whatever the
// code, is wrong after 1012 and 1013, has no back-off after 1001, and past
// five returns in a second is a loop, whatever the code; repeated rows
// collapse into one with a count.
func TestScriptNaiveClient(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	srv := reasonstest.NewServer(reasonstest.Script(1012, 1013, 1001, 1001, 1001, 1008),
		reasonstest.OnEvent(func(e reasonstest.Event) { mu.Lock(); lines = append(lines, e.Note); mu.Unlock() }))
	defer srv.Close()
	for range 11 {
		client(t, srv, "/", echo)
	}
	type row struct {
		step, count int
		code        reasons.Reason
		verdict     probe.Verdict
		rule        string // words the rule holds
	}
	want := []row{
		{1, 1, 1012, probe.Wrong, "5s to 30s SHOULD"},
		{2, 1, 1013, probe.Wrong, "1013 SHOULD"},
		{3, 2, 1001, probe.OK, ""},
		{5, 1, 1001, probe.Wrong, "no back-off §7.2.3 SHOULD"},
		{6, 5, 1008, probe.Wrong, "loop 5 1s"},
		{11, 1, 1008, probe.OK, ""}, // not back
	}
	rows := srv.Reconnects()
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, r := range rows {
		w := want[i]
		if r.Step != w.step || r.Count != w.count || r.Code != w.code || r.Verdict != w.verdict {
			t.Errorf("row %d: step %d ×%d, %d, %s (%s); want step %d ×%d, %d, %s", i, r.Step, r.Count, r.Code, r.Verdict, r.Rule, w.step, w.count, w.code, w.verdict)
		}
		for _, word := range strings.Fields(w.rule) {
			if !strings.Contains(r.Rule, word) {
				t.Errorf("row %d: rule %q does not say %q", i, r.Rule, word)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 11 || lines[0] != "step 1: 1012 ServiceRestart" || lines[10] != "step 11: 1008 PolicyViolation" {
		t.Errorf("notes %q", lines)
	}
	// Check fails the naive client's test once per wrong row.
	rec := &recorder{TB: t}
	srv.Check(rec)
	if len(rec.errors) != 4 {
		t.Errorf("Check: %d errors, want 4 (the wrong rows): %q", len(rec.errors), rec.errors)
	}
}

// TestScriptCarefulClient: a client that backs off after 1001 and stops
// after 1000 passes Check.
func TestScriptCarefulClient(t *testing.T) {
	srv := reasonstest.NewServer(reasonstest.Script(1001, 1001, 1000))
	defer srv.Close()
	for i := range 3 {
		if i > 0 {
			time.Sleep(time.Duration(i) * 200 * time.Millisecond) // back-off
		}
		client(t, srv, "/", echo)
	}
	rec := &recorder{TB: t}
	srv.Check(rec)
	// Two rows: 1001 twice (ok, collapsed), then 1000, not back (ok).
	if len(rec.errors) != 0 || len(srv.Reconnects()) != 2 {
		t.Errorf("Check: errors %q on %d rows, want none on 2", rec.errors, len(srv.Reconnects()))
	}
}

// TestScriptRefusalLoop: returns after a code advised denied, spaced so
// that no second holds more than five, are tolerated three times in a row
// and wrong the fourth: a loop.
func TestScriptRefusalLoop(t *testing.T) {
	srv := reasonstest.NewServer(reasonstest.Script(1008))
	defer srv.Close()
	for i := range 5 {
		if i > 0 {
			time.Sleep(250 * time.Millisecond)
		}
		client(t, srv, "/", echo)
	}
	rows := srv.Reconnects()
	got := ""
	for _, r := range rows {
		got += fmt.Sprintf("%d×%d %s; ", r.Step, r.Count, r.Verdict)
	}
	if got != "1×3 tolerated; 4×1 wrong; 5×1 ok; " || !strings.Contains(rows[1].Rule, "4 or more returns in a row") {
		t.Errorf("rows %s (%q), want 1×3 tolerated; 4×1 wrong; 5×1 ok", got, rows[1].Rule)
	}
}

// TestScriptPerClient: each client has its own place in the script, by
// client= or by origin and IP, and the report groups by client.
func TestScriptPerClient(t *testing.T) {
	srv := reasonstest.NewServer(reasonstest.Script(1001, 1013))
	defer srv.Close()
	client(t, srv, "/?client=a", echo)
	client(t, srv, "/?client=b", echo) // b's first step: 1001, not a's second
	client(t, srv, "/?client=a", echo)
	var got []string
	for _, r := range srv.Reconnects() {
		got = append(got, fmt.Sprintf("%s %d %d %v", r.Client, r.Step, r.Code, r.Back))
	}
	if want := []string{"a 1 1001 true", "a 2 1013 false", "b 1 1001 false"}; !slices.Equal(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
	for _, e := range srv.Events() {
		if !strings.HasPrefix(e.Path, "/?client="+e.Client) {
			t.Errorf("event %s counted for client %q", e.Path, e.Client)
		}
	}
}

// TestScriptBackAfterIgnoresWait: the time a client took to come back is
// measured to its arrival, not to the end of the server's own after= wait.
func TestScriptBackAfterIgnoresWait(t *testing.T) {
	srv := reasonstest.NewServer(reasonstest.Script(1001))
	defer srv.Close()
	client(t, srv, "/?after=300ms", echo)
	client(t, srv, "/?after=300ms", echo)
	rows := srv.Reconnects()
	if len(rows) != 2 || !rows[0].Back || rows[0].BackAfter >= 250*time.Millisecond {
		t.Errorf("rows %+v: the client came straight back, want back after well under the 300ms wait", rows)
	}
}

// TestServerEcho: /echo judges the client's own Close frame by the rules on
// sending one, and answers it as package reasons does: a code that may not
// be sent gets 1002 with no reason, never its echo.
func TestServerEcho(t *testing.T) {
	srv := reasonstest.NewServer(reasonstest.ClientTimeout(time.Second))
	defer srv.Close()
	tests := []struct {
		name    string
		frame   []byte // what the client sends
		back    string // the frame the server answers with, in hex
		verdict probe.Verdict
		rule    string // words the rule holds
	}{
		{"1004", masked([]byte{0x03, 0xec}), "880203ea", probe.Wrong, "1004 §7.4.1 §5.5.1"},
		{"5000", masked([]byte{0x13, 0x88}), "880203ea", probe.Wrong, "5000 §7.4.2 §5.5.1"},
		{"1005", masked([]byte{0x03, 0xed}), "880203ea", probe.Wrong, "1005 §7.4.1"},
		{"1000 with a reason", masked([]byte{0x03, 0xe8, 'b', 'y', 'e'}), "880203e8", probe.OK, ""},
		{"4000", masked([]byte{0x0f, 0xa0}), "88020fa0", probe.OK, ""},
		{"empty", masked(nil), "8800", probe.OK, ""},
		{"unmasked 1000", wsframe.Append(nil, wsframe.OpClose, []byte{0x03, 0xe8}, nil), "880203e8", probe.Wrong, "masked §5.3"},
	}
	for i, tc := range tests {
		c, err := probe.Dial(context.Background(), srv.URL+"/echo", probe.DialOptions{Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		c.Write(tc.frame)
		r := c.ReadReply()
		c.Close()
		if r.Dropped || r.TimedOut || r.Masked || r.RSV != 0 || r.FINClear || r.Frames != 0 {
			t.Errorf("%s: the server answered %+v, want one plain Close frame", tc.name, r)
		} else if got := hex.EncodeToString(wsframe.Append(nil, wsframe.OpClose, r.Body, nil)); got != tc.back {
			t.Errorf("%s: the server answered %s, want %s", tc.name, got, tc.back)
		}
		e := lastEvent(t, srv, i+1)
		if e.Verdict != tc.verdict {
			t.Errorf("%s: event %s (%s), want %s", tc.name, e.Verdict, e.Rule, tc.verdict)
		}
		for _, w := range strings.Fields(tc.rule) {
			if !strings.Contains(e.Rule, w) {
				t.Errorf("%s: rule %q does not say %q", tc.name, e.Rule, w)
			}
		}
	}
}

// TestServerCheck: Check fails a test for each wrong event and logs each
// tolerated one, naming the path and the rule.
func TestServerCheck(t *testing.T) {
	srv := reasonstest.NewServer(reasonstest.ClientTimeout(500 * time.Millisecond))
	defer srv.Close()
	client(t, srv, "/close/4000", echo)                                                      // ok
	client(t, srv, "/close/1000", func([]byte) []byte { return masked([]byte{0x03, 0xed}) }) // wrong: 1005
	client(t, srv, "/close/1000", func([]byte) []byte { return masked([]byte{}) })           // tolerated: empty
	lastEvent(t, srv, 3)
	rec := &recorder{TB: t}
	srv.Check(rec)
	if len(rec.errors) != 1 || !strings.HasPrefix(rec.errors[0], "wrong: /close/1000: sent Close 03 e8, got 1005: ") || !strings.Contains(rec.errors[0], "§7.4.1") {
		t.Errorf("errors %q, want one for the 1005", rec.errors)
	}
	if len(rec.logs) != 1 || !strings.HasPrefix(rec.logs[0], "tolerated, not a failure: /close/1000: sent Close 03 e8, got empty") {
		t.Errorf("logs %q, want one for the empty Close", rec.logs)
	}
}

// TestServerCloseCompletesEvents: Events right after Close holds every
// connection, the ones still open recorded as such, in every run.
func TestServerCloseCompletesEvents(t *testing.T) {
	for run := range 100 {
		srv := reasonstest.NewServer(reasonstest.ClientTimeout(5 * time.Second))
		c1, err := probe.Dial(context.Background(), srv.URL+"/close/1000", probe.DialOptions{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		c1.ReadReply()
		c1.Write(echo([]byte{0x03, 0xe8}))
		c1.AwaitTCPClose() // its handshake is done: the server closed TCP
		// One still waiting: the server has not closed it yet.
		c2, err := probe.Dial(context.Background(), srv.URL+"/close/1000?after=1m", probe.DialOptions{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		srv.Close()
		c1.Close()
		c2.Close()
		ev := srv.Events()
		if len(ev) != 2 {
			t.Fatalf("run %d: %d events after Close, want 2: %+v", run, len(ev), ev)
		}
		var got []string
		for _, e := range ev {
			got = append(got, e.Path+": "+e.Got)
		}
		slices.Sort(got)
		if want := []string{"/close/1000: 1000", "/close/1000?after=1m: still open when the server stopped"}; !slices.Equal(got, want) {
			t.Fatalf("run %d: events %q, want %q", run, got, want)
		}
	}
}

// TestServerGuards: a foreign Host is refused (DNS rebinding), a page of
// another origin may neither post nor open WebSockets, a client with no
// Origin (not a browser) may, and so may the server's own page.
func TestServerGuards(t *testing.T) {
	t.Parallel()
	srv := reasonstest.NewServer(probe.AllowOrigin("http://localhost:3000"))
	defer srv.Close()
	httpURL := "http" + strings.TrimPrefix(srv.URL, "ws")
	do := func(method, path string, header map[string]string) (int, string) {
		req, _ := http.NewRequest(method, httpURL+path, strings.NewReader("[]"))
		for k, v := range header {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	own := "http://" + strings.TrimPrefix(httpURL, "http://")
	ws := map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
	with := func(m map[string]string, k, v string) map[string]string {
		n := maps.Clone(m)
		if n == nil {
			n = map[string]string{}
		}
		n[k] = v
		return n
	}
	for _, tc := range []struct {
		name, method, path string
		header             map[string]string
		status             int
		says               string
	}{
		{"foreign Host", "GET", "/events", map[string]string{"Host": "attacker.example"}, 403, `Host "attacker.example"`},
		{"foreign Host on a WebSocket", "GET", "/echo", with(ws, "Host", "attacker.example:80"), 403, "rebind"},
		{"localhost", "GET", "/events", map[string]string{"Host": "localhost"}, 200, ""},
		{"[::1]", "GET", "/events", map[string]string{"Host": "[::1]:9"}, 200, ""},
		{"cross-origin POST", "POST", "/page-results", map[string]string{"Origin": "http://evil.example"}, 403, "may not post"},
		{"allowed origin may not POST", "POST", "/page-results", map[string]string{"Origin": "http://localhost:3000"}, 403, "may not post"},
		{"own page's POST", "POST", "/page-results", map[string]string{"Origin": own}, 200, ""},
		{"cross-origin WebSocket", "GET", "/echo", with(ws, "Origin", "http://evil.example"), 403, "-origin"},
		{"allowed origin's WebSocket", "GET", "/close/1000", with(ws, "Origin", "http://localhost:3000"), 101, ""},
		{"own page's WebSocket", "GET", "/close/1000", with(ws, "Origin", own), 101, ""},
		{"no Origin: not a browser", "GET", "/close/1000", ws, 101, ""},
	} {
		status, body := do(tc.method, tc.path, tc.header)
		if status != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d %q, want %d saying %q", tc.name, status, body, tc.status, tc.says)
		}
	}
}

// TestServerBounds: the events are a ring, each cut to its stated length;
// /events pages; a client that leaves during after= ends the wait.
func TestServerBounds(t *testing.T) {
	srv := reasonstest.NewServer(probe.KeepEvents(3), reasonstest.ClientTimeout(time.Second))
	defer srv.Close()
	long := strings.Repeat("p", 300)
	for i := range 5 {
		client(t, srv, fmt.Sprintf("/close/1000?n=%d&x=%s", i, long), func([]byte) []byte {
			return masked(append([]byte{0x03, 0xe8}, strings.Repeat("r", 200)...)) // breaks §5.5
		})
	}
	ev := lastEvent(t, srv, 3)
	all := srv.Events()
	if len(all) != 3 || all[0].Seq != 3 || ev.Seq != 5 {
		t.Fatalf("%d events, seqs %d..%d; want the last 3 of 5", len(all), all[0].Seq, ev.Seq)
	}
	if len(ev.Path) > 256+20 || !strings.Contains(ev.Path, "… (") || len(ev.GotText) > 125+20 || !strings.Contains(ev.GotText, "… (200 bytes)") || len(ev.GotBytes) != 125 {
		t.Errorf("not cut: path %d bytes, text %q, %d bytes kept", len(ev.Path), ev.GotText, len(ev.GotBytes))
	}
	if ev.Verdict != probe.Wrong || !strings.Contains(ev.Rule, "§5.5") {
		t.Errorf("a 202-byte Close: %s (%s), want wrong by §5.5", ev.Verdict, ev.Rule)
	}
	resp, err := http.Get("http" + strings.TrimPrefix(srv.URL, "ws") + "/events?after=3&limit=1")
	if err != nil {
		t.Fatal(err)
	}
	var page []reasonstest.Event
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if len(page) != 1 || page[0].Seq != 4 {
		t.Errorf("/events?after=3&limit=1: %d events, want the one numbered 4", len(page))
	}

	// A client that leaves during a minute's after= ends the wait.
	c, err := probe.Dial(context.Background(), srv.URL+"/close/1000?after=1m", probe.DialOptions{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	for end := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if ev := srv.Events(); ev[len(ev)-1].Seq == 6 {
			if e := ev[len(ev)-1]; !strings.Contains(e.Sent, "left during after=1m") {
				t.Errorf("event %+v, want the client gone during the wait", e)
			}
			break
		}
		if time.Now().After(end) {
			t.Fatal("no event for the client that left during after=")
		}
	}
}

// TestServerConnectionLimit: past the limit, a connection is answered 503
// with the reason, and the server still answers once one is free.
func TestServerConnectionLimit(t *testing.T) {
	srv := reasonstest.NewServer()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "ws://")
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range probe.DefaultMaxConns {
		c, err := net.Dial("tcp", addr) // idle: no request
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// One more is refused at once, before it sends a request.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	refusal, _ := io.ReadAll(c)
	c.Close()
	if !strings.HasPrefix(string(refusal), "HTTP/1.1 503 Service Unavailable\r\n") || !strings.Contains(string(refusal), fmt.Sprintf("at most %d at once", probe.DefaultMaxConns)) {
		t.Errorf("over the limit: %q, want 503 saying why", refusal)
	}
	held[0].Close()
	held = held[1:]
	for end := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/cases")
		if err == nil && resp.StatusCode == http.StatusOK {
			resp.Body.Close()
			break
		}
		if err == nil {
			resp.Body.Close()
		}
		if time.Now().After(end) {
			t.Fatal("the server did not answer once a connection was free")
		}
	}
}

// TestScriptRefusedHandshakes: /status/CODE refuses the handshake, and the
// client's returns are judged: before Retry-After is wrong, a fourth 401
// in a row is a loop, and a return after Retry-After is ok.
func TestScriptRefusedHandshakes(t *testing.T) {
	t.Parallel()
	srv := reasonstest.NewServer()
	defer srv.Close()
	dial := func(path string) {
		_, err := probe.Dial(context.Background(), srv.URL+path, probe.DialOptions{Timeout: time.Second})
		if err == nil || !strings.Contains(err.Error(), "not 101") {
			t.Fatalf("%s: %v, want the handshake refused", path, err)
		}
	}
	dial("/status/429?retry-after=1&client=eager")
	dial("/status/429?retry-after=1&client=eager") // at once: before Retry-After
	dial("/status/503?retry-after=1&client=patient")
	time.Sleep(1100 * time.Millisecond)
	dial("/status/503?retry-after=1&client=patient") // after it
	for i := range 5 {
		if i > 0 {
			time.Sleep(250 * time.Millisecond)
		}
		dial("/status/401?client=token")
	}
	var got []string
	for _, r := range srv.Reconnects() {
		got = append(got, fmt.Sprintf("%s %d×%d %d %s", r.Client, r.Step, r.Count, r.Status, r.Verdict))
	}
	want := []string{"eager 1×1 429 wrong", "eager 2×1 429 tolerated", "patient 1×1 503 ok", "patient 2×1 503 tolerated",
		"token 1×3 401 tolerated", "token 4×1 401 wrong", "token 5×1 401 ok"}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n%q\nwant\n%q", got, want)
	}
	rows := srv.Reconnects()
	if !strings.Contains(rows[0].Rule, "RFC 6585 §4") || !strings.Contains(rows[0].Rule, "Retry-After of 1s") || !strings.Contains(rows[5].Rule, "a loop") {
		t.Errorf("rules %q, %q", rows[0].Rule, rows[5].Rule)
	}
	if e := lastEvent(t, srv, 1); e.Sent != "handshake refused: 429 Too Many Requests, Retry-After: 1" || e.Note != "step 1: HTTP 429" {
		t.Errorf("event %+v", e)
	}
}

// fleetClient connects to url, reads until the server closes, waits wait,
// and connects again, holding the second connection open until the test
// ends it.
func fleetClient(t *testing.T, url string, wait time.Duration, ready *sync.WaitGroup) *probe.Conn {
	c, err := probe.Dial(context.Background(), url, probe.DialOptions{Timeout: 10 * time.Second})
	ready.Done()
	if err != nil {
		t.Error(err)
		return nil
	}
	got := c.ReadReply()
	c.Write(echo(got.Body))
	c.AwaitTCPClose()
	c.Close()
	time.Sleep(wait)
	back, err := probe.Dial(context.Background(), url, probe.DialOptions{Timeout: 10 * time.Second})
	if err != nil {
		t.Error(err)
		return nil
	}
	return back
}

// TestFleet: a fleet closed at once comes back as a herd when its clients
// return at once (wrong; after 1012 wrong for coming back within 5 s too),
// and is ok when their returns are spread.
func TestFleet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		script  []reasons.Reason
		spread  time.Duration // between one client's return and the next's
		verdict probe.Verdict
		rule    string
	}{
		{"naive after 1012", nil, 0, probe.Wrong, "IANA registration of 1012 5s to 30s SHOULD"},
		{"naive after 1001", []reasons.Reason{1001}, 0, probe.Wrong, "a herd: 5 of 5 within 1s §7.2.3"},
		{"spread after 1001", []reasons.Reason{1001}, 600 * time.Millisecond, probe.OK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := reasonstest.NewServer(reasonstest.Fleet(5), reasonstest.Script(tc.script...))
			defer srv.Close()
			var ready, done sync.WaitGroup
			back := make([]*probe.Conn, 5)
			for i := range 5 {
				ready.Add(1)
				done.Add(1)
				go func() { defer done.Done(); back[i] = fleetClient(t, srv.URL+"/", time.Duration(i)*tc.spread, &ready) }()
			}
			done.Wait()
			f := srv.Handler.Fleet()
			for end := time.Now().Add(3 * time.Second); f.Returns < 5 && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
				f = srv.Handler.Fleet() // the server counts a return once its handler runs
			}
			if f.Returns != 5 || f.Verdict != tc.verdict {
				t.Errorf("%s", f)
			}
			for _, w := range strings.Fields(tc.rule) {
				if !strings.Contains(f.Rule, w) {
					t.Errorf("rule %q does not say %q", f.Rule, w)
				}
			}
			rec := &recorder{TB: t}
			srv.Check(rec)
			if failed := slices.ContainsFunc(rec.errors, func(e string) bool { return strings.Contains(e, "fleet of 5") }); failed != (tc.verdict == probe.Wrong) {
				t.Errorf("Check's errors %q, want a fleet error: %v", rec.errors, tc.verdict == probe.Wrong)
			}
			resp, err := http.Get("http" + strings.TrimPrefix(srv.URL, "ws") + "/report")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(page), "<svg") || !strings.Contains(string(page), "How the fleet came back") {
				t.Errorf("/report has no plot of the returns")
			}
			srv.Close() // ends the held returns
			for _, c := range back {
				if c != nil {
					c.Close()
				}
			}
		})
	}
}

// TestServerSilentKeptOpen: a client that keeps TCP open after a Close the
// server never answers breaks no rule, but §7.1.1 expects it to give up
// and close: tolerated, with the rule; and without ClientTimeout the wait
// is the documented 5 s.
func TestServerSilentKeptOpen(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		opts []reasonstest.ServerOption
		wait string
	}{
		{[]reasonstest.ServerOption{reasonstest.ClientTimeout(300 * time.Millisecond)}, "300ms"},
		{nil, "5s"},
	} {
		srv := reasonstest.NewServer(c.opts...)
		conn, err := probe.Dial(context.Background(), srv.URL+"/silent", probe.DialOptions{Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		conn.WriteClose([]byte{0x03, 0xe8})
		var e reasonstest.Event
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if ev := srv.Events(); len(ev) > 0 {
				e = ev[0]
				break
			}
		}
		conn.Close()
		srv.Close()
		if e.Verdict != probe.Tolerated || e.Got != "Close 1000, then TCP kept open for "+c.wait || !strings.Contains(e.Rule, "§7.1.1") {
			t.Errorf("a client that keeps TCP open (wait %s): %+v", c.wait, e)
		}
	}
}
