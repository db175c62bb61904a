package probe

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wsreasons/reasons"
)

// fleetHold bounds how long a connection of a fleet waits for the rest.
const fleetHold = 5 * time.Minute

// The thresholds of a fleet's verdict: more than half of its returns
// within one second is a herd, whatever the code; after 1012, any return
// before the low end of the IANA registration's 5 to 30 s is early.
const (
	herdShare  = 0.5
	herdWindow = time.Second
)

// Fleet makes the Handler hold the first n WebSocket connections on /
// until all n are open, then close them all in the same moment with the
// script's first code (1012 without a script), as a deploy does, and
// report how the clients came back ([Handler.Fleet]). After that close,
// connections on / are held open until the client leaves or the Handler
// closes, as a restarted server holds them; the first n count as returns.
func Fleet(n int) HandlerOption {
	return func(h *Handler) {
		if n > 0 {
			h.fleet = &fleet{size: n, release: make(chan struct{})}
		}
	}
}

// fleet is the state of a fleet: the connections waiting, the close, and
// the returns after it.
type fleet struct {
	size     int
	waiting  int
	release  chan struct{} // closed when the fleet is complete
	closedAt time.Time
	returns  []time.Duration
}

// FleetReport is how a fleet came back after the Handler closed it.
type FleetReport struct {
	Size     int            `json:"size"`
	Code     reasons.Reason `json:"code"`
	Closed   bool           `json:"closed"`  // the fleet was complete and closed
	Returns  int            `json:"returns"` // how many came back, at most Size
	First    time.Duration  `json:"-"`       // the returns' times after the close
	Median   time.Duration  `json:"-"`
	P90      time.Duration  `json:"-"`
	Last     time.Duration  `json:"-"`
	InSecond int            `json:"in_one_second"` // the most returns within any one second
	Verdict  Verdict        `json:"verdict"`
	Rule     string         `json:"rule,omitempty"`
	// Times are the returns, sorted, after the close.
	Times []time.Duration `json:"-"`
}

// fleetCode is the code the fleet is closed with.
func (h *Handler) fleetCode() reasons.Reason {
	if len(h.script) > 0 {
		return h.script[0]
	}
	return reasons.ServiceRestart
}

// fleetStep serves one connection on / in fleet mode: before the close it
// waits for the fleet, then closes with the fleet's code; after it, it is
// a return, held open.
func (h *Handler) fleetStep(c *Conn, e *ConnEvent, arrived time.Time) {
	f := h.fleet
	h.mu.Lock()
	if !f.closedAt.IsZero() {
		n := len(f.returns)
		if n < f.size {
			f.returns = append(f.returns, arrived.Sub(f.closedAt))
		}
		h.mu.Unlock()
		e.Note = fmt.Sprintf("fleet return %d, %v after the close", n+1, arrived.Sub(f.closedAt).Round(time.Millisecond))
		e.Sent, e.Got = "nothing: held open, as a restarted server holds it", "the client left"
		c.AwaitTCPCloseBy(time.Now().Add(fleetHold))
		return
	}
	f.waiting++
	i := f.waiting
	if f.waiting == f.size {
		f.closedAt = time.Now()
		close(f.release)
	}
	h.mu.Unlock()
	e.Note = fmt.Sprintf("fleet member %d of %d", i, f.size)
	select {
	case <-f.release:
	case <-h.done:
		return
	case <-time.After(fleetHold):
		e.Sent, e.Got = fmt.Sprintf("nothing: the fleet of %d was not complete within %v", f.size, fleetHold), "n/a"
		return
	}
	code := h.fleetCode()
	h.closeWith(c, e, CaseFor("fleet", binary.BigEndian.AppendUint16(nil, uint16(code))))
}

// Fleet reports how the fleet came back, or nil without [Fleet]; see
// [FleetOf] for the verdict. A fleet not yet complete is tolerated.
func (h *Handler) Fleet() *FleetReport {
	if h.fleet == nil {
		return nil
	}
	h.mu.Lock()
	f := h.fleet
	closed, times := !f.closedAt.IsZero(), slices.Clone(f.returns)
	h.mu.Unlock()
	if !closed {
		return &FleetReport{Size: f.size, Code: h.fleetCode(), Verdict: Tolerated,
			Rule: fmt.Sprintf("the fleet is not complete: the server closes it once %d clients are connected", f.size)}
	}
	return FleetOf(f.size, h.fleetCode(), times)
}

