// Package closehandler shows the close handler of a WebSocket client that
// decides from a [reasons.Reason] alone whether it is done, should reconnect
// with back-off, should try another server, or should give up, on
// gorilla/websocket and on coder/websocket.
package closehandler

import (
	"context"
	"errors"

	coderws "github.com/coder/websocket"
	gorillaws "github.com/gorilla/websocket"

	"github.com/wsreasons/reasons"
)

// Action is what a client does once its connection has closed.
type Action int

const (
	Done      Action = iota // the session is over; do not reconnect
	Reconnect               // reconnect, waiting longer after each try
	Elsewhere               // the server sheds load: try another address, or wait for the user
	GiveUp                  // reconnecting would fail the same way; report the error
)

func (a Action) String() string {
	switch a {
	case Done:
		return "done"
	case Reconnect:
		return "reconnect with back-off"
	case Elsewhere:
		return "try another server"
	case GiveUp:
		return "give up"
	}
	return "unknown action"
}

// Decide maps a close code to an Action. The switch names every constant of
// [reasons.Reason] and has no default case, so the exhaustive analyzer,
// which make test runs, fails the build when the reasons package gains a
// constant this handler has not considered.
func Decide(r reasons.Reason) Action {
	switch r {
	case reasons.Normal, reasons.NoStatus:
		return Done
	case reasons.GoingAway, reasons.ServiceRestart, reasons.AbnormalClose,
		reasons.BadGateway, reasons.UnexpectedCondition, reasons.Timeout:
		return Reconnect
	case reasons.TryAgainLater:
		// The IANA registry's source for 1013 asks clients not to reconnect
		// to the same server by themselves (see the doc of reasons.Reason).
		return Elsewhere
	case reasons.ProtocolError, reasons.UnacceptableData, reasons.InconsistentData,
		reasons.PolicyViolation, reasons.MessageTooBig, reasons.ExtensionNotPresent,
		reasons.Unauthorized, reasons.Forbidden, reasons.Reserved,
		reasons.TLSHandshakeFailure:
		return GiveUp
	}
	// A code without a name. 4000-4999 belong to the application, which
	// would decide here; this one treats them, and anything else, as final.
	return GiveUp
}

// Gorilla reads from a gorilla/websocket connection until it closes and
// returns the close code and the Action for it.
func Gorilla(c *gorillaws.Conn) (reasons.Reason, Action) {
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		r := reasons.AbnormalClose // no Close frame we could use
		var ce *gorillaws.CloseError
		if errors.As(err, &ce) {
			if got, gerr := reasons.Get(ce.Code); gerr == nil {
				r = got
			}
		}
		return r, Decide(r)
	}
}

// Coder reads from a coder/websocket connection until it closes and returns
// the close code and the Action for it.
func Coder(ctx context.Context, c *coderws.Conn) (reasons.Reason, Action) {
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		r, gerr := reasons.Get(int(coderws.CloseStatus(err)))
		if gerr != nil { // CloseStatus is -1 when no Close frame arrived
			r = reasons.AbnormalClose
		}
		return r, Decide(r)
	}
}
