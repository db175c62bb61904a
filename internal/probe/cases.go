// Package probe holds the Close frames that test how a WebSocket endpoint
// answers a Close, and the rules that judge each answer. The interop tests
// send these frames to every library and browser they cover, and mark the
// answers in their tables with these verdicts.
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
}

func body(code int, text string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), text...)
}

// Cases returns the Close frame bodies every endpoint is tested with, in a
// fixed order. Most of them are malformed.
func Cases() []Case {
	return []Case{
		{"empty body", nil},
		{"1000 with reason", body(1000, "bye")},
		{"1014 (IANA)", body(1014, "")},
		{"4999 (private)", body(4999, "")},
		{"1-byte body", []byte{0x03}},
		{"126-byte body", body(1000, strings.Repeat("x", 124))},
		{"code 0", body(0, "")},
		{"code 999", body(999, "")},
		{"code 1004", body(1004, "")},
		{"code 1005", body(1005, "")},
		{"code 1006", body(1006, "")},
		{"code 1015", body(1015, "")},
		{"code 1016", body(1016, "")},
		{"code 2999", body(2999, "")},
		{"code 5000", body(5000, "")},
		{"code 65535", body(65535, "")},
		{"UTF-8: lone continuation byte", body(1000, "ok\x80")},
		{"UTF-8: overlong '/'", body(1000, "\xc0\xaf")},
		{"UTF-8: surrogate U+D800", body(1000, "\xed\xa0\x80")},
		{"UTF-8: above U+10FFFF", body(1000, "\xf4\x90\x80\x80")},
		{"UTF-8: truncated sequence", body(1000, "ok\xe2\x82")},
		{"UTF-8: byte 0xff", body(1000, "\xff")},
	}
}

// Reply is what an endpoint did after it received a Close frame.
type Reply struct {
	Dropped bool   // the connection ended with no Close frame
	Body    []byte // the body of the Close frame it sent, when not Dropped
}

// Close is the Reply of a Close frame with body.
func Close(body []byte) Reply { return Reply{Body: body} }

// Dropped is the Reply of a connection that ended without a Close frame.
var Dropped = Reply{Dropped: true}

// String names r as the interop tables do: the code of the Close frame,
// "empty" for one without a body, "dropped" for no Close frame at all.
func (r Reply) String() string {
	switch {
	case r.Dropped:
		return "dropped"
	case len(r.Body) == 0:
		return "empty"
	case len(r.Body) == 1:
		return fmt.Sprintf("1-byte body %#x", r.Body[0])
	}
	return strconv.Itoa(int(r.code()))
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
	case err == nil && len(c.Payload) == 0:
		return "any Close"
	case err == nil:
		return "1000, empty"
	case errors.Is(err, reasons.ErrInvalidUTF8):
		return "1002, dropped"
	}
	return "dropped"
}

// Judge gives the verdict on got as the answer to c.
func (c Case) Judge(got Reply) Verdict {
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
