package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wsreasons/reasons"
)

// Who sent a code, for the forms that say.
const (
	sentByPeer = "the peer"  // the code came in a Close frame from the other side
	sentByUs   = "this side" // the side that logged the line sent it
)

// logForm is one way a stack prints a close code in a log line or an error
// message.
type logForm struct {
	stack  string         // who prints it; also whose names a name in it is
	re     *regexp.Regexp // its first group is the code: a number, a name, or Name(number)
	sentBy string         // who sent the code, when the form says
	// A form for a close without a code has no group: it gives code (1006,
	// no Close frame), and saw says what the side that logged it saw.
	code reasons.Reason
	saw  string
}

// What the sides saw, for the forms of a close with no Close frame.
const (
	sawNoneEitherWay = "no Close frame either way: the TCP connection ended first"
	sawNoneBack      = "this side sent a Close frame, and none came back before the TCP connection ended"
	sawTCPClosed     = "the peer closed the TCP connection with no Close frame"
	sawFailed        = "the browser failed the connection, with no Close frame; its close event has 1006 and wasClean false"
)

// logForms are the forms wsreason reads, the most specific first: where two
// match the same code, the first one names it.
var logForms = []logForm{
	// "received 1011 (unexpected error) keepalive ping timeout; then sent 1011 (...)"
	{"Python websockets", regexp.MustCompile(`\breceived (\d+) \(`), sentByPeer, 0, ""},
	{"Python websockets", regexp.MustCompile(`\bsent (\d+) \(`), sentByUs, 0, ""},
	// before version 10: "code = 1006 (connection closed abnormally [internal]), no reason"
	{"Python websockets", regexp.MustCompile(`\bcode = (\d+) \(`), "", 0, ""},
	// CloseStatus.toString: "CloseStatus[code=1006, reason=null]"
	{"Spring", regexp.MustCompile(`\bCloseStatus\[code=(\d+)`), "", 0, ""},
	// CloseReason.toString: "CloseReason[1008,Policy violation]"
	{"JSR 356/Jakarta", regexp.MustCompile(`\bCloseReason\[(\d+)`), "", 0, ""},
	// CloseReason.toString: "CloseReason(reason=NORMAL, message=bye)"
	{"Ktor", regexp.MustCompile(`\bCloseReason\(reason=(\w+)`), "", 0, ""},
	// CloseFrame's Debug: "CloseFrame { code: Away, reason: ... }", "code: Library(4001)"
	{"Rust tungstenite", regexp.MustCompile(`\bCloseFrame \{ code: (\w+(?:\(\d+\))?)`), "", 0, ""},
	// SignalR's client: "WebSocket closed by the server. Close status EndpointUnavailable."
	{".NET", regexp.MustCompile(`\bclosed by the server\. Close status (\w+)`), sentByPeer, 0, ""},
	{".NET", regexp.MustCompile(`\bWebSocketCloseStatus\.(\w+)`), "", 0, ""},
	// the error ws fails a connection with: "Invalid WebSocket frame: invalid status code 1005"
	{"Node ws", regexp.MustCompile(`\binvalid status code (\d+)`), sentByPeer, 0, ""},
	// CloseError: "websocket: close 1006 (abnormal closure): unexpected EOF"
	{"gorilla/websocket", regexp.MustCompile(`\bclose (\d+)\b`), "", 0, ""},
	// CloseError: "status = StatusGoingAway and reason = ...", "status = StatusCode(4000)"
	{"coder/websocket", regexp.MustCompile(`\bstatus = (StatusCode\(\d+\)|Status\w+)`), "", 0, ""},
	// a browser console's CloseEvent "{isTrusted: true, wasClean: false, code: 1006, ...}",
	// wscat's "Disconnected (code: 1006, reason: "")"
	{"a browser console, wscat", regexp.MustCompile(`\bcode: (\d+)\b`), "", 0, ""},
	// gws's CloseError (types.go): "gws: connection closed, code=1001, reason=bye"
	{"lxzan/gws", regexp.MustCompile(`\bgws: connection closed, code=(\d+)`), "", 0, ""},
	// gobwas's wsutil.ClosedError (wsutil/handler.go): "ws closed: 1001 bye"
	{"gobwas/ws", regexp.MustCompile(`\bws closed: (\d+)\b`), "", 0, ""},
	{"key=value logs", regexp.MustCompile(`\bcode=(\d+)\b`), "", 0, ""},

	// Closes with no code at all, which the side that logs them reports as
	// 1006. Python websockets' ConnectionClosed (exceptions.py, __str__):
	// "no close frame received or sent", "sent 1000 (OK); no close frame received".
	{"Python websockets", regexp.MustCompile(`\bno close frame received or sent\b`), "", reasons.AbnormalClose, sawNoneEitherWay},
	{"Python websockets", regexp.MustCompile(`; no close frame received\b`), "", reasons.AbnormalClose, sawNoneBack},
	// coder/websocket's read error (frame.go's "failed to read frame header",
	// wrapped by read.go's "failed to get reader"): "...: failed to read frame header: EOF"
	{"coder/websocket", regexp.MustCompile(`\bfailed to read frame header: (?:unexpected )?EOF\b`), "", reasons.AbnormalClose, sawTCPClosed},
	// .NET's WebSocketException for WebSocketError.ConnectionClosedPrematurely
	{".NET", regexp.MustCompile(`\bThe remote party closed the WebSocket connection without completing the close handshake\b`), "", reasons.AbnormalClose, sawTCPClosed},
	// Node ws (lib/websocket.js), closed during the opening handshake
	{"Node ws", regexp.MustCompile(`\bWebSocket was closed before the connection was established\b`), "", reasons.AbnormalClose,
		"the connection was closed during the opening handshake; the close event has 1006"},
	// Blink's WebSocketChannelImpl::Fail and WebKit's WebSocketChannel::logErrorMessage:
	// "WebSocket connection to 'wss://example.com/' failed: ..."
	{"a browser console (Chromium, Safari)", regexp.MustCompile(`\bWebSocket connection to '[^']*' failed\b`), "", reasons.AbnormalClose, sawFailed},
	// Firefox's appstrings.properties, connectionFailure and netInterrupt
	{"a browser console (Firefox)", regexp.MustCompile(`\bcan[’']t establish a connection to the server at wss?://`), "", reasons.AbnormalClose, sawFailed},
	{"a browser console (Firefox)", regexp.MustCompile(`\bThe connection to wss?://\S+ was interrupted while the page was loading\b`), "", reasons.AbnormalClose, sawFailed},
}

