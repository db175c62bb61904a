package probe

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/wsreasons/reasons"
)

// scriptStep answers a new connection on / with the script's next step.
// The connection arrived at arrived; the server closes it now, after any
// after= wait.
func (h *Handler) scriptStep(c *Conn, e *ConnEvent, arrived time.Time) {
	h.mu.Lock()
	i := len(h.steps)
	code := h.script[min(i, len(h.script)-1)]
	h.steps = append(h.steps, step{code: code, arrived: arrived, closed: time.Now()})
	h.mu.Unlock()
	e.Note = fmt.Sprintf("step %d: %d %v", i+1, uint16(code), code)
	switch code {
	case reasons.AbnormalClose:
		e.Sent, e.Got = "TCP cut, no Close frame (1006)", "n/a"
		c.Close()
	case reasons.NoStatus:
		h.closeWith(c, e, CaseFor("step "+strconv.Itoa(i+1), []byte{}))
	default:
		h.closeWith(c, e, CaseFor("step "+strconv.Itoa(i+1), binary.BigEndian.AppendUint16(nil, uint16(code))))
	}
}

// Reconnect is one step of a script: the code the server closed with, and
// when the client came back, judged against the code's advice.
type Reconnect struct {
	Step   int            `json:"step"` // from 1
	Code   reasons.Reason `json:"code"`
	Advice reasons.Advice `json:"advice"`
	// BackAfter is how long after the server closed the client's next
	// connection arrived; 0 when it has not come back. JSON writes it as
	// text, such as "1.2s".
	BackAfter time.Duration `json:"-"`
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
)

// Reconnects judges each step of the script so far: when the client came
// back after it, against the advice of its code ([reasons.Reason.Advice]):
//
//   - after 1012, back within 5 s is wrong: the IANA registration asks for a
//     random 5 to 30 s;
//   - after 1013, back at all is wrong: the registration asks a client not
//     to return to the same server by itself;
//   - after codes advised fix or denied (1002, 1008, ...), a fourth return
//     in a row is wrong: a loop; fewer are tolerated;
//   - after codes advised reconnect (1001, 1006, ...), three returns within
//     one second are wrong: no back-off (RFC 6455 §7.2.3 asks for one);
//   - after 1000, a return is tolerated: the advice is not to reconnect on
//     its own.
//
// A step the client has not come back from yet is ok where the advice is
// not to return, and tolerated where it is.
func (h *Handler) Reconnects() []Reconnect {
	h.mu.Lock()
	steps := append([]step(nil), h.steps...)
	h.mu.Unlock()
	var rows []Reconnect
	for i, s := range steps {
		advice := s.code.Advice()
		row := Reconnect{Step: i + 1, Code: s.code, Advice: advice}
		if i+1 < len(steps) {
			row.Back, row.BackAfter = true, steps[i+1].arrived.Sub(s.closed)
		}
		row.Verdict, row.Rule = judgeReturn(steps, i, row.Back, row.BackAfter)
		rows = append(rows, row)
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
	switch advice {
	case reasons.AdviceReconnectLater:
		if lo, hi := advice.Delay(); after < lo {
			return Wrong, fmt.Sprintf("back after %v: the IANA registration of 1012 asks for a random %v to %v first", after.Round(time.Millisecond), lo, hi)
		}
	case reasons.AdviceElsewhere:
		return Wrong, "came back to the same server by itself: the IANA registration of 1013 asks it not to"
	case reasons.AdviceFix, reasons.AdviceDenied:
		n := 0
		for k := i; k >= 0 && k+1 < len(steps); k-- {
			if a := steps[k].code.Advice(); a != reasons.AdviceFix && a != reasons.AdviceDenied {
				break
			}
			n++
		}
		if n >= loopReturns {
			return Wrong, fmt.Sprintf("%d returns in a row after codes advised fix or denied: a loop", n)
		}
		return Tolerated, fmt.Sprintf("came back after %d %v, advised %v (%d in a row)", uint16(s.code), s.code, advice, n)
	case reasons.AdviceReconnect:
		arrival := steps[i+1].arrived
		n := 0
		for k := i; k >= 0 && arrival.Sub(steps[k+1].arrived) < noBackoffWindow; k-- {
			if steps[k].code.Advice() == reasons.AdviceReconnect {
				n++
			}
		}
		if n >= noBackoffReturns {
			return Wrong, fmt.Sprintf("%d returns within %v after codes advised reconnect: no back-off (RFC 6455 §7.2.3)", n, noBackoffWindow)
		}
	case reasons.AdviceDone:
		return Tolerated, "came back after 1000 on its own; the advice is not to"
	case reasons.AdviceApplication:
	}
	return OK, ""
}

// MarshalJSON writes r with back_after as text ("5.2s"), or "" when the
// client has not come back.
func (r Reconnect) MarshalJSON() ([]byte, error) {
	type plain Reconnect
	after := ""
	if r.Back {
		after = r.BackAfter.Round(time.Millisecond).String()
	}
	return json.Marshal(struct {
		plain
		BackAfter string `json:"back_after"`
	}{plain(r), after})
}
