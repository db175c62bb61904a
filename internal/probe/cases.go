// Package probe checks how a WebSocket endpoint answers Close frames: the
// frames to send ([Cases]), the rules that judge each answer ([Case.Judge]),
// a raw client that sends them exactly as given ([Dial]), and [Run], which
// sends every case to a server. wsreason probe is Run with a command line;
// the interop tests run it against every library, and send the same frames
// to a browser.
//
// Each answer gets one of three verdicts. RFC 6455 binds the receiver of a
// Close frame to little: it must answer with a Close frame (§5.5.1), must
// fail the connection on a reason that is not UTF-8 (§8.1), and may not treat
// a code the RFC or the IANA registry defines as an error. Breaking one of
// those is [Wrong]. Most other rules (the 125-byte limit, which codes may be
// sent) bind the sender, and the RFC leaves the receiver's answer open;
// package reasons answers them as Autobahn TestSuite expects, and that answer
// is [OK]. Any other answer that breaks no requirement is [Tolerated].
package probe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wsreasons/reasons"
)

// Case is one Close frame body to send.
type Case struct {
	Name    string
	Payload []byte
	// AfterClose asks whether the server, once it has answered, closes
	// the TCP connection, as RFC 6455 §7.1.1 asks it to.
	AfterClose bool
}

func body(code int, text string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), text...)
}

// Cases returns the Close frame bodies every endpoint is tested with, in a
// fixed order. Most of them are malformed.
func Cases() []Case {
	return []Case{
		{Name: "empty body"},
		{Name: "1000 alone", Payload: body(1000, "")},
		{Name: "1000 with reason", Payload: body(1000, "bye")},
		{Name: "1000 with 123-byte reason", Payload: body(1000, strings.Repeat("r", reasons.MaxTextLen))},
		{Name: "1012 (IANA)", Payload: body(1012, "")},
		{Name: "1013 (IANA)", Payload: body(1013, "")},
		{Name: "1014 (IANA)", Payload: body(1014, "")},
		{Name: "3000 (registered)", Payload: body(3000, "")},
		{Name: "4999 (private)", Payload: body(4999, "")},
		{Name: "1-byte body", Payload: []byte{0x03}},
		{Name: "126-byte body", Payload: body(1000, strings.Repeat("x", 124))},
		{Name: "code 0", Payload: body(0, "")},
		{Name: "code 999", Payload: body(999, "")},
		{Name: "code 1004", Payload: body(1004, "")},
		{Name: "code 1005", Payload: body(1005, "")},
		{Name: "code 1006", Payload: body(1006, "")},
		{Name: "code 1015", Payload: body(1015, "")},
		{Name: "code 1016", Payload: body(1016, "")},
		{Name: "code 2999", Payload: body(2999, "")},
		{Name: "code 5000", Payload: body(5000, "")},
		{Name: "code 65535", Payload: body(65535, "")},
		{Name: "UTF-8: lone continuation byte", Payload: body(1000, "ok\x80")},
		{Name: "UTF-8: overlong '/'", Payload: body(1000, "\xc0\xaf")},
		{Name: "UTF-8: surrogate U+D800", Payload: body(1000, "\xed\xa0\x80")},
		{Name: "UTF-8: above U+10FFFF", Payload: body(1000, "\xf4\x90\x80\x80")},
		{Name: "UTF-8: truncated sequence", Payload: body(1000, "ok\xe2\x82")},
		{Name: "UTF-8: byte 0xff", Payload: body(1000, "\xff")},
		{Name: "TCP closed after 1000", Payload: body(1000, ""), AfterClose: true},
	}
}

// Reply is what an endpoint did after it received a Close frame.
type Reply struct {
	Dropped  bool   // the connection ended with no Close frame
	TimedOut bool   // nothing came back within the timeout
	Body     []byte // the body of the Close frame it sent, when it sent one
	// KeptOpen says that, for a Case with AfterClose, the server kept the
	// TCP connection open after its Close frame until the timeout.
	KeptOpen bool
}

// Close is the Reply of a Close frame with body.
func Close(body []byte) Reply { return Reply{Body: body} }

// Dropped is the Reply of a connection that ended without a Close frame.
var Dropped = Reply{Dropped: true}

// TimedOut is the Reply of a server that neither answered nor ended the
// connection within the timeout.
var TimedOut = Reply{TimedOut: true}