// wrapped is a name around a number, as coder's StatusCode(4000) and
// tungstenite's Library(4000): the number is the code.
var wrapped = regexp.MustCompile(`^\w+\((\d+)\)$`)

// found is a close code found in a line, with the text that gave it away;
// err is set instead of code when the form holds a number outside
// 0..65535 or a name that is not the stack's.
type found struct {
	code    reasons.Reason
	matched string // the text of the form in the line
	token   string // the part of it that is the code
	stack   string // the stack that prints the form
	sentBy  string // who sent the code, when the form says
	saw     string // for a close with no code, what the side that logged it saw
	err     error
}

// findInLine returns every close code that line shows in one of logForms,
// in the order they appear in the line. It never guesses: a number or name
// outside those forms is not a code.
func findInLine(line string) []found {
	type hit struct {
		at int // where the code starts in line
		f  found
	}
	var hits []hit
	for i, form := range logForms {
		if !strings.Contains(line, formAnchors[i]) {
			continue // the form's literal text is not in the line: no match
		}
		for _, m := range form.re.FindAllStringSubmatchIndex(line, -1) {
			if form.code != 0 {
				f := found{code: form.code, matched: line[m[0]:m[1]], token: line[m[0]:m[1]], stack: form.stack, saw: form.saw}
				hits = append(hits, hit{m[0], f})
				continue
			}
			if slices.ContainsFunc(hits, func(h hit) bool { return h.at == m[2] }) {
				continue // a more specific form already named this code
			}
			f := found{matched: line[m[0]:m[1]], token: line[m[2]:m[3]], stack: form.stack, sentBy: form.sentBy}
			number := f.token
			if n := wrapped.FindStringSubmatch(number); n != nil {
				number = n[1]
			}
			if c, err := strconv.ParseUint(number, 10, 64); err == nil {
				f.code, f.err = reasons.Get(int(min(c, 1<<31)))
				if f.err != nil {
					f.err = fmt.Errorf("%q: %w", f.matched, f.err)
				}
			} else if errors.Is(err, strconv.ErrRange) {
				f.err = fmt.Errorf("%q: code %s is out of range 0..65535", f.matched, number)
			} else if r, ok := stackName(form.stack, f.token); ok {
				f.code = r
			} else {
				continue // a word in the place of a code, but nobody's name for one
			}
			hits = append(hits, hit{m[2], f})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.at - b.at })
	out := make([]found, len(hits))
	for i, h := range hits {
		out[i] = h.f
	}
	return out
}

// stackName finds name among the names of the stack that printed it, and
// then among every name byName knows when the stack has none of its own.
func stackName(stack, name string) (reasons.Reason, bool) {
	for _, s := range stacks {
		if s.Stack != stack {
			continue
		}
		for _, n := range s.Names {
			if strings.EqualFold(n.Name, name) {
				return n.Code, true
			}
		}
		return 0, false
	}
	r, err := byName(name)
	return r, err == nil
}
