package probe

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/wsreasons/reasons"
)

// Verdict is the judgment of what an endpoint did: of a Reply, by RFC
// 6455 and the IANA registry; of a reconnecting client's return
// ([Handler.Reconnects]), by the text each rule cites. A return that breaks
// a SHOULD of that text is Wrong as much as one that breaks a MUST: a
// reconnect check exists to catch exactly those, and each rule says which
// it is.
type Verdict string

// The three verdicts.
const (
	OK        Verdict = "ok"        // the answer package reasons gives
	Tolerated Verdict = "tolerated" // another answer that breaks no requirement
	Wrong     Verdict = "wrong"     // breaks a requirement of RFC 6455 or the IANA registry
)

// Judgment is a verdict with the rule behind it: for Wrong, the rule the
// reply breaks; for Tolerated, what it does instead of the answer of package
// reasons; "" for OK.
type Judgment struct {
	Verdict Verdict
	Rule    string
}

// Judge gives RFC 6455's verdict on got as the answer to c. The reply is a
// Close frame sent by the server, so every rule on sending one applies to it
// (see the package doc); then the answer itself is judged. A server that
// neither answers nor ends the connection within the timeout is wrong; one
// that keeps TCP open after the closing handshake is at best tolerated on
// the row that asks (AfterClose), since §7.1.1 only says it should close it.
func (c Case) Judge(got Reply) Judgment {
	switch {
	case got.Broken != "":
		return Judgment{Wrong, got.Broken}
	case got.TimedOut:
		return Judgment{Wrong, "no Close frame and no end of the connection within the timeout (§5.5.1)"}
	case got.FrameRule != "":
		return Judgment{Wrong, got.FrameRule}
	}
	if rule := sendRule(got); rule != "" {
		return Judgment{Wrong, rule}
	}
	if got.EndedFirst {
		return Judgment{Tolerated, fmt.Sprintf("ended the connection (%s) before the probe sent its Close", got.closeString())}
	}
	j := c.judgeAnswer(got)
	if c.AfterClose && got.KeptOpen && j.Verdict == OK {
		j = Judgment{Tolerated, "kept TCP open after the closing handshake: the server should close it (§7.1.1)"}
	}
	return j
}

// JudgeSent judges a Close frame an endpoint sent on its own, to start a
// close: by the rules on sending one alone. No Close within the timeout is
// judged elsewhere; here it is tolerated, as the peer may just be idle.
func JudgeSent(got Reply) Judgment {
	switch {
	case got.Broken != "":
		return Judgment{Wrong, got.Broken}
	case got.FrameRule != "":
		return Judgment{Wrong, got.FrameRule}
	case !got.closed():
		return Judgment{Tolerated, "no Close frame came"}
	}
	if rule := sendRule(got); rule != "" {
		return Judgment{Wrong, rule}
	}
	return Judgment{OK, ""}
}

// sendRule names the rule on sending a Close frame that the reply got
// breaks, or "" when it breaks none or is not a Close frame.
func sendRule(got Reply) string {
	if !got.closed() {
		return ""
	}
	switch n := len(got.Body); {
	case got.maskBroken() && got.FromClient:
		return "the Close frame is not masked: a client must mask its frames (§5.3)"
	case got.maskBroken():
		return "the Close frame is masked: a server must not mask its frames (§5.1)"
	case got.RSV != 0:
		return fmt.Sprintf("the Close frame has RSV bits %#x with no extension negotiated (§5.2)", got.RSV)
	case got.FINClear:
		return "the Close frame has FIN clear: a control frame must not be fragmented (§5.5)"
	case n > reasons.MaxPayloadLen:
		return fmt.Sprintf("a Close body of %d bytes: a control frame carries at most 125 (§5.5)", n)
	case n == 1:
		return "a Close body of 1 byte: it is empty or starts with a 2-byte code (§5.5.1)"
	case n == 0:
		return ""
	}
	if rule := codeRule(got.code()); rule != "" {
		return rule
	}
	if !utf8.Valid(got.Body[2:]) {
		return "the Close frame's reason is not UTF-8 (§5.5.1, §8.1)"
	}
	return ""
}

