package probe

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/wsframe"
)

// Reply is what an endpoint did after it received a case's frames.
type Reply struct {
	Dropped  bool   // the connection ended with no Close frame
	TimedOut bool   // no Close frame and no end within the timeout
	Body     []byte // the body of the Close frame it sent, when it sent one
	// Broken says why the probe stopped reading: a frame it could not
	// read on, such as a 64-bit length with its top bit set (§5.2).
	Broken string

	// FromClient says the reply came from a client, to a server: its
	// frames must be masked (§5.3), where a server's must not (§5.1).
	FromClient bool

	// The header of the Close frame.
	Masked   bool // masked: wrong from a server (§5.1), required from a client (§5.3)
	RSV      byte // RSV bits, with no extension negotiated (§5.2)
	FINClear bool // a control frame must not be fragmented (§5.5)

	// FrameRule is the first rule a frame before the Close frame broke in
	// its header (mask, RSV bits, a fragmented or long control frame).
	FrameRule string

	// Events are the messages, pings and pongs that came before the Close
	// frame, the first [MaxEvents] of them; Frames counts all the frames
	// that came before it.
	Events []Event
	Frames int

	// KeptOpen says that the server kept the TCP connection open after its
	// Close frame: for the case that asks (AfterClose), until the timeout;
	// for the others, past KillAfter, when Autobahn's client fails the
	// connection and calls the close unclean.
	KeptOpen bool

	// EndedFirst says the endpoint ended the connection, with a Close
	// frame or without, before the probe sent its own Close (7.1.1, which
	// waits for an echo first): Autobahn expects to start the close itself.
	EndedFirst bool
	// AfterKill says the Close frame came after KillAfter, when Autobahn's
	// client had already failed the connection: the close is unclean.
	AfterKill bool
	// LateClose says the events the probe waited for before its Close
	// (7.1.1's echo) had not come by KillAfter, when Autobahn's client
	// fails the connection; the probe sent its Close then anyway.
	LateClose bool
}

// MaxEvents bounds the events a Reply keeps.
const MaxEvents = 8

// Event is one message, ping or pong, as Autobahn's grader records them.
type Event struct {
	Op   wsframe.Opcode // OpText or OpBinary for a message, else OpPing or OpPong
	Len  int            // the whole payload's length
	Data string         // its first bytes, at most 125
}

func textEvent(s string) Event { return Event{Op: wsframe.OpText, Len: len(s), Data: s} }

func (e Event) String() string {
	names := map[wsframe.Opcode]string{wsframe.OpText: "text", wsframe.OpBinary: "binary", wsframe.OpPing: "ping", wsframe.OpPong: "pong",
		wsframe.OpContinuation: "continuation"} // a continuation with no first fragment
	return fmt.Sprintf("%s(%d)", names[e.Op], e.Len)
}

// Close is the Reply of a Close frame with body.
func Close(body []byte) Reply { return Reply{Body: body} }

// Dropped is the Reply of a connection that ended without a Close frame.
var Dropped = Reply{Dropped: true}

// TimedOut is the Reply of a server that neither answered nor ended the
// connection within the timeout.
var TimedOut = Reply{TimedOut: true}

// closed reports whether r holds a Close frame.
func (r Reply) closed() bool { return !r.Dropped && !r.TimedOut && r.Broken == "" }

// String names r as the interop tables do: the events before the Close
// frame, if any, then "then" and the code of the Close frame, "empty" for
// one without a body, "dropped" for no Close frame at all, "timed out" for
// no answer; then what breaks a rule in the frame, and whether TCP stayed
// open.
func (r Reply) String() string {
	var events []string
	for _, e := range r.Events {
		events = append(events, e.String())
	}
	if n := r.Frames - len(r.Events); n > 0 && len(r.Events) == MaxEvents {
		events = append(events, fmt.Sprintf("… %d frames in all", r.Frames))
	}
	s := r.closeString()
	if len(events) > 0 {
		s = strings.Join(events, " ") + " then " + s
	}
	return s
}

// closeString is String without the events.
func (r Reply) closeString() string {
	var s string
	switch {
	case r.Broken != "":
		return "bad frame: " + r.Broken
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
	if len(r.Body) > reasons.MaxPayloadLen {
		s += fmt.Sprintf(", %d-byte body", len(r.Body))
	}
	switch {
	case r.maskBroken() && r.FromClient:
		s += ", unmasked"
	case r.maskBroken():
		s += ", masked"
	}
	if r.RSV != 0 {
		s += fmt.Sprintf(", RSV bits %#x", r.RSV)
	}
	if r.FINClear {
		s += ", FIN clear"
	}
	if r.KeptOpen {
		s += ", TCP kept open"
	}
	return s
}

// Text is the reason text of the Close frame r, if it has one.
func (r Reply) Text() string {
	if !r.closed() || len(r.Body) < 2 {
		return ""
	}
	return string(r.Body[2:])
}

// code is the code of a Close frame body of two bytes or more.
func (r Reply) code() reasons.Reason {
	return reasons.Reason(binary.BigEndian.Uint16(r.Body))
}

// maskBroken reports whether the Close frame's mask breaks its sender's
// rule.
func (r Reply) maskBroken() bool { return r.Masked != r.FromClient }

// headerRule names the rule a frame header breaks, or "": from a server
// when fromClient is false, else from a client. The probe and the server
// negotiate no extension, so any RSV bit breaks §5.2.
func headerRule(h wsframe.Header, fromClient bool) string {
	switch {
	case h.Masked && !fromClient:
		return "a server must not mask its frames (§5.1)"
	case !h.Masked && fromClient:
		return "a client must mask its frames (§5.3)"
	case h.Rsv != 0:
		return "RSV bits set with no extension negotiated (§5.2)"
	case h.Opcode.Control() && !h.Fin:
		return "a control frame must not be fragmented (§5.5)"
	case h.Opcode.Control() && h.Length > reasons.MaxPayloadLen:
		return "a control frame carries at most 125 bytes (§5.5)"
	}
	return ""
}
