package reasonstest_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
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
// code, is wrong after 1012 and 1013, loops after 1008, and has no back-off
// after 1001.
func TestScriptNaiveClient(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	srv := reasonstest.NewServer(reasonstest.Script(1012, 1013, 1001, 1001, 1001, 1008, 1008, 1008, 1008, 1008),
		reasonstest.OnEvent(func(e reasonstest.Event) { mu.Lock(); lines = append(lines, e.Note); mu.Unlock() }))
	defer srv.Close()
	for range 11 {
		client(t, srv, "/", echo)
	}
	rows := srv.Reconnects()
	if len(rows) != 11 {
		t.Fatalf("%d steps, want 11", len(rows))
	}
	want := []probe.Verdict{probe.Wrong, probe.Wrong, probe.OK, probe.OK, probe.Wrong,
		probe.Tolerated, probe.Tolerated, probe.Tolerated, probe.Wrong, probe.Wrong, probe.OK}
	for i, r := range rows {
		if r.Verdict != want[i] {
			t.Errorf("step %d (%d, %s, back %v after %v): %s (%s), want %s", r.Step, r.Code, r.Advice, r.Back, r.BackAfter, r.Verdict, r.Rule, want[i])
		}
	}
	if rows[0].Code != reasons.ServiceRestart || !strings.Contains(rows[0].Rule, "5s to 30s") || !strings.Contains(rows[4].Rule, "no back-off") {
		t.Errorf("rules: %q, %q", rows[0].Rule, rows[4].Rule)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 11 || lines[0] != "step 1: 1012 ServiceRestart" || lines[10] != "step 11: 1008 PolicyViolation" {
		t.Errorf("notes %q", lines)
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
