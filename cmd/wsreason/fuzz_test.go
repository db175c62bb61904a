package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/wsreasons/reasons"

	"github.com/wsreasons/reasons/internal/wsframe"
)

// FuzzDecodeHex: hex as a capture shows it. Whatever decodes gives back
// its bytes when written plainly, each byte made of two of the input's hex
// digits, and an error names the input.
func FuzzDecodeHex(f *testing.F) {
	for _, s := range []string{"03 e9 62 79 65", "03:e9:62", "03-e9", `\x03\xe9`, "0x03 0xe9", "0x3e9", "3e9", "zz", "", "- -"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := decodeHex("payload", s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "payload ") {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		digits := 0
		for _, c := range strings.ToLower(s) {
			if strings.ContainsRune("0123456789abcdef", c) {
				digits++
			}
		}
		if 2*len(b) > digits {
			t.Fatalf("%q gave %d bytes from %d hex digits", s, len(b), digits)
		}
		back, err := decodeHex("payload", hex.EncodeToString(b))
		if err != nil || !bytes.Equal(back, b) {
			t.Fatalf("round trip of % x: % x, %v", b, back, err)
		}
	})
}

// FuzzFrame: -frame on any bytes never panics; the JSON form is one JSON
// document; it calls a frame valid only when wsframe decodes it whole.
func FuzzFrame(f *testing.F) {
	f.Add([]byte{0x88, 0x82, 0x12, 0x34, 0x56, 0x78, 0x11, 0xdc})
	f.Add([]byte{0x88, 0x02, 0x03, 0xe8})
	f.Add([]byte{0xc8, 0x02, 0x03, 0xe8, 0x00})
	f.Add([]byte{0x88, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 2, 0x03, 0xe8})
	f.Add([]byte{0x88, 0x82, 0x12})
	f.Fuzz(func(t *testing.T, frame []byte) {
		var text, js bytes.Buffer
		errText := output{stdout: &text, stderr: io.Discard}.frame(hex.EncodeToString(frame))
		errJSON := output{stdout: &js, stderr: io.Discard, json: true}.frame(hex.EncodeToString(frame))
		if len(frame) == 0 {
			return // no hex: a usage error
		}
		var doc struct{ Valid bool }
		if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
			t.Fatalf("-json -frame % x printed no JSON: %v\n%s", frame, err, js.String())
		}
		_, _, rest, err := wsframe.Decode(frame)
		if doc.Valid && (err != nil || len(rest) != 0) {
			t.Fatalf("% x called valid, but Decode says %v with %d bytes after", frame, err, len(rest))
		}
		if doc.Valid != (errJSON == nil) || (errText == nil) != (errJSON == nil) {
			t.Fatalf("% x: valid %v, errors %v and %v", frame, doc.Valid, errText, errJSON)
		}
	})
}

// FuzzLogLine: the codes found in a line are each in a form the line
// shows, in the order the line shows them, and a number out of range is an
// error, never another code.
func FuzzLogLine(f *testing.F) {
	for _, s := range []string{
		"websocket: close 1006 (abnormal closure): unexpected EOF",
		"status = StatusGoingAway and reason = \"\"",
		"Disconnected (code: 1006, reason: \"\")",
		"code=4001 then close 1000",
		"close 70000", "foreclose 3 items", "status = StatusCode(4001)",
		"close 99999999999999999999999",
		"received 1011 (unexpected error) x; then sent 1011 (unexpected error) x",
		"CloseStatus[code=1006, reason=null]", "CloseReason[1008,Policy violation]",
		"CloseReason(reason=NORMAL, message=)", `CloseFrame { code: Library(4001), reason: "" }`,
		`CloseFrame { code: Invalid, reason: "" }`, "WebSocketCloseStatus.Empty",
		"closed by the server. Close status EndpointUnavailable.", "invalid status code 1005",
		"sent 1000 (OK); no close frame received", "no close frame received or sent",
		"failed to read frame header: EOF", "WebSocket connection to 'ws://x/' failed: ",
		"gws: connection closed, code=1001, reason=", "ws closed: 1001 x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		last := -1
		for _, h := range findInLine(line) {
			at := strings.Index(line[last+1:], h.matched)
			if at < 0 {
				t.Fatalf("%q: found %q out of order or not in the line", line, h.matched)
			}
			last += 1 + at
			if h.err != nil && !strings.Contains(h.err.Error(), h.matched) {
				t.Fatalf("%q: the error %q does not name %q", line, h.err, h.matched)
			}
			if h.err == nil && !tokenMeans(h) {
				t.Fatalf("%q: %q gave code %d", line, h.matched, h.code)
			}
		}
	})
}

// tokenMeans reports whether the token a form found is in its text and is
// the code found: its number, or a name the table gives that code; for a
// close with no code, the form's whole text, 1006 and what was seen.
func tokenMeans(h found) bool {
	if !strings.Contains(h.matched, h.token) {
		return false
	}
	if h.saw != "" {
		return h.token == h.matched && h.code == reasons.AbnormalClose
	}
	number := h.token
	if m := wrapped.FindStringSubmatch(number); m != nil {
		number = m[1]
	}
	if n, err := strconv.Atoi(number); err == nil {
		return n == int(h.code)
	}
	for _, s := range stacks {
		for _, n := range s.Names {
			if n.Code == h.code && strings.EqualFold(n.Name, h.token) {
				return true
			}
		}
	}
	return false
}
