package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	gorillaws "github.com/gorilla/websocket"

	"github.com/wsreasons/reasons/internal/rawserver"
)

// consolePage logs each WebSocket's CloseEvent to the console, as a page's
// own onclose handler does, for the servers in its query: ?a=URL&b=URL.
const consolePage = `<!doctype html><script>
for (const url of new URLSearchParams(location.search).values()) {
  const ws = new WebSocket(url);
  ws.onclose = (e) => console.log(e);
}
</script>`

// cdpPreview is the part of a DevTools protocol RemoteObject that the
// console shows for an object it logs: its class and a preview of its
// properties.
type cdpPreview struct {
	ClassName string `json:"className"`
	Preview   struct {
		Overflow   bool `json:"overflow"`
		Properties []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"properties"`
	} `json:"preview"`
}

// consoleText lays a preview out as Chromium's DevTools console shows a
// logged object before it is expanded:
//
//	CloseEvent {isTrusted: true, wasClean: false, code: 1006, reason: '', …}
func (p cdpPreview) consoleText() string {
	parts := make([]string, 0, len(p.Preview.Properties)+1)
	for _, prop := range p.Preview.Properties {
		value := prop.Value
		if prop.Type == "string" {
			value = "'" + value + "'"
		}
		parts = append(parts, prop.Name+": "+value)
	}
	if p.Preview.Overflow {
		parts = append(parts, "…")
	}
	return p.ClassName + " {" + strings.Join(parts, ", ") + "}"
}

// devtoolsURL matches the line Chromium prints when its DevTools protocol
// server listens.
var devtoolsURL = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// TestConsoleCloseEvent has headless Chromium log two CloseEvents to its
// console, one for a server that closes with 4001 and one for a server that
// drops the connection, reads them over the DevTools protocol as the
// console shows them, and has wsreason read each line.
func TestConsoleCloseEvent(t *testing.T) {
	t.Parallel()
	path := chromium.need(t)
	closing := rawserver.Start(t, false, closeThenAwait(4001, "bye"))
	dropping := rawserver.Start(t, false, func(net.Conn, *bufio.Reader) {})
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, consolePage)
	}))
	defer page.Close()

	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-port=0", "about:blank")
	cmd.WaitDelay = 5 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited, urls := make(chan error, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() { // read to the end, so that Chromium never blocks on stderr
			if m := devtoolsURL.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		exited <- cmd.Wait()
	}()
	defer func() {
		select { // after Browser.close, or at once when the test failed before it
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()
	var browserURL string
	select {
	case browserURL = <-urls:
	case err := <-exited:
		exited <- err
		t.Fatalf("Chromium exited before it printed a DevTools URL: %v", err)
	case <-ctx.Done():
		t.Fatal("Chromium printed no DevTools URL")
	}

	// A server that cuts the connection before it answers the handshake:
	// Chromium fails the WebSocket and says so on its console.
	cutting := cutBeforeHandshake(t)
	lines, errLines := consoleLines(t, ctx, browserURL, page.URL+"/?a="+closing+"&b="+dropping+"&c="+cutting, 3, 1)
	bin := buildWsreason(t)
	var rows lineRows
	seen := map[int]bool{}
	for _, line := range lines {
		t.Logf("Chromium's console: %s", line)
		var want []explained
		switch {
		case strings.Contains(line, "code: 4001"):
			want = []explained{{4001, "a browser console, wscat", ""}}
		case strings.Contains(line, "code: 1006"):
			want = []explained{{1006, "a browser console, wscat", ""}}
		default:
			t.Errorf("a CloseEvent with neither 4001 nor 1006: %s", line)
			continue
		}
		if !strings.HasPrefix(line, "CloseEvent {") {
			t.Errorf("the console shows %q, not a CloseEvent", line)
		}
		if got := checkExplained(t, bin, line, want); !seen[want[0].Code] { // one row for the two 1006s
			rows.add("Chromium, its console (over the DevTools protocol)", line, got)
		}
		seen[want[0].Code] = true
	}
	if !seen[4001] || !seen[1006] {
		t.Errorf("the console showed %q; want one CloseEvent with 4001 and two with 1006", lines)
	}
	for _, line := range errLines {
		t.Logf("Chromium's console, its own error: %s", line)
		if !strings.HasPrefix(line, "WebSocket connection to '"+cutting+"' failed") {
			t.Errorf("Chromium's error %q does not name the cut WebSocket %s", line, cutting)
		}
		got := checkExplained(t, bin, line, []explained{{1006, "a browser console (Chromium, Safari)", ""}})
		// The table shows the line with the port, which changes each run, as PORT.
		_, port, _ := strings.Cut(strings.TrimSuffix(cutting, "/"), "127.0.0.1:")
		rows.add("Chromium, its own console error (over the DevTools protocol)", strings.Replace(line, ":"+port+"/", ":PORT/", 1), got)
	}
	rows.check(t, "consoleline", 3)
}

// cutBeforeHandshake runs a TCP server on 127.0.0.1 that reads each
// handshake request and closes the connection without an answer, and
// returns its ws:// URL.
func cutBeforeHandshake(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetReadDeadline(time.Now().Add(timeout))
			http.ReadRequest(bufio.NewReader(c))
			c.Close()
		}
	}()
	return "ws://" + ln.Addr().String() + "/"
}

// consoleLines drives the browser at browserURL over the DevTools protocol:
// it opens a page target, enables the console events, navigates to url, and
// returns the first n objects the page logs, as the console shows them.
func consoleLines(t *testing.T, ctx context.Context, browserURL, url string, n, errs int) (lines, errLines []string) {
	t.Helper()
	conn, _, err := gorillaws.DefaultDialer.DialContext(ctx, browserURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetReadDeadline(deadline)
	}
	id := 0
	send := func(session, method string, params any) int {
		id++
		msg := map[string]any{"id": id, "method": method, "params": params}
		if session != "" {
			msg["sessionId"] = session
		}
		if err := conn.WriteJSON(msg); err != nil {
			t.Fatal(err)
		}
		return id
	}
	type message struct {
		ID        int             `json:"id"`
		Method    string          `json:"method"`
		SessionID string          `json:"sessionId"`
		Result    json.RawMessage `json:"result"`
		Error     json.RawMessage `json:"error"`
		Params    json.RawMessage `json:"params"`
	}
	await := func(want int) json.RawMessage {
		for {
			var m message
			if err := conn.ReadJSON(&m); err != nil {
				t.Fatalf("DevTools protocol: %v", err)
			}
			if m.ID == want {
				if m.Error != nil {
					t.Fatalf("DevTools protocol: %s", m.Error)
				}
				return m.Result
			}
		}
	}
	var target struct{ TargetID string }
	if err := json.Unmarshal(await(send("", "Target.createTarget", map[string]any{"url": "about:blank"})), &target); err != nil || target.TargetID == "" {
		t.Fatalf("Target.createTarget gave no target (%v)", err)
	}
	var attached struct{ SessionID string }
	if err := json.Unmarshal(await(send("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true})), &attached); err != nil || attached.SessionID == "" {
		t.Fatalf("Target.attachToTarget gave no session (%v)", err)
	}
	await(send(attached.SessionID, "Runtime.enable", map[string]any{}))
	await(send(attached.SessionID, "Log.enable", map[string]any{}))
	await(send(attached.SessionID, "Page.navigate", map[string]any{"url": url}))

	for len(lines) < n || len(errLines) < errs {
		var m message
		if err := conn.ReadJSON(&m); err != nil {
			t.Fatalf("DevTools protocol, after %d console lines and %d errors: %v", len(lines), len(errLines), err)
		}
		if m.Method == "Log.entryAdded" {
			// The browser's own messages, such as a WebSocket it failed.
			var e struct {
				Entry struct{ Text string } `json:"entry"`
			}
			if json.Unmarshal(m.Params, &e) == nil && strings.Contains(e.Entry.Text, "WebSocket") {
				errLines = append(errLines, e.Entry.Text)
			}
			continue
		}
		if m.Method != "Runtime.consoleAPICalled" {
			continue
		}
		var call struct {
			Args []cdpPreview `json:"args"`
		}
		if err := json.Unmarshal(m.Params, &call); err != nil || len(call.Args) != 1 {
			t.Fatalf("console call %s: %v", m.Params, err)
		}
		lines = append(lines, call.Args[0].consoleText())
	}
	// Closing the browser this way ends its helper processes too, before
	// the test removes the profile they write to.
	send("", "Browser.close", map[string]any{})
	return lines, errLines
}
