// Package closehandler shows the close handler of a WebSocket client that
// decides, from the error its library's read returned, whether it is done,
// should reconnect with back-off, should try another server, or should give
// up. The same handler serves gorilla/websocket, coder/websocket,
// gobwas/ws, lxzan/gws and fasthttp/websocket: reasons.FromError reads the
// error of each.
package closehandler

import (
	"fmt"

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

// Decide reads how the connection ended from err, whatever the library's
// read (or gws's OnClose) returned, and says what to do next; why is for
// the log. The switch names every constant of [reasons.Reason] and has no
// default case, so the exhaustive analyzer, which make test runs, fails the
// build when the reasons package gains a constant this handler has not
// considered.
func Decide(err error) (a Action, why string) {
	switch r, text, _ := reasons.FromError(err); r {
	case reasons.Normal, reasons.NoStatus:
		return Done, r.String()
	case reasons.GoingAway, reasons.ServiceRestart, reasons.AbnormalClose,
		reasons.BadGateway, reasons.UnexpectedCondition, reasons.Timeout:
		return Reconnect, r.String()
	case reasons.TryAgainLater:
		// The IANA registry's source for 1013 asks clients not to reconnect
		// to the same server by themselves (see the doc of reasons.Reason).
		return Elsewhere, r.String()
	case reasons.ProtocolError, reasons.UnacceptableData, reasons.InconsistentData,
		reasons.PolicyViolation, reasons.MessageTooBig, reasons.ExtensionNotPresent,
		reasons.Unauthorized, reasons.Forbidden, reasons.Reserved,
		reasons.TLSHandshakeFailure:
		return GiveUp, fmt.Sprintf("%v %q", r, text)
	case 0:
		// No close: a timeout, a cancelled context, or an error the
		// library made up, such as a refused close code.
		return GiveUp, "no close: " + err.Error()
	}
	// A code without a name. 4000-4999 belong to the application, which
	// would decide here; this one treats them, and anything else, as final.
	return GiveUp, "a code without a name: " + err.Error()
}