// codeRule names the rule that forbids sending code in a Close frame, or
// "" for a code that [reasons.Reason.Valid] takes. §5.5.1 asks that the
// code of a Close frame be one that §7.4 defines; §7.4.1 defines and
// allows 1000-1003 and 1007-1011, the IANA registry adds 1012-1014, and
// §7.4.2 gives 3000-4999 to libraries and applications. Every other code is
// one that no section defines, and 1005, 1006 and 1015 are forbidden
// outright.
func codeRule(code reasons.Reason) string {
	const defined = "a Close frame's code must be one §7.4 defines (§5.5.1)"
	switch {
	case code.Valid():
		return ""
	case code == reasons.NoStatus, code == reasons.AbnormalClose, code == reasons.TLSHandshakeFailure:
		return fmt.Sprintf("sent code %d, which must not be set in a Close frame (§7.4.1)", code)
	case code == reasons.Reserved:
		return fmt.Sprintf("sent code %d, which §7.4.1 reserves and does not define: %s", code, defined)
	}
	switch code.Range() {
	case reasons.RangeUnused:
		return fmt.Sprintf("sent code %d: 0-999 are not used as close codes (§7.4.2); %s", code, defined)
	case reasons.RangeProtocol:
		return fmt.Sprintf("sent code %d: 1016-2999 are kept for the protocol and neither RFC 6455 nor the IANA registry defines it (§7.4.2); %s", code, defined)
	}
	return fmt.Sprintf("sent code %d: codes from 5000 up are not close codes (§7.4.2); %s", code, defined)
}

// judgeAnswer judges what the server answered, once its Close frame, if
// any, breaks no rule of its own.
func (c Case) judgeAnswer(got Reply) Judgment {
	if withTCPClosed(got).closeString() == c.Want().closeString() {
		return Judgment{OK, ""}
	}
	_, _, err := reasons.Parse(c.Payload)
	switch {
	case err == nil && got.Dropped:
		return Judgment{Wrong, "no Close frame in reply: a Close must be answered with a Close (§5.5.1)"}
	case err == nil && len(c.Payload) == 0 && len(got.Body) >= 2 && got.code() == reasons.ProtocolError:
		// An empty body is a valid Close frame (§5.5.1): 1002 calls it an
		// error. Autobahn's 7.3.1 grades the same answer WRONG CODE.
		return Judgment{Wrong, "a valid empty Close taken for a protocol error (§5.5.1)"}
	case err == nil && len(got.Body) >= 2 && got.code() == reasons.ProtocolError:
		return Judgment{Wrong, "a valid code taken for a protocol error (§7.4, IANA registry)"}
	case errors.Is(err, reasons.ErrInvalidUTF8) && len(got.Body) >= 2 &&
		(got.code() == reasons.Normal || bytes.Equal(got.Body[:2], c.Payload[:2])):
		// An empty Close is not judged accepted: §7.1.7 lets an endpoint
		// that fails the connection send a Close frame first, and one
		// without a code says nothing either way (Autobahn's 7.5.1 takes
		// it). Echoing the code, or 1000, is the closing handshake of an
		// accepted frame.
		return Judgment{Wrong, "a reason that is not UTF-8 was accepted: the connection must fail (§8.1)"}
	}
	return Judgment{Tolerated, fmt.Sprintf("answered %s where package reasons answers %s; no rule forbids it", got.closeString(), c.Want())}
}

func withTCPClosed(r Reply) Reply {
	r.KeptOpen = false
	return r
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
	// A code the sender may not use binds the sender; the answer is bound
	// only in that it is a Close frame too, which may not carry it either.
	if code := reasons.Reason(uint16(c.Payload[0])<<8 | uint16(c.Payload[1])); code.Reserved() {
		return "not the echo: §7.4.1 binds the sender, and so the reply"
	}
	return "not the echo: a Close frame's code is one §7.4 defines (§5.5.1, §7.4.2)"
}
