package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/rawserver"
	"github.com/wsreasons/reasons/probe"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// cliCase is one run of wsreason, with the whole of what it must print.
type cliCase struct {
	name       string
	args       []string
	wantExit   int
	wantStdout string
	wantStderr string
}

// Whole outputs, written out by hand.
const (
	explain1006 = `1006 AbnormalClose (IANA: Abnormal Closure)
  range             Protocol (1000-2999)
  may be sent       no
  browser may send  no (WebSocket.close() in a page's script)
  reserved          yes
  client advice     reconnect, with capped exponential back-off and jitter
  meaning           Reported locally when the connection ended without any Close
                    frame, such as a dropped TCP connection. It must never be
                    sent; a client usually reconnects with back-off.
  also called       CloseAbnormalClosure (gorilla/websocket);
                    StatusAbnormalClosure (coder/websocket); ABNORMAL_CLOSURE
                    (Python websockets, aiohttp); WS_1006_ABNORMAL_CLOSURE
                    (Starlette/FastAPI); CLOSED_ABNORMALLY (JSR 356/Jakarta,
                    Ktor); NO_CLOSE_FRAME (Spring); Abnormal (Rust tungstenite);
                    abnormalClosure (Swift, Dart)
  note              An endpoint must never send 1006; a library reports it when
                    the connection dropped without a Close frame.
`
	explain4001 = `4001 unnamed
  range             Private (4000-4999)
  may be sent       yes
  browser may send  yes (WebSocket.close() in a page's script)
  reserved          no
  client advice     application: its meaning, and what to do, are the
                    application's
  meaning           Private use: applications agree on their meaning between
                    themselves; both sides may send them.
`
	explain1000Head = `1000 Normal (IANA: Normal Closure)
`
	explain1000Tail = `  range             Protocol (1000-2999)
  may be sent       yes
  browser may send  yes (WebSocket.close() in a page's script)
  reserved          no
  client advice     done: do not reconnect on your own
  meaning           The connection did what it was opened for and both sides are
                    done with it.
  also called       CloseNormalClosure (gorilla/websocket); StatusNormalClosure
                    (coder/websocket); NORMAL_CLOSURE (Python websockets, JSR
                    356/Jakarta); OK (aiohttp); WS_1000_NORMAL_CLOSURE
                    (Starlette/FastAPI); NORMAL (Spring, Ktor); NormalClosure
                    (.NET); Normal (Rust tungstenite); normalClosure (Swift,
                    Dart)
`
	explain1000 = explain1000Head + explain1000Tail
	explain1010 = `1010 ExtensionNotPresent (IANA: Mandatory Ext.)
  range             Protocol (1000-2999)
  may be sent       yes
  browser may send  no (WebSocket.close() in a page's script)
  reserved          no
  client advice     fix: one side has a bug; reconnecting unchanged repeats it
  meaning           Sent by a client whose required extensions the server did
                    not agree to in the handshake; the reason may name them.
                    Servers never send it.
  also called       CloseMandatoryExtension (gorilla/websocket);
                    StatusMandatoryExtension (coder/websocket);
                    MANDATORY_EXTENSION (Python websockets, aiohttp);
                    WS_1010_MANDATORY_EXT (Starlette/FastAPI); NO_EXTENSION (JSR
                    356/Jakarta, Ktor); REQUIRED_EXTENSION (Spring);
                    MandatoryExtension (.NET); Extension (Rust tungstenite);
                    mandatoryExtensionMissing (Swift); missingMandatoryExtension
                    (Dart)
`
	payloadBye = `1001 GoingAway (IANA: Going Away)
  reason            "bye"
  range             Protocol (1000-2999)
  may be sent       yes
  browser may send  no (WebSocket.close() in a page's script)
  reserved          no
  client advice     reconnect, with capped exponential back-off and jitter
  meaning           The endpoint is leaving, for example a server shutting down
                    or a browser tab navigating away. A client may reconnect
                    later.
  also called       CloseGoingAway (gorilla/websocket); StatusGoingAway
                    (coder/websocket); GOING_AWAY (Python websockets, aiohttp,
                    JSR 356/Jakarta, Spring, Ktor); WS_1001_GOING_AWAY
                    (Starlette/FastAPI); EndpointUnavailable (.NET); Away (Rust
                    tungstenite); goingAway (Swift, Dart)
`
	replyProtocolError = "  reply    1002 ProtocolError: the code to close the connection with in reply\n"
	frameMaskedHead    = `  frame    FIN yes, opcode 0x8 (Close), RSV 000
  masked   key 12345678 (client to server)
  length   2 bytes

`
)

// unmaskedHead is the header part of -frame's output for an unmasked frame.
func unmaskedHead(frame, length string) string {
	return "  frame    FIN " + frame + "\n  masked   no (server to client)\n  length   " + length + "\n"
}

// withReason inserts the reason line under the title of an explain block, as
// a decoded body shows it.
func withReason(explain, quoted string) string {
	return strings.Replace(explain, "\n", "\n  reason            "+quoted+"\n", 1)
}

