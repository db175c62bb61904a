// Package probe is the engine under wsreason probe, serve and watch and
// package reasonstest: it checks how a WebSocket endpoint answers Close
// frames. It holds the frames to send ([Cases]), the rules that judge each
// answer ([Case.Judge] and [Case.Grade]), a raw client that sends them
// exactly as given ([Dial]), the runner that sends every case to a server
// ([Run], giving a [Report]), and the server that sends them to clients
// ([Handler]); and the engine of wsreason watch, which measures how long
// connections live through the path to a server and how they end
// ([Watch]). It imports the standard library only and never package
// testing: programs import it, and Go tests import reasonstest, a thin
// layer over it.
//
// Each case sends what Autobahn TestSuite's case file of the same id sends
// (case7_*.py), in the same order and with the same waits ([Conn.Send]).
// Each answer gets two grades. The first is RFC 6455's, one of three
// verdicts. The receiver of a Close frame is bound to little: it must answer
// with a Close frame (§5.5.1), must fail the connection on a reason that is
// not UTF-8 (§8.1), and may not treat a code the RFC or the IANA registry
// defines as an error. Its answer is itself a Close frame, so it is bound by
// every rule on sending one too: a code that §7.4 defines (§5.5.1; no
// 0-999, 1004, 1016-2999 or 5000 and up, and never 1005, 1006 or 1015,
// §7.4.1), no 1-byte body (§5.5.1), at most 125 bytes and no fragments
// (§5.5), no mask from a server (§5.1), no RSV bits without an extension
// (§5.2), a UTF-8 reason (§5.5.1). Breaking one of those is [Wrong], from
// a server or a client alike. Most rules on the frames the probe sends bind
// the sender, and the RFC leaves the receiver's answer open; package
// reasons answers them as Autobahn TestSuite expects, and that answer is
// [OK]. Any other answer that breaks no requirement is [Tolerated].
//
// The second is the grade Autobahn TestSuite's grader gives the same answer
// ([Grade]), from the expectation Autobahn writes for the case; see
// [Expectation] and [Case.Grade].
package probe

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/wsframe"
)

// Case is one Close frame body to send, with the frames around it.
type Case struct {
	Name string
	// Autobahn is the id of the Autobahn TestSuite case this row is, such
	// as "7.9.1", or "" for a row beyond Autobahn.
	Autobahn string
	Payload  []byte // the body of the Close frame
	// Before and After are frames sent right before and right after the
	// Close frame, as Autobahn's 7.1.x cases send them.
	Before, After []Frame
	// CloseOnEcho holds the Close frame and the frames after it back until
	// the endpoint has sent the events of Expect.OK, as Autobahn's
	// finishWhenDone does in 7.1.1; see [Conn.Send].
	CloseOnEcho bool
	// AfterClose asks whether the server, once it has answered, closes
	// the TCP connection, as RFC 6455 §7.1.1 asks it to.
	AfterClose bool
	// Expect is what Autobahn's grader expects; for a row beyond Autobahn,
	// the expectation of the Autobahn case it is most like.
	Expect Expectation
}

// Frame is a frame the probe sends besides the Close frame. Every frame is
// masked, as a client's must be.
type Frame struct {
	Op      wsframe.Opcode
	More    bool // FIN clear: more fragments of this message follow
	Payload []byte
}

func body(code int, text string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), text...)
}

// hello is the text message of Autobahn's 7.1.x cases.
const hello = "Hello World!"

func text(s string) Frame { return Frame{Op: wsframe.OpText, Payload: []byte(s)} }

// The expectations Autobahn's §7 cases write, by kind.
var (
	// normalClose: a clean close answered with 1000 or an empty Close
	// (7.1.x, 7.3.1, 7.3.3-7.3.5).
	normalClose = Expectation{Codes: []reasons.Reason{reasons.Normal}, RequireClean: true}
	// protocolError: 1002, an empty Close, or a dropped connection (7.3.2,
	// 7.3.6, 7.9.x).
	protocolError = Expectation{Codes: []reasons.Reason{reasons.ProtocolError}}
	// badReason: 1002 or 1007, an empty Close, or a dropped connection
	// (7.5.1).
	badReason = Expectation{Codes: []reasons.Reason{reasons.ProtocolError, reasons.InconsistentData}}
)

