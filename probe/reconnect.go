package probe

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
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

// step is one scripted connection, or one refused handshake: when it
// arrived and when the server closed it (or refused it).
type step struct {
	code            reasons.Reason
	status          int           // for a refused handshake, its HTTP status
	retryAfter      time.Duration // and its Retry-After, if any
	arrived, closed time.Time
}

// advice is what the client should do after s: the code's advice, or for
// a refused handshake, denied for 401, 403 and 404 (a retry repeats the
// refusal until something changes) and reconnect, with back-off, for the
// others.
func (s step) advice() reasons.Advice {
	switch {
	case s.status == 401, s.status == 403, s.status == 404:
		return reasons.AdviceDenied
	case s.status != 0:
		return reasons.AdviceReconnect
	}
	return s.code.Advice()
}

// addStep adds a step to who's script and returns its index, from 0. A
// refusal (status set) takes no code of the script; the code is the 1006
// a browser reports for it.
func (h *Handler) addStep(who string, s step) (int, step) {
	h.mu.Lock()
	defer h.mu.Unlock()
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
	if s.status != 0 {
		s.code = reasons.AbnormalClose
	} else {
		s.code = h.script[min(i, len(h.script)-1)]
	}
	if len(cl.steps) == maxSteps {
		cl.steps, cl.dropped = cl.steps[1:], cl.dropped+1
	}
	cl.steps = append(cl.steps, s)
	return i, s
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
	i, s := h.addStep(who, step{arrived: arrived, closed: time.Now()})
	code := s.code
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
	Code   reasons.Reason `json:"code"`   // for a refused handshake, 1006, what a browser reports
	// Status is the HTTP status of a refused handshake (/status/CODE), 0
	// for a close; RetryAfter its Retry-After, if it had one.
	Status     int            `json:"status,omitempty"`
	RetryAfter time.Duration  `json:"-"`
	Advice     reasons.Advice `json:"advice"`
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
//     its own;
//   - after a handshake refused with a Retry-After (/status/CODE), back
//     before it is wrong (RFC 9110 §10.2.3, and RFC 6585 §4 for 429: the
//     client ought to wait, a SHOULD-level rule); after 401, 403 or 404 a
//     fourth return in a row is a loop, as after the codes advised fix or
//     denied; after other refusals without one, the back-off rule of
//     1001 and 1006 applies.
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
			row := Reconnect{Client: cl.who, Step: cl.dropped + i + 1, Count: 1, Code: s.code, Status: s.status, RetryAfter: s.retryAfter, Advice: s.advice()}
			if i+1 < len(cl.steps) {
				row.Back, row.BackAfter = true, cl.steps[i+1].arrived.Sub(s.closed)
			}
			row.Verdict, row.Rule = judgeReturn(cl.steps, i, row.Back, row.BackAfter)
			if last != nil && last.Code == row.Code && last.Status == row.Status && last.Verdict == row.Verdict && last.Rule == row.Rule {
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
	advice := s.advice()
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
	if s.retryAfter > 0 && after < s.retryAfter {
		source := "RFC 9110 §10.2.3: a client ought to wait that long (SHOULD-level)"
		if s.status == 429 {
			source = "RFC 6585 §4 and RFC 9110 §10.2.3: a client ought to wait that long (SHOULD-level)"
		}
		return Wrong, fmt.Sprintf("back before the %d's Retry-After of %v; %s", s.status, s.retryAfter, source)
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
			if a := steps[k].advice(); a != reasons.AdviceFix && a != reasons.AdviceDenied {
				break
			}
			n++
		}
		if n >= loopReturns {
			return Wrong, fmt.Sprintf("a loop: %d or more returns in a row after refusals (codes advised fix or denied, or HTTP 401, 403, 404), which a retry repeats", loopReturns)
		}
		if s.status != 0 {
			return Tolerated, fmt.Sprintf("came back after a handshake refused with %d", s.status)
		}
		return Tolerated, fmt.Sprintf("came back after %d %v, advised %v", uint16(s.code), s.code, advice)
	case reasons.AdviceReconnect:
		n := 0
		for k := i; k >= 0 && arrival.Sub(steps[k+1].arrived) < noBackoffWindow; k-- {
			if steps[k].advice() == reasons.AdviceReconnect {
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
	retry := ""
	if r.RetryAfter > 0 {
		retry = r.RetryAfter.String()
	}
	return json.Marshal(struct {
		plain
		BackAfter  string `json:"back_after"`
		Span       string `json:"span"`
		RetryAfter string `json:"retry_after,omitempty"`
	}{plain(r), after, r.Span.Round(time.Millisecond).String(), retry})
}

// maxRetryAfter bounds /status/CODE's retry-after=.
const maxRetryAfter = time.Hour

// refuse answers a handshake on /status/CODE?retry-after=SECONDS with that
// HTTP status (400 to 599) and Retry-After, and records it as a step of
// the client's script: a browser reports 1006 for it, and the client's
// next return is judged by the status (see Handler.Reconnects).
func (h *Handler) refuseHandshake(w http.ResponseWriter, r *http.Request, arrived time.Time) {
	arg := strings.TrimPrefix(r.URL.Path, "/status/")
	status, err := strconv.Atoi(arg)
	if err != nil || status < 400 || status > 599 {
		http.Error(w, fmt.Sprintf("%q: the status after /status/ is a number from 400 to 599", cut(arg, 20)), http.StatusBadRequest)
		return
	}
	var retry time.Duration
	if ra := r.URL.Query().Get("retry-after"); ra != "" {
		n, err := strconv.Atoi(ra)
		if err != nil || n < 0 || time.Duration(n)*time.Second > maxRetryAfter {
			http.Error(w, fmt.Sprintf("retry-after=%q: whole seconds from 0 to %d", cut(ra, 20), int(maxRetryAfter.Seconds())), http.StatusBadRequest)
			return
		}
		retry = time.Duration(n) * time.Second
		w.Header().Set("Retry-After", ra)
	}
	who := clientKey(r)
	i, _ := h.addStep(who, step{status: status, retryAfter: retry, arrived: arrived, closed: time.Now()})
	e := ConnEvent{Time: time.Now(), Remote: r.RemoteAddr, Path: cut(r.URL.RequestURI(), maxPathKept), Client: who,
		Sent: fmt.Sprintf("handshake refused: %d %s", status, http.StatusText(status)), Got: "n/a",
		Note: fmt.Sprintf("step %d: HTTP %d", i+1, status)}
	if retry > 0 {
		e.Sent += fmt.Sprintf(", Retry-After: %d", int(retry.Seconds()))
	}
	http.Error(w, e.Sent, status)
	h.record(e)
}