var cliCases = []cliCase{
	{"number", []string{"1006"}, 0, explain1006, ""},
	{"unnamed private", []string{"4001"}, 0, explain4001, ""},
	{"several", []string{"1006", "4001"}, 0, explain1006 + "\n" + explain4001, ""},
	{"Go name", []string{"Normal"}, 0, explain1000, ""},
	{"upper snake", []string{"NORMAL"}, 0, explain1000, ""},
	{"lower snake", []string{"extension_not_present"}, 0, explain1010, ""},
	{"IANA name", []string{"Mandatory Ext."}, 0, explain1010, ""},
	{"IANA name any case", []string{"normal closure"}, 0, explain1000, ""},
	{"gorilla constant", []string{"CloseNormalClosure"}, 0, explain1000, ""},
	{"gorilla own name", []string{"CloseMandatoryExtension"}, 0, explain1010, ""},
	{"coder constant", []string{"StatusNormalClosure"}, 0, explain1000, ""},
	{"hex code", []string{"0x3e8"}, 0, explain1000, ""},
	{"hex code upper", []string{"0X03E8"}, 0, explain1000, ""},
	{"flag after argument", []string{"4001", "-json"}, 0, `{
  "codes": [
    {
      "code": 4001,
      "range": "Private",
      "may_send": true,
      "browser_closeable": true,
      "reserved": false,
      "advice": "application",
      "description": "Private use: applications agree on their meaning between themselves; both sides may send them."
    }
  ]
}
`, ""},

	{"gorilla log line", []string{"websocket: close 1006 (abnormal closure): unexpected EOF"}, 0,
		strings.Replace(explain1006, "\n", "\n  found             \"close 1006\" in the line (gorilla/websocket)\n", 1), ""},
	{"key=value log line", []string{"closed code=4001 after 3s"}, 0,
		strings.Replace(explain4001, "\n", "\n  found             \"code=4001\" in the line (key=value logs)\n", 1), ""},
	{"wscat and coder in one line", []string{`Disconnected (code: 1000, reason: "") then status = StatusCode(4001) and reason = ""`}, 0,
		explain1000Head + "  found             \"code: 1000\" in the line (a browser console, wscat)\n" + explain1000Tail + "\n" +
			strings.Replace(explain4001, "\n", "\n  found             \"status = StatusCode(4001)\" in the line (coder/websocket)\n", 1), ""},
	{"line without a code form", []string{"error 1006 happened"}, 2, "",
		"wsreason: \"error 1006 happened\" is not a close code number or name, nor a log line with one (see wsreason -h)\n"},

	{"payload", []string{"-payload", "03 e9 62 79 65"}, 0, payloadBye, ""},
	{"payload Wireshark colons", []string{"-payload", "03:e9:62:79:65"}, 0, payloadBye, ""},
	{"payload dashes", []string{"-payload", "03-e9-62-79-65"}, 0, payloadBye, ""},
	{"payload \\x escapes", []string{"-payload", `\x03\xe9\x62\x79\x65`}, 0, payloadBye, ""},
	{"payload tcpdump 0x and spaces", []string{"-payload", "0x03e9 0x6279 65"}, 0, payloadBye, ""},
	{"empty payload", []string{"-payload", ""}, 0,
		"  body     empty: a Close frame with no code; the receiver reports 1005 NoStatus\n", ""},
	{"payload one byte", []string{"-payload", "03"}, 1,
		"  invalid  Close frame body of 1 byte is too short to hold a code\n" + replyProtocolError, ""},
	{"payload code 1005", []string{"-payload=03ed"}, 1,
		"  code     1005 NoStatus (IANA: No Status Rcvd)\n  invalid  close code 1005 (NoStatus) may not appear in a Close frame\n" + replyProtocolError, ""},
	{"payload bad UTF-8 keeps its code", []string{"-payload", "03e8ff"}, 1,
		"  code     1000 Normal (IANA: Normal Closure)\n  invalid  close reason is not valid UTF-8: byte 0xff at offset 0\n" +
			"  reply    1007 InconsistentData: the code to close the connection with in reply\n", ""},
	{"payload too long", []string{"-payload", "03e8" + strings.Repeat("61", 124)}, 1,
		"  code     1000 Normal (IANA: Normal Closure)\n  invalid  Close frame body of 126 bytes is over the 125-byte limit\n" + replyProtocolError, ""},

	{"masked frame", []string{"-frame", "88 82 12 34 56 78 11 dc"}, 0,
		frameMaskedHead + withReason(explain1000, `""`), ""},
	{"unmasked frame", []string{"-frame", "88:04:03:e8:68:69"}, 0,
		unmaskedHead("yes, opcode 0x8 (Close), RSV 000", "4 bytes") + "\n" +
			withReason(explain1000, `"hi"`), ""},
	{"frame with bad body", []string{"-frame", "8801 03"}, 1,
		unmaskedHead("yes, opcode 0x8 (Close), RSV 000", "1 byte") + "\n" +
			"  invalid  Close frame body of 1 byte is too short to hold a code\n" + replyProtocolError, ""},
	{"text frame", []string{"-frame", "81 05 48 65 6c 6c 6f"}, 1,
		unmaskedHead("yes, opcode 0x1 (text), RSV 000", "5 bytes") +
			"  invalid  opcode 0x1 (text) is not a Close frame (0x8)\n" + replyProtocolError, ""},
	{"fragmented Close", []string{"-frame", "08 02 03 e8"}, 1,
		unmaskedHead("no, opcode 0x8 (Close), RSV 000", "2 bytes") +
			"  invalid  FIN is not set, but control frames are never fragmented (§5.5)\n" + replyProtocolError, ""},
	{"16-bit length form", []string{"-frame", "88 7e 00 02 03 e8"}, 1,
		unmaskedHead("yes, opcode 0x8 (Close), RSV 000", "2 bytes") +
			"  invalid  the length uses the 16-bit form; a control frame's length fits in 7\n           bits (§5.5)\n" + replyProtocolError, ""},
	{"truncated frame", []string{"-frame", "88 05 03 e8"}, 1,
		unmaskedHead("yes, opcode 0x8 (Close), RSV 000", "5 bytes") +
			"  invalid  frame ends early: the header says 5 payload bytes, 2 follow\n" + replyProtocolError, ""},
	{"frame not hex", []string{"-frame", "88 zz"}, 2, "", "wsreason: frame \"88 zz\" has a character that is not a hex digit: 'z'\n"},

	{"format", []string{"-format", "1001", "bye"}, 0, "03e9627965\n", ""},
	{"format by IANA name", []string{"-format", "Service Restart"}, 0, "03f4\n", ""},
	{"format NoStatus", []string{"-format", "1005"}, 0,
		"(empty body) a Close frame with no code; the receiver reports 1005 NoStatus\n", ""},
	{"format reserved", []string{"-format", "1006"}, 1, "",
		"wsreason: cannot build a Close frame body: close code 1006 (AbnormalClose) may not appear in a Close frame\n"},
	{"format too long", []string{"-format", "1000", strings.Repeat("x", 124)}, 1, "",
		"wsreason: cannot build a Close frame body: close reason of 124 bytes is over the 123-byte limit\n"},
	{"format two texts", []string{"-format", "1000", "a", "b"}, 2, "", "wsreason: -format takes one TEXT argument, got 2; quote the text\n"},
	{"format unknown name", []string{"-format", "private_use_is_not_a_name"}, 2, "",
		"wsreason: \"private_use_is_not_a_name\" is not a close code number or name, nor a log line with one (see wsreason -h)\n"},

	{"unknown name", []string{"GoingAwayy"}, 2, "",
		"wsreason: \"GoingAwayy\" is not a close code number or name, nor a log line with one (see wsreason -h)\n"},
	{"out of range", []string{"65536"}, 2, "", "wsreason: code 65536 is out of range 0..65535\n"},
	{"negative", []string{"-1"}, 2, "", "wsreason: code -1 is out of range 0..65535\n"},
	{"negative after --", []string{"--", "-70000"}, 2, "", "wsreason: code -70000 is out of range 0..65535\n"},
	{"hex code too big", []string{"0x10000"}, 2, "", "wsreason: code 0x10000 is out of range 0..65535 (0x0-0xffff)\n"},
	{"hex code not hex", []string{"0x3g"}, 2, "", "wsreason: \"0x3g\" is not a hexadecimal number\n"},
	{"odd hex", []string{"-payload", "3e8"}, 2, "", "wsreason: payload \"3e8\" has an odd number of hex digits (3)\n"},
	{"non-hex", []string{"-payload", "03g8"}, 2, "", "wsreason: payload \"03g8\" has a character that is not a hex digit: 'g'\n"},
	{"unknown flag", []string{"-verbose"}, 2, "", "wsreason: flag provided but not defined: -verbose (see wsreason -h)\n"},
	{"two modes", []string{"-payload", "03e8", "-frame", "880203e8"}, 2, "", "wsreason: -payload, -frame, -format and -log cannot be used together\n"},
	{"payload with argument", []string{"-payload", "03e8", "1000"}, 2, "", "wsreason: -payload takes no other arguments, got \"1000\"\n"},
	{"help", []string{"-h"}, 0, usage, ""},

	{"probe help", []string{"probe", "-h"}, 0, probeUsage, ""},
	{"probe without URL", []string{"probe"}, 2, "", "wsreason probe: no URL given (see wsreason probe -h)\n"},
	{"probe two URLs", []string{"probe", "ws://a/", "ws://b/"}, 2, "", "wsreason probe: one URL at a time, got 2: [\"ws://a/\" \"ws://b/\"]\n"},
	{"probe ftp URL", []string{"probe", "ftp://127.0.0.1:8080/"}, 2, "",
		"wsreason probe: URL \"ftp://127.0.0.1:8080/\": the scheme must be ws:// or wss:// (or http:// or https://, taken as those)\n"},
	{"probe URL without host", []string{"probe", "ws:///path"}, 2, "", "wsreason probe: URL \"ws:///path\" has no host\n"},
	{"probe bad header", []string{"probe", "-H", "Authorization Bearer x", "ws://a/"}, 2, "",
		"wsreason probe: invalid value \"Authorization Bearer x\" for flag -H: header \"Authorization Bearer x\": write it as 'Name: value' (see wsreason probe -h)\n"},
	{"probe bad header name", []string{"probe", "-H", "Bad Name: x", "ws://a/"}, 2, "",
		"wsreason probe: invalid value \"Bad Name: x\" for flag -H: header \"Bad Name: x\": \"Bad Name\" is not a header name (see wsreason probe -h)\n"},
	{"probe bad duration", []string{"probe", "-timeout", "5", "ws://a/"}, 2, "",
		"wsreason probe: invalid value \"5\" for flag -timeout: 5 has no unit: write 5s or 5ms (see wsreason probe -h)\n"},
	{"probe zero timeout", []string{"probe", "ws://a/", "-timeout", "0s"}, 2, "", "wsreason probe: -timeout 0s: must be more than 0\n"},
	{"frame cut inside its masking key", []string{"-frame", "88 82 12 34 56"}, 1, `  frame    FIN yes, opcode 0x8 (Close), RSV 000
  masked   yes, but the frame ends inside the key (client to server)
  length   2 bytes
  invalid  frame ends early: the masking key needs 6 header bytes, got 5
  reply    1002 ProtocolError: the code to close the connection with in reply
`, ""},
	{"frame with RSV1", []string{"-frame", "c8 02 03 e8"}, 1, `  frame    FIN yes, opcode 0x8 (Close), RSV 100
  masked   no (server to client)
  length   2 bytes
  invalid  RSV bits 100 are set, which no extension defines for Close (§5.2)
  reply    1002 ProtocolError: the code to close the connection with in reply
`, ""},
	{"frame with a byte after it", []string{"-frame", "88 02 03 e8 00"}, 1, `  frame    FIN yes, opcode 0x8 (Close), RSV 000
  masked   no (server to client)
  length   2 bytes
  invalid  1 byte follows the frame
  reply    1002 ProtocolError: the code to close the connection with in reply
`, ""},
	{"frame with a 64-bit length of 2^32", []string{"-frame", "88 7f 00 00 00 01 00 00 00 00"}, 1, `  frame    FIN yes, opcode 0x8 (Close), RSV 000
  masked   no (server to client)
  length   4294967296 bytes
  invalid  frame ends early: the header says 4294967296 payload bytes, 0 follow
  reply    1002 ProtocolError: the code to close the connection with in reply
`, ""},
	{"log line with a code out of range", []string{"websocket: close 70000 (x)"}, 2, "",
		"wsreason: \"close 70000\": reasons: code 70000 is out of range 0..65535\n"},
	{"log line with a code past uint64", []string{"close 99999999999999999999999"}, 2, "",
		"wsreason: \"close 99999999999999999999999\": code 99999999999999999999999 is out of range 0..65535\n"},
	{"a word that ends in close", []string{"foreclose 3 items"}, 2, "",
		"wsreason: \"foreclose 3 items\" is not a close code number or name, nor a log line with one (see wsreason -h)\n"},
	{"serve help", []string{"serve", "-h"}, 0, serveUsage, ""},
	{"serve script not a number", []string{"serve", "-script", "1012,x"}, 2, "",
		"wsreason serve: invalid value \"1012,x\" for flag -script: \"x\" is not a close code (see wsreason serve -h)\n"},
	{"serve script out of range", []string{"serve", "-script", "70000"}, 2, "",
		"wsreason serve: invalid value \"70000\" for flag -script: reasons: code 70000 is out of range 0..65535 (see wsreason serve -h)\n"},
	{"serve argument", []string{"serve", "8080"}, 2, "", "wsreason serve: unexpected argument \"8080\" (see wsreason serve -h)\n"},
	{"serve negative for", []string{"serve", "-for", "-1s"}, 2, "", "wsreason serve: -for -1s: must not be negative\n"},
	{"serve timeout without unit", []string{"serve", "-timeout", "2"}, 2, "",
		"wsreason serve: invalid value \"2\" for flag -timeout: 2 has no unit: write 2s or 2ms (see wsreason serve -h)\n"},
	{"serve bad address", []string{"serve", "-addr", "127.0.0.1:99999", "-for", "1ms"}, 2, "", "wsreason serve: listen tcp: address 99999: invalid port\n"},
	{"probe parallel 0", []string{"probe", "-parallel", "0", "ws://a/"}, 2, "", "wsreason probe: -parallel 0: must be from 1 to 64\n"},
	{"probe parallel 65", []string{"probe", "-parallel=65", "ws://a/"}, 2, "", "wsreason probe: -parallel 65: must be from 1 to 64\n"},
	{"probe unknown flag", []string{"probe", "-k", "ws://a/"}, 2, "", "wsreason probe: flag provided but not defined: -k (see wsreason probe -h)\n"},
}

