package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// declaration reads a name and its number from a line of a stack's source:
// NAME = 1000, NAME(1000), Name => 1000, case name = 1000,
// static const int name = 1000, NAME = new CloseStatus(1000).
var declaration = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(?:=>|=|\()\s*(?:new CloseStatus\()?(\d+)\b`)

// excerpts names, for each file in testdata/stacknames, the stack whose
// declarations it copies. gorilla's and coder's names are checked against
// the modules themselves, in interop.
var excerpts = map[string]string{
	"python-websockets.txt": "Python websockets",
	"aiohttp.txt":           "aiohttp",
	"starlette.txt":         "Starlette/FastAPI",
	"jakarta.txt":           "JSR 356/Jakarta",
	"spring.txt":            "Spring",
	"dotnet.txt":            ".NET",
	"tungstenite.txt":       "Rust tungstenite",
	"swift.txt":             "Swift",
	"dart.txt":              "Dart",
	"ktor.txt":              "Ktor",
}

// readExcerpt returns the names and numbers an excerpt declares.
func readExcerpt(t *testing.T, file string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "stacknames", file))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := declaration.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s: %q declares no name and number", file, line)
		}
		n, _ := strconv.Atoi(m[2])
		out[m[1]] = n
	}
	return out
}

// TestStackNamesMatchTheirSource holds each stack's names in the table
// against the declarations copied from its source, both ways, and runs
// wsreason on every name: it must give the declared code and list the name
// under also_called, or, for a name two stacks give different codes, refuse
// it naming both.
func TestStackNamesMatchTheirSource(t *testing.T) {
	clashes := map[string]bool{"Invalid": true, "invalid": true} // tungstenite's 1007, Swift's 0
	covered := map[string]bool{"gorilla/websocket": true, "coder/websocket": true}
	for file, stack := range excerpts {
		covered[stack] = true
		declared := readExcerpt(t, file)
		inTable := map[string]int{}
		for _, s := range stacks {
			if s.Stack == stack {
				for _, n := range s.Names {
					inTable[n.Name] = int(n.Code)
				}
			}
		}
		if len(declared) == 0 || len(inTable) == 0 {
			t.Errorf("%s: %d names declared, %d in the table", stack, len(declared), len(inTable))
		}
		for name, code := range declared {
			if got, ok := inTable[name]; !ok || got != code {
				t.Errorf("%s declares %s = %d; the table has %d (present: %v)", stack, name, code, got, ok)
			}
		}
		for name := range inTable {
			if _, ok := declared[name]; !ok {
				t.Errorf("the table gives %s the name %s, which %s does not declare", stack, name, file)
			}
		}
		for name, code := range declared {
			var stdout, stderr bytes.Buffer
			exit := run([]string{"-json", name}, strings.NewReader(""), &stdout, &stderr)
			if clashes[name] {
				if exit != exitUsage || !strings.Contains(stderr.String(), "1007 (Rust tungstenite Invalid)") ||
					!strings.Contains(stderr.String(), "0 (Swift invalid)") {
					t.Errorf("wsreason %s: exit %d, stderr %q; want it refused with both meanings", name, exit, stderr.String())
				}
				continue
			}
			var doc struct {
				Codes []struct {
					Code       int          `json:"code"`
					AlsoCalled []alsoCalled `json:"also_called"`
				} `json:"codes"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &doc); exit != 0 || err != nil || len(doc.Codes) != 1 {
				t.Errorf("wsreason -json %s: exit %d, %v, stderr %q", name, exit, err, stderr.String())
				continue
			}
			if doc.Codes[0].Code != code {
				t.Errorf("wsreason %s gave %d; %s declares %d", name, doc.Codes[0].Code, stack, code)
			}
			if !slices.ContainsFunc(doc.Codes[0].AlsoCalled, func(a alsoCalled) bool {
				return a.Stack == stack && a.Name == name && strings.Contains(a.Source, "/")
			}) {
				t.Errorf("wsreason %d: also_called %v lacks %s's %s with its source", code, doc.Codes[0].AlsoCalled, stack, name)
			}
		}
	}
	for _, s := range stacks {
		if !covered[s.Stack] {
			t.Errorf("the table has names from %s but no excerpt of its source in testdata/stacknames", s.Stack)
		}
	}
}

