package probe

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/wsreasons/reasons"
)

// The bounds of the reconnect script's memory: a client that loops for
// hours keeps the last maxSteps of its steps, and the clients past
// maxClients share one entry.
const (
	maxSteps   = 1000
	maxClients = 256
)

// client is one client's steps through the script.
type client struct {
	steps   []step // the last maxSteps
	dropped int    // steps forgotten before steps[0]
}

// step is one scripted connection: when it arrived and when the server
// closed it.
type step struct {
	code            reasons.Reason
	arrived, closed time.Time
}

// clientKey names the client a scripted connection counts for: its
// client= query parameter when given, else the page's origin (if any) and
// the remote IP: a client that reconnects comes from a new port.
func clientKey(r *http.Request) string {
	if c := r.URL.Query().Get("client"); c != "" {
		return cut(c, 64)
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	if o := r.Header.Get("Origin"); o != "" {
		return cut(o, 100) + " " + ip
	}
	return ip
}

// scriptStep answers a new connection on / with the next step of who's
// script. The connection arrived at arrived; the server closes it now,
// after any after= wait.
func (h *Handler) scriptStep(c *Conn, e *ConnEvent, who string, arrived time.Time) {
	h.mu.Lock()
	cl := h.clients[who]
	if cl == nil {
		if len(h.order) >= maxClients {
			who = "(other clients)"
		}
		if cl = h.clients[who]; cl == nil {
			cl = &client{}
			h.clients[who] = cl
			h.order = append(h.order, who)
		}
	}
	i := cl.dropped + len(cl.steps)
	code := h.script[min(i, len(h.script)-1)]
	if len(cl.steps) == maxSteps {
		cl.steps, cl.dropped = cl.steps[1:], cl.dropped+1
	}
	cl.steps = append(cl.steps, step{code: code, arrived: arrived, closed: time.Now()})
	h.mu.Unlock()
	e.Note, e.Client = fmt.Sprintf("step %d: %d %v", i+1, uint16(code), code), who
	name := "step " + strconv.Itoa(i+1)
	switch code {
	case reasons.AbnormalClose:
		e.Sent, e.Got = "TCP cut, no Close frame (1006)", "n/a"
		c.Close()
	case reasons.NoStatus:
		h.closeWith(c, e, CaseFor(name, []byte{}))
	default:
		h.closeWith(c, e, CaseFor(name, binary.BigEndian.AppendUint16(nil, uint16(code))))
	}
}

// Reconnect is one row of the reconnect report: a step of a client's
// script, the code the server closed with, and when the client came back,
// judged against the code's advice; or, with Count above 1, that many
// steps in a row with the same code, verdict and rule.
type Reconnect struct {
	Client string         `json:"client"` // see Handler.Reconnects
	Step   int            `json:"step"`   // the row's first step, from 1
	Count  int            `json:"count"`  // the steps the row stands for
	Code   reasons.Reason `json:"code"`
	Advice reasons.Advice `json:"advice"`
	// BackAfter is how long after the server closed the client's next
	// connection arrived, for the row's first step; 0 when it has not come
	// back. Span is the time from the first step's close to the last's.
	// JSON writes both as text, such as "1.2s".
	BackAfter time.Duration `json:"-"`
	Span      time.Duration `json:"-"`
	Back      bool          `json:"back"`
	Verdict   Verdict       `json:"verdict"`
	Rule      string        `json:"rule,omitempty"`
}

// The rules a return is judged by.
const (
	// noBackoffReturns returns within noBackoffWindow after codes whose
	// advice is to reconnect with back-off are a client without back-off.
	noBackoffReturns = 3
	noBackoffWindow  = time.Second
	// loopReturns returns in a row after refusals (fix or denied) are a
	// loop.
	loopReturns = 4
	// loopPerSecond returns within a second, after any code, are a loop.
	loopPerSecond = 5
)

// Reconnects judges each step of each client's script so far, clients in
// the order they came (a client is its client= query parameter, else its
// page's origin and its IP), steps in order: when the client came back
// after it, against the advice of its code ([reasons.Reason.Advice]). Each
// rule says whether the text it comes from has MUST or SHOULD; a return
// that breaks a SHOULD is wrong all the same, as that is what a reconnect
// check is for:
//
//   - after 1012, back within 5 s is wrong: the IANA registration asks for
//     a random 5 to 30 s (SHOULD);
//   - after 1013, back at all is wrong: the registration asks a client not
//     to return to the same server by itself (SHOULD);
//   - after codes advised fix or denied (1002, 1008, ...), a fourth return
//     in a row is wrong: a loop; fewer are tolerated;
//   - after codes advised reconnect (1001, 1006, ...), three returns within
//     one second are wrong: no back-off (RFC 6455 §7.2.3, SHOULD, which
//     speaks of abnormal closure; reasons advises the same for the others);
//   - after any code, more than five returns within one second are wrong:
//     a loop;
//   - after 1000, a return is tolerated: the advice is not to reconnect on
//     its own.
//
// A step the client has not come back from yet is ok where the advice is
// not to return, and tolerated where it is. Steps in a row with the same
// code, verdict and rule are one row with a Count.
func (h *Handler) Reconnects() []Reconnect {
	h.mu.Lock()
	type clientSteps struct {
		who     string
		steps   []step
		dropped int
	}
	var all []clientSteps
	for _, who := range h.order {
		cl := h.clients[who]
		all = append(all, clientSteps{who, append([]step(nil), cl.steps...), cl.dropped})
	}
	h.mu.Unlock()
	var rows []Reconnect
	for _, cl := range all {
		var last *Reconnect
		for i, s := range cl.steps {
			row := Reconnect{Client: cl.who, Step: cl.dropped + i + 1, Count: 1, Code: s.code, Advice: s.code.Advice()}
			if i+1 < len(cl.steps) {
				row.Back, row.BackAfter = true, cl.steps[i+1].arrived.Sub(s.closed)
			}
			row.Verdict, row.Rule = judgeReturn(cl.steps, i, row.Back, row.BackAfter)
			if last != nil && last.Code == row.Code && last.Verdict == row.Verdict && last.Rule == row.Rule {
				last.Count++
				last.Span = s.closed.Sub(cl.steps[i-last.Count+1].closed)
				continue
			}
			rows = append(rows, row)
			last = &rows[len(rows)-1]
		}
	}
	return rows
}

func judgeReturn(steps []step, i int, back bool, after time.Duration) (Verdict, string) {
	s := steps[i]
	advice := s.code.Advice()
	if !back {
		switch advice {
		case reasons.AdviceReconnect, reasons.AdviceReconnectLater:
			return Tolerated, "not back yet"
		}
		return OK, ""
	}
	arrival := steps[i+1].arrived
	within := 0 // returns within a second, this one included
	for k := i; k >= 0 && arrival.Sub(steps[k+1].arrived) < noBackoffWindow; k-- {
		within++
	}
	if within > loopPerSecond {
		return Wrong, fmt.Sprintf("a loop: more than %d returns within %v; RFC 6455 §7.2.3 asks for back-off (SHOULD), and no code asks for this", loopPerSecond, noBackoffWindow)
	}
	switch advice {
	case reasons.AdviceReconnectLater:
		if lo, hi := advice.Delay(); after < lo {
			return Wrong, fmt.Sprintf("back before %v: the IANA registration of 1012 asks for a random %v to %v first (SHOULD)", lo, lo, hi)
		}
	case reasons.AdviceElsewhere:
		return Wrong, "came back to the same server by itself: the IANA registration of 1013 asks it not to (SHOULD)"
	case reasons.AdviceFix, reasons.AdviceDenied:
		n := 0
		for k := i; k >= 0 && k+1 < len(steps); k-- {
			if a := steps[k].code.Advice(); a != reasons.AdviceFix && a != reasons.AdviceDenied {
				break
			}
			n++
		}
		if n >= loopReturns {
			return Wrong, fmt.Sprintf("a loop: %d or more returns in a row after codes advised fix or denied, which repeat the failure", loopReturns)
		}
		return Tolerated, fmt.Sprintf("came back after %d %v, advised %v", uint16(s.code), s.code, advice)
	case reasons.AdviceReconnect:
		n := 0
		for k := i; k >= 0 && arrival.Sub(steps[k+1].arrived) < noBackoffWindow; k-- {
			if steps[k].code.Advice() == reasons.AdviceReconnect {
				n++
			}
		}
		if n >= noBackoffReturns {
			return Wrong, fmt.Sprintf("no back-off: %d returns within %v after codes advised reconnect; RFC 6455 §7.2.3 asks for back-off after an abnormal closure (SHOULD), and reasons advises it after these", noBackoffReturns, noBackoffWindow)
		}
	case reasons.AdviceDone:
		return Tolerated, "came back after 1000 on its own; the advice is not to"
	case reasons.AdviceApplication:
	}
	return OK, ""
}

// MarshalJSON writes r with back_after and span as text ("5.2s"),
// back_after "" when the client has not come back.
func (r Reconnect) MarshalJSON() ([]byte, error) {
	type plain Reconnect
	after := ""
	if r.Back {
		after = r.BackAfter.Round(time.Millisecond).String()
	}
	return json.Marshal(struct {
		plain
		BackAfter string `json:"back_after"`
		Span      string `json:"span"`
	}{plain(r), after, r.Span.Round(time.Millisecond).String()})
}