func TestRun(t *testing.T) {
	for _, tc := range cliCases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
			checkResult(t, code, stdout.String(), stderr.String(), tc)
		})
	}
}

func checkResult(t *testing.T, code int, stdout, stderr string, tc cliCase) {
	t.Helper()
	if code != tc.wantExit {
		t.Errorf("exit status %d, want %d", code, tc.wantExit)
	}
	if stdout != tc.wantStdout {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tc.wantStdout)
	}
	if stderr != tc.wantStderr {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, tc.wantStderr)
	}
	for _, line := range strings.Split(stdout, "\n") {
		if n := len([]rune(line)); n > width && !strings.HasPrefix(stdout, "{") {
			t.Errorf("a line of %d columns, over %d: %q", n, width, line)
		}
	}
}

func TestJSONOutput(t *testing.T) {
	decode := func(t *testing.T, args ...string) (map[string]any, int) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"-json"}, args...), strings.NewReader(""), &stdout, &stderr)
		var doc map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
			t.Fatalf("%v: stdout is not one JSON document: %v\n%s", args, err, stdout.String())
		}
		return doc, code
	}

	t.Run("table", func(t *testing.T) {
		doc, code := decode(t)
		codes, _ := doc["codes"].([]any)
		ranges, _ := doc["ranges"].([]any)
		if code != 0 || len(codes) != 19 || len(ranges) != 5 {
			t.Fatalf("exit %d, %d codes, %d ranges; want 0, 19, 5", code, len(codes), len(ranges))
		}
		last := ranges[4].(map[string]any)
		if last["first"] != 5000.0 || last["last"] != 65535.0 || last["range"] != "Outside" {
			t.Errorf("last range = %v", last)
		}
	})
	t.Run("notes and registry names", func(t *testing.T) {
		doc, _ := decode(t, "3000", "3008", "1014")
		codes := doc["codes"].([]any)
		for i, want := range []string{"\"connection closed\"", "\"slow\""} {
			note, _ := codes[i].(map[string]any)["note"].(string)
			if !strings.Contains(note, "centrifuge") || !strings.Contains(note, want) {
				t.Errorf("code %v: note %q, want centrifuge's %s", codes[i].(map[string]any)["code"], note, want)
			}
		}
		if name, has := codes[2].(map[string]any)["registry_name"]; has {
			t.Errorf("1014: registry_name %q; the registry gives it none", name)
		}
	})
	t.Run("known uses", func(t *testing.T) {
		doc, _ := decode(t, "4401", "4500", "4001")
		codes := doc["codes"].([]any)
		uses := func(i int) string {
			var s []string
			for _, u := range codes[i].(map[string]any)["known_uses"].([]any) {
				m := u.(map[string]any)
				s = append(s, m["protocol"].(string)+" "+m["name"].(string))
				if !strings.Contains(m["source"].(string), "/") {
					t.Errorf("%v: source %q names no file", m["name"], m["source"])
				}
			}
			return strings.Join(s, ", ")
		}
		if got := uses(0); got != "graphql-ws Unauthorized" {
			t.Errorf("4401 known uses: %q", got)
		}
		if got := uses(1); got != "graphql-ws InternalServerError, Spring SESSION_NOT_RELIABLE" {
			t.Errorf("4500 known uses: %q", got)
		}
		if _, has := codes[2].(map[string]any)["known_uses"]; has {
			t.Errorf("4001 has known uses: %v", codes[2])
		}
		// A protocol's name is never a name for the code: the registry's
		// Unauthorized is 3000, graphql-ws's is 4401.
		doc, _ = decode(t, "Unauthorized")
		if c := doc["codes"].([]any)[0].(map[string]any)["code"]; c != 3000.0 {
			t.Errorf("Unauthorized is %v, want the registry's 3000", c)
		}
		var stdout, stderr bytes.Buffer
		if code := run([]string{"TooManyInitialisationRequests"}, strings.NewReader(""), &stdout, &stderr); code != exitUsage {
			t.Errorf("a graphql-ws name was accepted: exit %d, %s", code, stdout.String())
		}
	})
	t.Run("two codes in line order", func(t *testing.T) {
		doc, code := decode(t, "code: 1001, then websocket: close 4001 (x)")
		codes := doc["codes"].([]any)
		if code != 0 || len(codes) != 2 || codes[0].(map[string]any)["code"] != 1001.0 || codes[1].(map[string]any)["code"] != 4001.0 {
			t.Errorf("exit %d, codes %v; want 1001 then 4001", code, codes)
		}
	})
	t.Run("advice", func(t *testing.T) {
		doc, _ := decode(t, "1012", "1013")
		codes := doc["codes"].([]any)
		restart, later := codes[0].(map[string]any), codes[1].(map[string]any)
		if fmt.Sprintf("%v %v", restart["advice"], restart["advice_delay"]) != "reconnect later [5s 30s]" {
			t.Errorf("1012: advice %v, delay %v", restart["advice"], restart["advice_delay"])
		}
		if _, has := later["advice_delay"]; has || later["advice"] != "elsewhere" {
			t.Errorf("1013: advice %v, delay %v", later["advice"], later["advice_delay"])
		}
	})
	t.Run("explain", func(t *testing.T) {
		doc, code := decode(t, "1006", "4001")
		codes := doc["codes"].([]any)
		first, second := codes[0].(map[string]any), codes[1].(map[string]any)
		if code != 0 || first["code"] != 1006.0 || first["name"] != "AbnormalClose" ||
			first["may_send"] != false || first["reserved"] != true || first["note"] == nil ||
			first["browser_closeable"] != false || first["registry_name"] != "Abnormal Closure" {
			t.Errorf("1006 = %v", first)
		}
		if _, named := second["name"]; named || second["code"] != 4001.0 || second["range"] != "Private" {
			t.Errorf("4001 = %v", second)
		}
	})
	t.Run("payload", func(t *testing.T) {
		doc, code := decode(t, "-payload", "03e9627965")
		if code != 0 || doc["valid"] != true || doc["code"] != 1001.0 || doc["name"] != "GoingAway" || doc["reason"] != "bye" {
			t.Errorf("exit %d, %v", code, doc)
		}
	})
	t.Run("invalid payload", func(t *testing.T) {
		doc, code := decode(t, "-payload", "03e8c0af")
		if code != 1 || doc["valid"] != false || doc["reply_code"] != 1007.0 || doc["code"] != 1000.0 || doc["name"] != "Normal" ||
			doc["error"] != "close reason is not valid UTF-8: byte 0xc0 at offset 0" {
			t.Errorf("exit %d, %v", code, doc)
		}
	})
	t.Run("format", func(t *testing.T) {
		doc, code := decode(t, "-format", "GOING_AWAY", "bye")
		if code != 0 || doc["code"] != 1001.0 || doc["payload"] != "03e9627965" {
			t.Errorf("exit %d, %v", code, doc)
		}
	})
	t.Run("format error", func(t *testing.T) {
		doc, code := decode(t, "-format", "1015")
		if code != 1 || doc["payload"] != nil || !strings.Contains(doc["error"].(string), "1015") {
			t.Errorf("exit %d, %v", code, doc)
		}
	})
}