// TestNameForms covers qualified names, the refusal of a clashing name, and
// the names wsreason must not take.
func TestNameForms(t *testing.T) {
	for _, tc := range []struct {
		arg      string
		wantCode int // -1: refused
		wantErr  string
	}{
		{"CloseCode::Away", 1001, ""},
		{"CloseCode.GOING_AWAY", 1001, ""},
		{"WSCloseCode.OK", 1000, ""},
		{"status.WS_1008_POLICY_VIOLATION", 1008, ""},
		{"CloseReason.CloseCodes.VIOLATED_POLICY", 1008, ""},
		{"CloseReason.Codes.NORMAL", 1000, ""},
		{"WebSocketCloseStatus.EndpointUnavailable", 1001, ""},
		{"URLSessionWebSocketTask.CloseCode.goingAway", 1001, ""},
		{".goingAway", 1001, ""},
		{"WebSocketStatus.reserved1015", 1015, ""},
		{"reasons.GoingAway", 1001, ""},
		{"endpoint_unavailable", 1001, ""},
		{"Unauthorized", 3000, ""}, // the registry's, never graphql-ws's 4401
		{"invalid", -1, `wsreason: "invalid" names different codes in different stacks: 1007 (Rust tungstenite Invalid) but 0 (Swift invalid); give the number instead` + "\n"},
		{"CloseCode::Invalid", -1, `wsreason: "CloseCode::Invalid" names different codes in different stacks: 1007 (Rust tungstenite Invalid) but 0 (Swift invalid); give the number instead` + "\n"},
		{"SESSION_NOT_RELIABLE", -1, `wsreason: "SESSION_NOT_RELIABLE" is not a close code number or name, nor a log line with one (see wsreason -h)` + "\n"},
		{"WSCloseCode.Away", -1, `wsreason: "WSCloseCode.Away" is not a close code number or name, nor a log line with one (see wsreason -h)` + "\n"},
	} {
		var stdout, stderr bytes.Buffer
		exit := run([]string{"-json", tc.arg}, strings.NewReader(""), &stdout, &stderr)
		if tc.wantCode < 0 {
			if exit != exitUsage || stderr.String() != tc.wantErr {
				t.Errorf("wsreason %s: exit %d, stderr %q; want exit 2 and %q", tc.arg, exit, stderr.String(), tc.wantErr)
			}
			continue
		}
		var doc struct {
			Codes []struct{ Code int } `json:"codes"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &doc); exit != 0 || err != nil || len(doc.Codes) != 1 || doc.Codes[0].Code != tc.wantCode {
			t.Errorf("wsreason %s: exit %d, %s %s; want code %d", tc.arg, exit, stdout.String(), stderr.String(), tc.wantCode)
		}
	}
}

// lineCode is one code wsreason reads from a log line.
type lineCode struct {
	Code    int    `json:"code"`
	Matched string `json:"matched"`
	Form    string `json:"form"`
	SentBy  string `json:"sent_by"`
}

// explainLine runs wsreason -json on a log line and returns the codes it
// found, or fails the test.
func explainLine(t *testing.T, line string) []lineCode {
	t.Helper()
	var stdout, stderr bytes.Buffer
	exit := run([]string{"-json", line}, strings.NewReader(""), &stdout, &stderr)
	var doc struct {
		Codes []lineCode `json:"codes"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); exit != 0 || err != nil {
		t.Errorf("wsreason -json %q: exit %d, %v, stderr %q", line, exit, err, stderr.String())
	}
	return doc.Codes
}

// TestLogForms reads each stack's form with a line as the stack writes it:
// the string its source builds, filled in. interop runs the stacks found on
// the machine and reads the lines they print.
func TestLogForms(t *testing.T) {
	const peer, us = sentByPeer, sentByUs
	for _, tc := range []struct {
		line string
		want []lineCode
	}{
		// Spring, CloseStatus.toString
		{"Session closed: CloseStatus[code=1006, reason=null]", []lineCode{{1006, "CloseStatus[code=1006", "Spring", ""}}},
		// JSR 356/Jakarta, CloseReason.toString
		{"onClose: CloseReason[1008,Policy violation]", []lineCode{{1008, "CloseReason[1008", "JSR 356/Jakarta", ""}}},
		{"CloseReason[1000]", []lineCode{{1000, "CloseReason[1000", "JSR 356/Jakarta", ""}}},
		// Python websockets 10 and later, ConnectionClosed.__str__
		{"websockets.exceptions.ConnectionClosedError: received 1011 (unexpected error) keepalive ping timeout; then sent 1011 (unexpected error) keepalive ping timeout",
			[]lineCode{{1011, "received 1011 (", "Python websockets", peer}, {1011, "sent 1011 (", "Python websockets", us}}},
		{"sent 1000 (OK); then received 4001 (private use) bye",
			[]lineCode{{1000, "sent 1000 (", "Python websockets", us}, {4001, "received 4001 (", "Python websockets", peer}}},
		{"ConnectionClosedError: sent 1011 (internal error) keepalive ping timeout; no close frame received",
			[]lineCode{{1011, "sent 1011 (", "Python websockets", us}, {1006, "; no close frame received", "Python websockets", ""}}},
		// Python websockets before 10, format_close
		{"WebSocket connection is closed: code = 1006 (connection closed abnormally [internal]), no reason",
			[]lineCode{{1006, "code = 1006 (", "Python websockets", ""}}},
		// Ktor, CloseReason.toString: a name of its Codes, or the number
		{"CloseReason(reason=VIOLATED_POLICY, message=no token)", []lineCode{{1008, "CloseReason(reason=VIOLATED_POLICY", "Ktor", ""}}},
		{"CloseReason(reason=4001, message=)", []lineCode{{4001, "CloseReason(reason=4001", "Ktor", ""}}},
		// tungstenite, CloseFrame's Debug: its own names, so Invalid is 1007 here
		{`Some(CloseFrame { code: Away, reason: "bye" })`, []lineCode{{1001, "CloseFrame { code: Away", "Rust tungstenite", ""}}},
		{`CloseFrame { code: Invalid, reason: "" }`, []lineCode{{1007, "CloseFrame { code: Invalid", "Rust tungstenite", ""}}},
		{`CloseFrame { code: Library(4001), reason: "x" }`, []lineCode{{4001, "CloseFrame { code: Library(4001)", "Rust tungstenite", ""}}},
		// .NET: SignalR's client log, and the enum named in text
		{"WebSocket closed by the server. Close status EndpointUnavailable.", []lineCode{{1001, "closed by the server. Close status EndpointUnavailable", ".NET", peer}}},
		{"closing with WebSocketCloseStatus.PolicyViolation", []lineCode{{1008, "WebSocketCloseStatus.PolicyViolation", ".NET", ""}}},
		// Node ws, the error it fails the connection with
		{"RangeError: Invalid WebSocket frame: invalid status code 1005", []lineCode{{1005, "invalid status code 1005", "Node ws", peer}}},
		// Chromium's and Firefox's console previews of a CloseEvent
		{"CloseEvent {isTrusted: true, wasClean: false, code: 1006, reason: '', type: 'close', …}", []lineCode{{1006, "code: 1006", "a browser console, wscat", ""}}},
		{`close { target: WebSocket, isTrusted: true, wasClean: true, code: 4001, reason: "bye", … }`, []lineCode{{4001, "code: 4001", "a browser console, wscat", ""}}},
	} {
		got := explainLine(t, tc.line)
		if !slices.Equal(got, tc.want) {
			t.Errorf("wsreason %q:\n got %+v\nwant %+v", tc.line, got, tc.want)
		}
	}
}

// TestNoCodeForms reads the lines stacks print for a close with no Close
// frame, each as the stack's source builds it, as 1006 with what the side
// that logged it saw; and the forms of gws and gobwas, which carry a code.
func TestNoCodeForms(t *testing.T) {
	for _, tc := range []struct {
		line, matched, form string
		code                int
	}{
		{"websockets.exceptions.ConnectionClosedError: no close frame received or sent", "no close frame received or sent", "Python websockets", 1006},
		{"failed to get reader: failed to read frame header: EOF", "failed to read frame header: EOF", "coder/websocket", 1006},
		{"read: failed to get reader: failed to read frame header: unexpected EOF", "failed to read frame header: unexpected EOF", "coder/websocket", 1006},
		{"System.Net.WebSockets.WebSocketException (0x80004005): The remote party closed the WebSocket connection without completing the close handshake.",
			"The remote party closed the WebSocket connection without completing the close handshake", ".NET", 1006},
		{"Error: WebSocket was closed before the connection was established", "WebSocket was closed before the connection was established", "Node ws", 1006},
		{"WebSocket connection to 'wss://example.com/socket' failed: ", "WebSocket connection to 'wss://example.com/socket' failed", "a browser console (Chromium, Safari)", 1006},
		{"Firefox can’t establish a connection to the server at wss://example.com/socket.", "can’t establish a connection to the server at wss://", "a browser console (Firefox)", 1006},
		{"The connection to wss://example.com/socket was interrupted while the page was loading.", "The connection to wss://example.com/socket was interrupted while the page was loading", "a browser console (Firefox)", 1006},
		{"read: gws: connection closed, code=1001, reason=bye", "gws: connection closed, code=1001", "lxzan/gws", 1001},
		{"ws closed: 1001 bye", "ws closed: 1001", "gobwas/ws", 1001},
	} {
		var stdout, stderr bytes.Buffer
		exit := run([]string{"-json", tc.line}, strings.NewReader(""), &stdout, &stderr)
		var doc struct {
			Codes []struct {
				Code          int
				Matched, Form string
				Saw           string
			}
		}
		err := json.Unmarshal(stdout.Bytes(), &doc)
		if exit != 0 || err != nil || len(doc.Codes) != 1 {
			t.Errorf("wsreason -json %q: exit %d, %v, %s", tc.line, exit, err, stdout.String())
			continue
		}
		got := doc.Codes[0]
		if got.Code != tc.code || got.Matched != tc.matched || got.Form != tc.form || (tc.code == 1006) != (got.Saw != "") {
			t.Errorf("wsreason %q: %+v; want %d %q (%s)", tc.line, got, tc.code, tc.matched, tc.form)
		}
	}
	for _, line := range []string{"EOF", "unexpected EOF", "no close frame was seen", "WebSocket connection to the server failed", "failed to read frame header: bad opcode"} {
		var stdout, stderr bytes.Buffer
		if exit := run([]string{line}, strings.NewReader(""), &stdout, &stderr); exit != exitUsage {
			t.Errorf("wsreason %q: exit %d, %s; want no code found", line, exit, stdout.String())
		}
	}
}

// TestLogFormRefusals: a form with a word that is not the stack's name for a
// code is no code at all.
func TestLogFormRefusals(t *testing.T) {
	for _, line := range []string{
		`CloseFrame { code: Foo, reason: "" }`,
		"WebSocket closed by the server. Close status .",
		"CloseReason(reason=GOING, message=)",
	} {
		var stdout, stderr bytes.Buffer
		if exit := run([]string{line}, strings.NewReader(""), &stdout, &stderr); exit != exitUsage || !strings.Contains(stderr.String(), "is not a close code number or name") {
			t.Errorf("wsreason %q: exit %d, stdout %q, stderr %q; want it refused", line, exit, stdout.String(), stderr.String())
		}
	}
}
