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
// the log. It follows the code's [reasons.Advice]. The switch names every
// constant of [reasons.Advice] and has no default case, so the exhaustive
// analyzer, which make test runs, fails the build when the reasons package
// gains a piece of advice this handler has not considered.
func Decide(err error) (a Action, why string) {
	r, text, ok := reasons.FromError(err)
	if !ok {
		// No close: a timeout, a cancelled context, or an error the
		// library made up, such as a refused close code.
		return GiveUp, "no close: " + err.Error()
	}
	switch advice := r.Advice(); advice {
	case reasons.AdviceDone:
		return Done, r.String()
	case reasons.AdviceReconnect:
		return Reconnect, r.String()
	case reasons.AdviceReconnectLater:
		lo, hi := advice.Delay()
		return Reconnect, fmt.Sprintf("%v: first wait a random %v to %v", r, lo, hi)
	case reasons.AdviceElsewhere:
		// The IANA registration of 1013 asks clients not to reconnect to
		// the same server by themselves.
		return Elsewhere, r.String()
	case reasons.AdviceFix, reasons.AdviceDenied:
		return GiveUp, fmt.Sprintf("%v %q", r, text)
	case reasons.AdviceApplication:
		// 4000-4999 and most of 3000-3999 belong to the application, which
		// would decide here; this one treats them as final.
		return GiveUp, fmt.Sprintf("application code %d %q", uint16(r), text)
	}
	return GiveUp, fmt.Sprintf("no advice for %v", r)
}