func TestHexFromStdin(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-payload", "-"}, strings.NewReader("03:e9:62:79:65\n"), &stdout, &stderr)
	checkResult(t, code, stdout.String(), stderr.String(), cliCase{wantStdout: payloadBye})

	stdout.Reset()
	stderr.Reset()
	code = run([]string{"-frame", "-"}, strings.NewReader("88 82 12 34 56 78\n11 dc\n"), &stdout, &stderr)
	checkResult(t, code, stdout.String(), stderr.String(), cliCase{
		wantStdout: frameMaskedHead + withReason(explain1000, `""`),
	})

	stdout.Reset()
	stderr.Reset()
	code = run([]string{"-payload", "-"}, strings.NewReader(strings.Repeat("0", maxStdin+1)), &stdout, &stderr)
	checkResult(t, code, stdout.String(), stderr.String(), cliCase{
		wantExit:   exitUsage,
		wantStderr: "wsreason: standard input holds more than 65536 bytes; a Close frame is at most 131 bytes, 262 hex digits\n",
	})
}

// TestTableGolden keeps the no-argument table in testdata, so that any change
// to a name or a description shows up as a diff. Rewrite it with
// go test -run TestTableGolden -update.
func TestTableGolden(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(nil, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	golden := filepath.Join("testdata", "table.golden")
	if *update {
		if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if !bytes.Equal(stdout.Bytes(), want) {
		t.Errorf("table differs from %s; if the change is intended, rerun with -update\ngot:\n%s", golden, stdout.String())
	}
}

// TestBinary builds the command and runs it as a user would.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build wsreason: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "wsreason")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "table.golden"))
	if err != nil {
		t.Fatal(err)
	}
	cases := append([]cliCase{{"table", nil, 0, string(golden), ""}}, cliCases...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tc.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			if err != nil && code <= 0 {
				t.Fatalf("running %v: %v", tc.args, err)
			}
			checkResult(t, code, stdout.String(), stderr.String(), tc)
		})
	}
}