// validCode is the expectation of 7.7.x: a clean close answered with 1000,
// the same code, or an empty Close.
func validCode(code reasons.Reason) Expectation {
	codes := []reasons.Reason{reasons.Normal}
	if code != reasons.Normal {
		codes = append(codes, code)
	}
	return Expectation{Codes: codes, RequireClean: true}
}

// undefined is the expectation of 7.13.x, which Autobahn grades
// INFORMATIONAL whatever happens.
var undefined = Expectation{Informational: true}

// Cases returns the cases every endpoint is tested with, in a fixed order:
// Autobahn TestSuite's close cases (§7 of its suite) by id, then the rows
// that go beyond it. Most of the Close frames are malformed.
func Cases() []Case {
	// Each row sends what its Autobahn case file (case7_*.py) sends, in the
	// same order: onOpen's frames (Before, the Close frame, After) at once,
	// except 7.1.1, whose onOpen sends the text alone; case.py's
	// finishWhenDone sends Close 1000 once the echo is back. Every case is
	// bounded by killAfter(1) (KillAfter). The sequence of each is written
	// beside it.
	cases := []Case{
		// onOpen: text "Hello World!", killAfter(1); finishWhenDone, once
		// the echo is back: Close 1000.
		{Name: "text, then Close", Autobahn: "7.1.1", Payload: body(1000, ""), CloseOnEcho: true,
			Before: []Frame{text(hello)}, Expect: Expectation{OK: []Event{textEvent(hello)}, Codes: normalClose.Codes, RequireClean: true}},
		// onOpen: Close 1000, an empty Close, killAfter(1); suppressClose.
		{Name: "two Close frames", Autobahn: "7.1.2", Payload: body(1000, ""),
			After: []Frame{{Op: wsframe.OpClose}}, Expect: normalClose},
		// onOpen: Close 1000, an empty Ping, killAfter(1); suppressClose.
		{Name: "ping after Close", Autobahn: "7.1.3", Payload: body(1000, ""),
			After: []Frame{{Op: wsframe.OpPing}}, Expect: normalClose},
		// onOpen: Close 1000, text "Hello World!", killAfter(1); suppressClose.
		{Name: "text after Close", Autobahn: "7.1.4", Payload: body(1000, ""),
			After: []Frame{text(hello)}, Expect: normalClose},
		// onOpen: text "fragment1" with FIN clear, Close 1000, continuation
		// "fragment2", killAfter(1); suppressClose.
		{Name: "Close between fragments", Autobahn: "7.1.5", Payload: body(1000, ""),
			Before: []Frame{{Op: wsframe.OpText, More: true, Payload: []byte("fragment1")}},
			After:  []Frame{{Op: wsframe.OpContinuation, Payload: []byte("fragment2")}}, Expect: normalClose},
		// onOpen: a 256 KiB text, text "Hello World!", Close 1000, an empty
		// Ping, killAfter(1); suppressClose.
		{Name: "256 KiB, Close, ping", Autobahn: "7.1.6", Payload: body(1000, ""),
			Before: []Frame{text(strings.Repeat("BAsd7&jh23", 256<<10/10+1)[:256<<10]), text(hello)},
			After:  []Frame{{Op: wsframe.OpPing}},
			Expect: Expectation{OK: []Event{textEvent(hello)}, NonStrict: []Event{}, Codes: normalClose.Codes, RequireClean: true, Informational: true}},

		// 7.3.x, 7.5.1, 7.7.x, 7.9.x, 7.13.x: onOpen: the Close frame alone,
		// killAfter(1). 7.3.x and 7.5.1 set suppressClose; the others
		// expect no message, so finishWhenDone never closes a second time.
		{Name: "empty body", Autobahn: "7.3.1", Expect: normalClose},
		{Name: "1-byte body", Autobahn: "7.3.2", Payload: []byte("a"), Expect: protocolError}, // sendCloseFrame(reasonUtf8="a")
		{Name: "1000 alone", Autobahn: "7.3.3", Payload: body(1000, ""), Expect: normalClose},
		{Name: "1000 with reason", Autobahn: "7.3.4", Payload: body(1000, "bye"), Expect: normalClose},
		{Name: "1000 with 123-byte reason", Autobahn: "7.3.5", Payload: body(1000, strings.Repeat("r", reasons.MaxTextLen)), Expect: normalClose},
		{Name: "126-byte body", Autobahn: "7.3.6", Payload: body(1000, strings.Repeat("x", 124)), Expect: protocolError},

		// Autobahn's 7.5.1 reason: valid UTF-8, then a UTF-16 surrogate.
		{Name: "UTF-8: surrogate U+D800", Autobahn: "7.5.1", Payload: body(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"), Expect: badReason},
	}
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cases = append(cases, Case{Name: "valid code " + strconv.Itoa(code), Autobahn: "7.7." + strconv.Itoa(i+1),
			Payload: body(code, ""), Expect: validCode(reasons.Reason(code))})
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		cases = append(cases, Case{Name: "code " + strconv.Itoa(code), Autobahn: "7.9." + strconv.Itoa(i+1),
			Payload: body(code, ""), Expect: protocolError})
	}
	cases = append(cases,
		Case{Name: "code 5000", Autobahn: "7.13.1", Payload: body(5000, ""), Expect: undefined},
		Case{Name: "code 65535", Autobahn: "7.13.2", Payload: body(65535, ""), Expect: undefined},

		// Beyond Autobahn, graded as the Autobahn case each is most like.
		Case{Name: "1012 (IANA)", Payload: body(1012, ""), Expect: like("7.7.x", validCode(reasons.ServiceRestart))},
		Case{Name: "1013 (IANA)", Payload: body(1013, ""), Expect: like("7.7.x", validCode(reasons.TryAgainLater))},
		Case{Name: "1014 (IANA)", Payload: body(1014, ""), Expect: like("7.7.x", validCode(reasons.BadGateway))},
		Case{Name: "code 1015", Payload: body(1015, ""), Expect: like("7.9.x", protocolError)},
		Case{Name: "UTF-8: lone continuation byte", Payload: body(1000, "ok\x80"), Expect: like("7.5.1", badReason)},
		Case{Name: "UTF-8: overlong '/'", Payload: body(1000, "\xc0\xaf"), Expect: like("7.5.1", badReason)},
		Case{Name: "UTF-8: above U+10FFFF", Payload: body(1000, "\xf4\x90\x80\x80"), Expect: like("7.5.1", badReason)},
		Case{Name: "UTF-8: truncated sequence", Payload: body(1000, "ok\xe2\x82"), Expect: like("7.5.1", badReason)},
		Case{Name: "UTF-8: byte 0xff", Payload: body(1000, "\xff"), Expect: like("7.5.1", badReason)},
		Case{Name: "TCP closed after 1000", Payload: body(1000, ""), AfterClose: true, Expect: like("7.3.3", normalClose)},
	)
	return cases
}

func like(id string, e Expectation) Expectation {
	e.Like = id
	return e
}

// Frames returns the frames of c in the order they are sent: Before, the
// Close frame, After.
func (c Case) Frames() []Frame {
	frames := append([]Frame{}, c.Before...)
	frames = append(frames, Frame{Op: wsframe.OpClose, Payload: c.Payload})
	return append(frames, c.After...)
}

// Want is the Close frame package reasons answers c with: the echo of a
// valid code (an empty body for an empty one), or the code [reasons.Parse]
// names for a malformed body.
func (c Case) Want() Reply {
	r, _, _ := reasons.Parse(c.Payload)
	if r == reasons.NoStatus {
		return Close([]byte{})
	}
	return Close(binary.BigEndian.AppendUint16(nil, uint16(r)))
}

// CaseFor is a case for a Close frame body outside the list, such as the
// one a server sends on request, with the expectation of the Autobahn case
// it is most like: 7.3.1 for an empty body, 7.7.x for a valid code, 7.5.1
// for a reason that is not UTF-8, 7.9.x for anything else malformed.
func CaseFor(name string, payload []byte) Case {
	c := Case{Name: name, Payload: payload}
	r, _, err := reasons.Parse(payload)
	switch {
	case err == nil && len(payload) == 0:
		c.Expect = like("7.3.1", normalClose)
	case err == nil:
		c.Expect = like("7.7.x", validCode(r))
	case errors.Is(err, reasons.ErrInvalidUTF8):
		c.Expect = like("7.5.1", badReason)
	default:
		c.Expect = like("7.9.x", protocolError)
	}
	return c
}