// String names r as the interop tables do: the code of the Close frame,
// "empty" for one without a body, "dropped" for no Close frame at all,
// "timed out" for no answer.
func (r Reply) String() string {
	var s string
	switch {
	case r.TimedOut:
		return "timed out"
	case r.Dropped:
		return "dropped"
	case len(r.Body) == 0:
		s = "empty"
	case len(r.Body) == 1:
		s = fmt.Sprintf("1-byte body %#x", r.Body[0])
	default:
		s = strconv.Itoa(int(r.code()))
	}
	if r.KeptOpen {
		s += ", TCP kept open"
	}
	return s
}

// Text is the reason text of the Close frame r, if it has one.
func (r Reply) Text() string {
	if r.Dropped || r.TimedOut || len(r.Body) < 2 {
		return ""
	}
	return string(r.Body[2:])
}

// code is the code of a Close frame body of two bytes or more.
func (r Reply) code() reasons.Reason {
	return reasons.Reason(binary.BigEndian.Uint16(r.Body))
}

// Verdict judges a Reply.
type Verdict string

// The three verdicts.
const (
	OK        Verdict = "ok"        // the answer package reasons gives
	Tolerated Verdict = "tolerated" // another answer that breaks no requirement
	Wrong     Verdict = "wrong"     // breaks a requirement of RFC 6455 or the IANA registry
)

// Want is the Reply package reasons gives to c: the echo of a valid code
// (an empty body for an empty one), or the code [reasons.Parse] names for a
// malformed body.
func (c Case) Want() Reply {
	r, _, _ := reasons.Parse(c.Payload)
	if r == reasons.NoStatus {
		return Close([]byte{})
	}
	return Close(binary.BigEndian.AppendUint16(nil, uint16(r)))
}

// Requires says in a few words what RFC 6455 or the IANA registry requires
// of the endpoint that receives c, and where.
func (c Case) Requires() string {
	r, _, err := reasons.Parse(c.Payload)
	n := len(c.Payload)
	switch {
	case c.AfterClose:
		return "a Close, then the server closes TCP (§7.1.1, should)"
	case err == nil && n == 0:
		return "a Close (§5.5.1)"
	case err == nil && r.Range() == reasons.RangeProtocol:
		return "a Close, not a protocol error (§5.5.1, §7.4.1, IANA)"
	case err == nil:
		return "a Close, not a protocol error (§5.5.1, §7.4.2)"
	case errors.Is(err, reasons.ErrInvalidUTF8):
		return "fail the connection, not echo (§8.1)"
	case n == 1:
		return "nothing: §5.5.1 binds the sender"
	case n > reasons.MaxPayloadLen:
		return "nothing: §5.5 binds the sender"
	}
	switch code := reasons.Reason(binary.BigEndian.Uint16(c.Payload)); {
	case code.Reserved():
		return "nothing: §7.4.1 binds the sender"
	case code.Range() == reasons.RangeOutside:
		return "nothing: the RFC is silent"
	}
	return "nothing: §7.4.2 binds the sender"
}

// Tolerates lists, for the table, the other answers to c that Autobahn
// TestSuite accepts besides [Case.Want].
func (c Case) Tolerates() string {
	_, _, err := reasons.Parse(c.Payload)
	switch {
	case c.AfterClose:
		return "TCP kept open, 1000, empty"
	case err == nil && len(c.Payload) == 0:
		return "any Close"
	case err == nil:
		return "1000, empty"
	case errors.Is(err, reasons.ErrInvalidUTF8):
		return "1002, dropped"
	}
	return "dropped"
}

// Judge gives the verdict on got as the answer to c. A server that
// neither answers nor ends the connection within the timeout is wrong; one
// that keeps the TCP connection open after the closing handshake is at best
// tolerated, since §7.1.1 only says it should close it.
func (c Case) Judge(got Reply) Verdict {
	if got.TimedOut {
		return Wrong
	}
	v := c.judgeClose(got)
	if got.KeptOpen && v == OK {
		v = Tolerated
	}
	return v
}

// judgeClose judges the Close frame, or its absence, alone.
func (c Case) judgeClose(got Reply) Verdict {
	got.KeptOpen = false
	if got.String() == c.Want().String() {
		return OK
	}
	_, _, err := reasons.Parse(c.Payload)
	switch {
	case err == nil && got.Dropped:
		return Wrong // no Close in reply (§5.5.1)
	case err == nil && len(c.Payload) > 0 && len(got.Body) >= 2 && got.code() == reasons.ProtocolError:
		return Wrong // a valid code taken for a protocol error
	case errors.Is(err, reasons.ErrInvalidUTF8) && !got.Dropped &&
		(len(got.Body) < 2 || got.code() == reasons.Normal || bytes.Equal(got.Body[:2], c.Payload[:2])):
		return Wrong // accepted instead of failing (§8.1)
	}
	return Tolerated
}