// readmeRun is a block of the README that shows wsreason's output.
var readmeRun = regexp.MustCompile("(?s)```console\n\\$ go run \\./cmd/wsreason ([^\n]*)\n(.*?)```")

// TestREADMEOutput keeps the output the README shows true: every block that
// runs wsreason (but probe and serve, which interop runs against real
// servers) must be what that command prints.
func TestREADMEOutput(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, m := range readmeRun.FindAllStringSubmatch(string(readme), -1) {
		args := shellWords(t, m[1])
		if args[0] == "probe" || args[0] == "serve" || args[0] == "watch" {
			continue
		}
		for i, a := range args { // the README runs from the module's root, the test here
			args[i] = strings.TrimPrefix(a, "cmd/wsreason/")
		}
		var stdout, stderr bytes.Buffer
		if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 0 {
			t.Errorf("wsreason %s: exit %d: %s", m[1], code, stderr.String())
		}
		if m[2] != stdout.String() {
			t.Errorf("README.md shows for wsreason %s:\n%s\nbut it prints:\n%s", m[1], m[2], stdout.String())
		}
		checked++
	}
	if checked < 3 {
		t.Errorf("README.md shows %d runs of wsreason; want at least 3 (1006, a Spring line, a Python line)", checked)
	}
}

// shellWords splits a command line as sh does for the plain and
// single-quoted words the README uses.
func shellWords(t *testing.T, line string) []string {
	var words []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if rest, ok := strings.CutPrefix(line, "'"); ok {
			word, after, found := strings.Cut(rest, "'")
			if !found {
				t.Fatalf("unbalanced quote in %q", line)
			}
			words, line = append(words, word), after
			continue
		}
		word, after, _ := strings.Cut(line, " ")
		words, line = append(words, word), after
	}
	return words
}