// FleetOf reports a fleet of size clients closed with code that came back
// the given times after the close (at most size of them; the slice is
// sorted in place). After 1012, a return within 5 s of the close is wrong
// (the IANA registration's random 5 to 30 s, SHOULD); after any code, more
// than half of the fleet back within one second of each other is wrong:
// it comes back as a herd, which back-off with jitter (RFC 6455 §7.2.3,
// SHOULD) and a server's spread closes exist to prevent. A fleet with no
// return yet is tolerated.
func FleetOf(size int, code reasons.Reason, times []time.Duration) *FleetReport {
	slices.Sort(times)
	r := &FleetReport{Size: size, Code: code, Closed: true, Times: times, Returns: len(times)}
	if r.Returns == 0 {
		r.Verdict, r.Rule = Tolerated, "no client has come back yet"
		return r
	}
	at := func(q float64) time.Duration { return r.Times[min(len(r.Times)-1, int(q*float64(len(r.Times))))] }
	r.First, r.Median, r.P90, r.Last = r.Times[0], at(0.5), at(0.9), r.Times[len(r.Times)-1]
	for i := range r.Times {
		j := i
		for j < len(r.Times) && r.Times[j]-r.Times[i] < herdWindow {
			j++
		}
		r.InSecond = max(r.InSecond, j-i)
	}
	lo, hi := r.Code.Advice().Delay()
	switch {
	case lo > 0 && r.First < lo:
		r.Verdict, r.Rule = Wrong, fmt.Sprintf("the first client was back %v after %d: the IANA registration of %d asks for a random %v to %v (SHOULD)",
			r.First.Round(time.Millisecond), uint16(r.Code), uint16(r.Code), lo, hi)
	case float64(r.InSecond) > herdShare*float64(r.Size):
		r.Verdict, r.Rule = Wrong, fmt.Sprintf("a herd: %d of %d came back within %v; back-off with jitter (RFC 6455 §7.2.3, SHOULD) spreads them", r.InSecond, r.Size, herdWindow)
	default:
		r.Verdict = OK
	}
	return r
}

// fleetSVG draws the returns over time, one bar a second, for /report.
func fleetSVG(r *FleetReport) string {
	if r == nil || len(r.Times) == 0 {
		return ""
	}
	secs := int(r.Last/time.Second) + 1
	counts := make([]int, secs)
	for _, t := range r.Times {
		counts[int(t/time.Second)]++
	}
	top := slices.Max(counts)
	const width, height, bar = 600, 120, 20
	w := min(width, secs*bar)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="returns per second after the close">`, w+40, height+30)
	for i, n := range counts {
		x := 30 + i*w/secs
		bh := n * height / top
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#4a7"><title>%d returns in second %d</title></rect>`, x, height-bh, max(1, w/secs-2), bh, n, i)
	}
	fmt.Fprintf(&b, `<text x="0" y="12" font-size="11">%d</text><text x="30" y="%d" font-size="11">0 s</text><text x="%d" y="%d" font-size="11">%d s</text></svg>`,
		top, height+20, 30+w-20, height+20, secs)
	return b.String()
}

// String is the fleet report in one line of text.
func (r *FleetReport) String() string {
	if r.Returns == 0 {
		return fmt.Sprintf("fleet of %d closed with %d: %s", r.Size, uint16(r.Code), r.Rule)
	}
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	s := fmt.Sprintf("fleet of %d closed with %d: %d back; first %s, median %s, p90 %s, last %s; at most %d within a second; %s",
		r.Size, uint16(r.Code), r.Returns, ms(r.First), ms(r.Median), ms(r.P90), ms(r.Last), r.InSecond, r.Verdict)
	if r.Rule != "" {
		s += ": " + r.Rule
	}
	return s
}

// MarshalJSON writes r with its times as text ("5.2s").
func (r FleetReport) MarshalJSON() ([]byte, error) {
	type plain FleetReport
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	return json.Marshal(struct {
		plain
		First  string `json:"first"`
		Median string `json:"median"`
		P90    string `json:"p90"`
		Last   string `json:"last"`
	}{plain(r), ms(r.First), ms(r.Median), ms(r.P90), ms(r.Last)})
}