// TestProbeRefused: a server that is not there is a failed handshake, exit 2.
func TestProbeRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	var stdout, stderr bytes.Buffer
	code := run([]string{"probe", "-timeout", "1s", url}, strings.NewReader(""), &stdout, &stderr)
	want := "wsreason probe: handshake with " + url + ": dial tcp " + strings.TrimPrefix(strings.TrimSuffix(url, "/"), "ws://") + ": connect: connection refused\n"
	wantOut := "Probing " + url + ", one connection per case, 4 at a time (timeout 1s per case).\n\n"
	if code != 2 || stdout.String() != wantOut || stderr.String() != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2, %q and %q", code, stdout.String(), stderr.String(), wantOut, want)
	}
	// With -json, one JSON document that says why, with no cases.
	stdout.Reset()
	stderr.Reset()
	code = run([]string{"probe", "-json", "-timeout", "1s", url}, strings.NewReader(""), &stdout, &stderr)
	var doc struct {
		Error string
		Cases []any
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil || code != 2 || doc.Error != strings.TrimPrefix(strings.TrimSuffix(want, "\n"), "wsreason probe: ") || doc.Cases == nil || len(doc.Cases) != 0 {
		t.Errorf("-json: exit %d, %v, document %+v from %q", code, err, doc, stdout.String())
	}
}

// TestProbeKeepsResults: a server that starts refusing handshakes after
// some cases (429, as a rate limiter does) still gets the rows gathered
// until then, in text and in JSON, and exit 2.
func TestProbeKeepsResults(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	good := rawserver.Handler(rawserver.Answer([]byte{0x88, 0x02, 0x03, 0xe8}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 5 {
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		good.ServeHTTP(w, r)
	}))
	defer srv.Close()
	url := rawserver.URL(srv)
	var stdout, stderr bytes.Buffer
	code := run([]string{"probe", "-parallel", "1", "-timeout", "1s", url}, strings.NewReader(""), &stdout, &stderr)
	if code != 2 || !strings.Contains(stdout.String(), "\n5 cases: ") || !strings.Contains(stderr.String(), "429 Too Many Requests") ||
		!strings.Contains(stderr.String(), "the 5 cases above completed before that") {
		t.Errorf("exit %d, stdout:\n%s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	n.Store(0)
	stdout.Reset()
	code = run([]string{"probe", "-json", "-parallel", "1", "-timeout", "1s", url}, strings.NewReader(""), &stdout, &stderr)
	var doc struct {
		Error string
		Cases []struct{ Case string }
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil || code != 2 || len(doc.Cases) != 5 || !strings.Contains(doc.Error, "429") {
		t.Errorf("-json: exit %d, %v, %d cases, error %q", code, err, len(doc.Cases), doc.Error)
	}
}

// TestProbeBadReplies: against a server whose Close frame breaks one rule
// on sending one, every row is wrong, the note names the rule, the text
// fits 100 columns, and the exit status is 1.
func TestProbeBadReplies(t *testing.T) {
	t.Parallel()
	for _, bad := range rawserver.BadReplies {
		t.Run(bad.Name, func(t *testing.T) {
			url := rawserver.Start(t, false, rawserver.Answer(bad.Frame))
			var stdout, stderr bytes.Buffer
			code := run([]string{"probe", "-timeout", "2s", url}, strings.NewReader(""), &stdout, &stderr)
			out := stdout.String()
			if code != exitInvalid || stderr.Len() != 0 || !strings.Contains(out, "\n47 cases: 0 ok, 0 tolerated, 47 wrong; Autobahn fails ") {
				t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr.String(), out)
			}
			if !strings.Contains(out, "\n[1] ") || !strings.Contains(out, "§") {
				t.Errorf("no note naming the rule:\n%s", out)
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "[") || strings.HasPrefix(line, "Probing") {
					continue // notes and the header line may wrap
				}
				if n := utf8.RuneCountInString(line); n > 100 {
					t.Errorf("%d columns: %q", n, line)
				}
			}
		})
	}
}

// TestProbeStrict: a server that answers every Close with an empty Close
// and closes TCP breaks no rule of RFC 6455 (exit 0), but Autobahn fails
// it where it expects the echo of a text message (7.1.1), so -strict exits
// 1.
func TestProbeStrict(t *testing.T) {
	t.Parallel()
	url := rawserver.Start(t, false, rawserver.Answer([]byte{0x88, 0x00}))
	var lax, strict bytes.Buffer
	laxCode := run([]string{"probe", "-json", "-timeout", "2s", url}, strings.NewReader(""), &lax, io.Discard)
	strictCode := run([]string{"probe", "-json", "-strict", "-timeout", "2s", url}, strings.NewReader(""), &strict, io.Discard)
	var doc struct {
		Cases []struct {
			Autobahn string
			Grade    string `json:"autobahn_grade"`
		}
		Summary struct {
			Wrong         int
			AutobahnFails int `json:"autobahn_fails"`
		}
	}
	if err := json.Unmarshal(strict.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if laxCode != exitOK || strictCode != exitInvalid || doc.Summary.Wrong != 0 || doc.Summary.AutobahnFails == 0 {
		t.Errorf("lax exit %d, strict exit %d, summary %+v; want 0, 1, no wrong row, some Autobahn failures", laxCode, strictCode, doc.Summary)
	}
	if !bytes.Equal(lax.Bytes(), strict.Bytes()) {
		t.Error("-strict changed the document, not only the exit status")
	}
	for _, c := range doc.Cases {
		if c.Autobahn == "7.1.1" && c.Grade != "FAILED" {
			t.Errorf("7.1.1 with no echo: %s, want FAILED", c.Grade)
		}
	}
}

// TestBrief: -brief gives one line per code, each code once however many
// arguments name it, and refuses to pair with -payload.
func TestBrief(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-brief", "1000", "1006", "GoingAway", "going_away", "0x3e9"}, strings.NewReader(""), &stdout, &stderr)
	want := "1000 Normal: may be sent; advice: done\n" +
		"1006 AbnormalClose: may not be sent; advice: reconnect\n" +
		"1001 GoingAway: may be sent; advice: reconnect\n"
	if code != exitOK || stdout.String() != want || stderr.Len() > 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and %q", code, stdout.String(), stderr.String(), want)
	}
	stdout.Reset()
	if code := run([]string{"-brief", "4001"}, strings.NewReader(""), &stdout, &stderr); code != exitOK ||
		stdout.String() != "4001 unnamed (Private range): may be sent; advice: application\n" {
		t.Errorf("4001: exit %d, %q", code, stdout.String())
	}
	stdout.Reset()
	if code := run([]string{"-brief"}, strings.NewReader(""), &stdout, &stderr); code != exitOK || strings.Count(stdout.String(), "\n") != len(reasons.Named()) {
		t.Errorf("no codes: exit %d, %d lines, want one per named code", code, strings.Count(stdout.String(), "\n"))
	}
	stdout.Reset()
	if code := run([]string{"-brief", "-payload", "03e8"}, strings.NewReader(""), &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "-brief is for codes and log lines") {
		t.Errorf("-brief -payload: exit %d, stderr %q", code, stderr.String())
	}
	// Without -brief, GoingAway and going_away are explained once too.
	stdout.Reset()
	run([]string{"GoingAway", "going_away"}, strings.NewReader(""), &stdout, &stderr)
	if n := strings.Count(stdout.String(), "1001 GoingAway (IANA"); n != 1 {
		t.Errorf("GoingAway going_away: %d explanations, want 1:\n%s", n, stdout.String())
	}
}

// TestWrapColumns: wrap counts columns, so a word with "§" (two bytes, one
// column) fits where its columns fit, and no line passes the width.
func TestWrapColumns(t *testing.T) {
	if got := wrap("aaaa §§§§ bbbb", 0, 9); got != "aaaa §§§§\nbbbb" {
		t.Errorf("wrap = %q, want %q", got, "aaaa §§§§\nbbbb")
	}
	text := "a Close frame's code must be one §7.4 defines (§5.5.1); §7.4.1 forbids 1005, 1006 and 1015 on the wire"
	for _, line := range strings.Split(wrap(text, 4, 30), "\n") {
		if n := utf8.RuneCountInString(line); n > 30 {
			t.Errorf("a line of %d columns, past 30: %q", n, line)
		}
	}
}

// TestClipLimit: clip never returns more runes than its limit, and cuts on
// a character, not a byte.
func TestClipLimit(t *testing.T) {
	s := "§§§§§§ close 1006"
	for max := 0; max <= utf8.RuneCountInString(s)+1; max++ {
		got := clip(s, max)
		if n := utf8.RuneCountInString(got); n > max || !utf8.ValidString(got) {
			t.Errorf("clip(%q, %d) = %q, %d runes", s, max, got, n)
		}
	}
	if got := clip(s, 4); got != "§§§…" {
		t.Errorf("clip(%q, 4) = %q, want §§§…", s, got)
	}
}

// TestCommandEdges holds behaviours of the command written from its help
// and the rules it cites, each at an edge a small change would cross.
func TestCommandEdges(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args        []string
		code        int
		out, errOut string // parts the output must hold
	}{
		// A Close frame with no body: its length is 0 bytes (§5.2).
		{[]string{"-frame", "8800"}, exitOK, "  length   0 bytes\n", ""},
		// A masked frame with the 7-bit length: the key follows the 2-byte header.
		{[]string{"-frame", "888011223344"}, exitOK, "  masked   key 11223344 (client to server)\n", ""},
		// 1012's wait, low bound first, as the IANA registration gives it.
		{[]string{"1012"}, exitOK, "after a random 5s to 30s", ""},
		// Header names are tokens (RFC 9110 §5.6.2), and values hold no line break.
		{[]string{"probe", "-H", ": v", "ws://a/"}, exitUsage, "", `"" is not a header name`},
		{[]string{"probe", "-H", "X: a\rb", "ws://a/"}, exitUsage, "", "the value may not hold a line break"},
		{[]string{"serve", "-timeout", "0"}, exitUsage, "", "-timeout 0s: must be more than 0"},
		// Another stack's name inside tungstenite's form is no code: the form's names are tungstenite's.
		{[]string{`CloseFrame { code: GoingAway, reason: "" }`}, exitUsage, "", "is not a close code number or name, nor a log line"},
		// Stacks' names match in any case: gorilla's 1013 and coder's 1014.
		{[]string{"-brief", "closetryagainlater", "STATUSBADGATEWAY"}, exitOK, "1013 TryAgainLater: may be sent; advice: elsewhere\n1014 BadGateway: may be sent; advice: reconnect\n", ""},
	} {
		var stdout, stderr bytes.Buffer
		code := run(c.args, strings.NewReader(""), &stdout, &stderr)
		if code != c.code || !strings.Contains(stdout.String(), c.out) || !strings.Contains(stderr.String(), c.errOut) {
			t.Errorf("wsreason %q: exit %d, stdout %q, stderr %q; want %d, %q, %q", c.args, code, stdout.String(), stderr.String(), c.code, c.out, c.errOut)
		}
	}
	// The JSON key of a name's source file.
	var stdout, stderr bytes.Buffer
	run([]string{"-json", "1013"}, strings.NewReader(""), &stdout, &stderr)
	var doc struct {
		Codes []struct {
			AlsoCalled []struct{ Stack, Name, Source string } `json:"also_called"`
		} `json:"codes"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil || len(doc.Codes) != 1 {
		t.Fatalf("-json 1013: %v %s", err, stdout.String())
	}
	found := false
	for _, a := range doc.Codes[0].AlsoCalled {
		if a.Stack == "gorilla/websocket" {
			found = a.Name == "CloseTryAgainLater" && strings.Contains(a.Source, "conn.go")
		}
	}
	if !found {
		t.Errorf("1013 lacks gorilla's CloseTryAgainLater with its source: %+v", doc.Codes[0].AlsoCalled)
	}
}

// TestFormat1005JSON: 1005 may not be sent in a Close frame (§7.4.1): -format
// builds the empty body that makes a receiver report it, and -json says so
// in its note.
func TestFormat1005JSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-json", "-format", "1005"}, strings.NewReader(""), &stdout, &stderr)
	var doc struct {
		Code    int
		Payload string
		Note    string
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil || code != exitOK || doc.Code != 1005 || doc.Payload != "" ||
		!strings.Contains(doc.Note, "no code") || !strings.Contains(doc.Note, "1005") {
		t.Errorf("-json -format 1005: exit %d, %v, %s", code, err, stdout.String())
	}
}

// TestTextTableNotes: a rule that two rows break is one note, whose number
// both rows carry; another rule gets the next number.
func TestTextTableNotes(t *testing.T) {
	var b bytes.Buffer
	tt := newTextTable(&b)
	for i, rule := range []string{"rule A", "rule B", "rule A"} {
		tt.add(probe.Result{Index: i, Case: fmt.Sprintf("case %d", i), Verdict: probe.Wrong, Rule: rule})
	}
	out := b.String()
	if strings.Count(out, "[1]") != 2 || strings.Count(out, "[2]") != 1 || strings.Count(out, "[3]") != 0 {
		t.Errorf("the notes of rows breaking A, B, A:\n%s", out)
	}
}
