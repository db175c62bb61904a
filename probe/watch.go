package probe

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/wsframe"
)

// Lane is one of the three ways [Watch] keeps its connections: idle, with
// Pings, or with data.
type Lane string

const (
	LaneIdle Lane = "idle" // sends nothing after the handshake but the Pong a Ping asks for
	LanePing Lane = "ping" // sends a Ping every WatchOptions.Ping
	LaneData Lane = "data" // sends a short text message every WatchOptions.Send
)

// Lanes are the lanes in the order a watch reports them.
var Lanes = []Lane{LaneIdle, LanePing, LaneData}

// The defaults and bounds of a watch.
const (
	DefaultWatchConns    = 3                // connections per lane
	MaxWatchConns        = 32               // at most, per lane
	DefaultWatchInterval = 20 * time.Second // of Pings and of messages
	MinWatchInterval     = 10 * time.Millisecond
	MaxWatchEvents       = 10000 // events a WatchReport keeps; it counts the rest
	// watchBackoff and maxWatchBackoff bound the back-off of a reconnecting
	// lane after a code whose advice names no delay.
	watchBackoff    = 250 * time.Millisecond
	maxWatchBackoff = 10 * time.Second
)

// WatchOptions are the settings of [Watch].
type WatchOptions struct {
	DialOptions
	Conns int           // connections per lane; DefaultWatchConns when 0, at most MaxWatchConns
	Ping  time.Duration // the ping lane's interval; DefaultWatchInterval when 0
	Send  time.Duration // the data lane's interval; DefaultWatchInterval when 0
	// Reconnect makes each connection come back after it ends, after the
	// delay its code's [reasons.Reason.Advice] gives (a random 5-30 s after
	// 1012), or a back-off from 250 ms doubling up to 10 s after the others.
	Reconnect bool
	// OnEvent, when set, is called with each event as it happens, from one
	// goroutine at a time.
	OnEvent func(WatchEvent)
}

// How a watched connection ended.
const (
	EndClose   = "close"      // a Close frame from the peer
	EndDrop    = "drop"       // TCP closed with no Close frame: the client reports 1006
	EndReset   = "reset"      // TCP reset with no Close frame: the client reports 1006
	EndBroken  = "broken"     // a frame the watch could not read on
	EndOpen    = "open"       // still open when the watch ended; the watch closed it
	EndRefused = "refused"    // a reconnect's handshake failed
	EventBack  = "reconnect"  // a reconnect's handshake succeeded
	EndStopped = "unanswered" // the watch's own Close at the end got no answer
)

// WatchEvent is one thing a watch saw: how a connection ended, or, when
// reconnecting, a return or a refused handshake.
type WatchEvent struct {
	Lane Lane `json:"lane"`
	Conn int  `json:"conn"` // 1 to Conns, within the lane
	// How is one of EndClose, EndDrop, EndReset, EndBroken, EndOpen,
	// EndStopped, EndRefused or EventBack.
	How     string        `json:"how"`
	Elapsed time.Duration `json:"-"` // since the watch began
	// Lived is the connection's life from its handshake; SinceSent and
	// SinceRecv are the times since the last frame each way (or the
	// handshake) when it ended.
	Lived     time.Duration `json:"-"`
	SinceSent time.Duration `json:"-"`
	SinceRecv time.Duration `json:"-"`
	// Got is the peer's Close frame and what came before it; Sees is the
	// code the client's library reports: the frame's, 1005 for an empty
	// one, 1006 when there was none.
	Got  Reply          `json:"-"`
	Sees reasons.Reason `json:"sees,omitempty"`
	// Handshake says why a reconnect's handshake failed: an HTTP answer
	// from the server or something in between, or a network error.
	Handshake string `json:"handshake,omitempty"`
	Judgment
}

// WatchReport is what a watch saw.
type WatchReport struct {
	URL     string
	Options WatchOptions
	Took    time.Duration
	Events  []WatchEvent // the first MaxWatchEvents
	Unkept  int          // events past MaxWatchEvents
	Lanes   []LaneSummary
}

// LaneSummary answers, for one lane, how long its connections lived and
// how they ended, from the first end of each.
type LaneSummary struct {
	Lane  Lane
	Conns int
	Ended int // ended before the watch did
	// Low and High bound the ended connections' lives, when they all ended
	// the same way; Same says they did.
	Low, High time.Duration
	Same      bool
	Words     string // the answer in a sentence
}

// Wrong counts the events judged wrong.
func (r *WatchReport) Wrong() int {
	n := 0
	for _, e := range r.Events {
		if e.Verdict == Wrong {
			n++
		}
	}
	return n
}

// watchFrame bounds the payload a watch keeps of one frame; it skips the
// rest of longer ones.
const watchFrame = 1 << 16

// Watch opens opts.Conns connections in each lane to the server at url and
// watches how each ends until ctx does, then closes those still open with
// 1001 and summarizes. The first handshake is made alone: when it fails,
// Watch returns its error and nothing else. A Close frame is judged by the
// rules on sending one ([JudgeSent]: a code that [reasons.Reason.Valid]
// refuses, such as 1005, 1006 or 1015, is wrong); an end with no Close
// frame is tolerated and reported as the 1006 the client sees.
func Watch(ctx context.Context, url string, opts WatchOptions) (*WatchReport, error) {
	switch n := opts.Conns; {
	case n == 0:
		opts.Conns = DefaultWatchConns
	case n < 0 || n > MaxWatchConns:
		return nil, fmt.Errorf("probe: %d connections per lane: give 1 to %d", n, MaxWatchConns)
	}
	for _, d := range []*time.Duration{&opts.Ping, &opts.Send} {
		switch {
		case *d == 0:
			*d = DefaultWatchInterval
		case *d < MinWatchInterval:
			return nil, fmt.Errorf("probe: an interval of %v: give at least %v", *d, MinWatchInterval)
		}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	began := time.Now()
	first, err := Dial(ctx, url, opts.DialOptions)
	if err != nil {
		return nil, err
	}
	w := &watcher{url: url, opts: opts, began: began, rep: &WatchReport{URL: url, Options: opts}}
	var wg sync.WaitGroup
	for _, lane := range Lanes {
		for i := range opts.Conns {
			var c *Conn
			if lane == LaneIdle && i == 0 {
				c = first
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.run(ctx, lane, i+1, c)
			}()
		}
	}
	wg.Wait()
	w.rep.Took = time.Since(began)
	w.rep.Lanes = summarize(w.rep.Events, opts)
	return w.rep, nil
}

// watcher is the state of one Watch.
type watcher struct {
	url   string
	opts  WatchOptions
	began time.Time
	mu    sync.Mutex
	rep   *WatchReport
}

// emit records e and hands it to OnEvent.
func (w *watcher) emit(e WatchEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	e.Elapsed = time.Since(w.began)
	if len(w.rep.Events) < MaxWatchEvents {
		w.rep.Events = append(w.rep.Events, e)
	} else {
		w.rep.Unkept++
	}
	if w.opts.OnEvent != nil {
		w.opts.OnEvent(e)
	}
}

// run keeps one connection of a lane until ctx ends: without Reconnect,
// until it ends.
func (w *watcher) run(ctx context.Context, lane Lane, n int, c *Conn) {
	failures := 0
	for attempt := 0; ; attempt++ {
		if c == nil {
			var err error
			c, err = Dial(ctx, w.url, w.opts.DialOptions)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil && attempt == 0:
				// The first handshake succeeded; this one did not.
				w.emit(WatchEvent{Lane: lane, Conn: n, How: EndRefused, Handshake: err.Error(),
					Judgment: Judgment{Wrong, "the server accepted the first connection and refused this one of the same watch"}})
				return
			case err != nil:
				w.emit(WatchEvent{Lane: lane, Conn: n, How: EndRefused, Handshake: err.Error(),
					Judgment: Judgment{Tolerated, "a reconnect's handshake failed; the client backs off and tries again"}})
				failures++
				if !sleepCtx(ctx, backoff(failures)) {
					return
				}
				continue
			}
			if attempt > 0 {
				w.emit(WatchEvent{Lane: lane, Conn: n, How: EventBack, Judgment: Judgment{Verdict: OK}})
			}
		}
		e := w.watch(ctx, c, lane)
		c.Close()
		c = nil
		e.Lane, e.Conn = lane, n
		w.emit(e)
		if ctx.Err() != nil || !w.opts.Reconnect {
			return
		}
		failures = 0
		if !sleepCtx(ctx, delayAfter(e.Sees)) {
			return
		}
	}
}

// delayAfter is how long a reconnecting lane waits after an end the client
// reports as code: the random delay its advice names, else the back-off's
// first step.
func delayAfter(code reasons.Reason) time.Duration {
	if lo, hi := code.Advice().Delay(); hi > 0 {
		return lo + rand.N(hi-lo)
	}
	return backoff(1)
}

// backoff is the failures-th delay of a back-off from watchBackoff that
// doubles up to maxWatchBackoff, with up to half again of jitter.
func backoff(failures int) time.Duration {
	d := watchBackoff << min(failures-1, 10)
	d = min(d, maxWatchBackoff)
	return d + rand.N(d/2+1)
}

// sleepCtx waits d or until ctx ends, and tells whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// watch keeps c as lane says until it ends or ctx does, and reports how.
func (w *watcher) watch(ctx context.Context, c *Conn, lane Lane) WatchEvent {
	opened := time.Now()
	var lastSent, lastRecv atomic.Int64
	lastSent.Store(opened.UnixNano())
	lastRecv.Store(opened.UnixNano())
	var wmu sync.Mutex
	write := func(op wsframe.Opcode, payload []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		lastSent.Store(time.Now().UnixNano())
		return c.WriteFrames([]Frame{{Op: op, Payload: payload}})
	}
	stamp := func(e WatchEvent) WatchEvent {
		now := time.Now()
		e.Lived = now.Sub(opened)
		e.SinceSent = now.Sub(time.Unix(0, lastSent.Load()))
		e.SinceRecv = now.Sub(time.Unix(0, lastRecv.Load()))
		return e
	}
	ended := make(chan WatchEvent, 1)
	closeSent := make(chan struct{})
	go func() {
		ended <- stamp(w.read(c, write, &lastRecv, closeSent))
	}()

	var tick <-chan time.Time
	var op wsframe.Opcode
	var payload []byte
	switch lane {
	case LanePing:
		t := time.NewTicker(w.opts.Ping)
		defer t.Stop()
		tick, op, payload = t.C, wsframe.OpPing, []byte("wsreason watch")
	case LaneData:
		t := time.NewTicker(w.opts.Send)
		defer t.Stop()
		tick, op, payload = t.C, wsframe.OpText, []byte("wsreason watch")
	}
	for {
		select {
		case <-tick:
			write(op, payload) // a failed write shows as the read's end
		case e := <-ended:
			return e
		case <-ctx.Done():
			// The watch is over: close as a client that leaves does.
			e := stamp(WatchEvent{How: EndOpen, Judgment: Judgment{Verdict: OK}})
			close(closeSent)
			write(wsframe.OpClose, []byte{0x03, 0xe9}) // 1001
			select {
			case got := <-ended:
				if got.How != EndClose {
					e.How, e.Judgment = EndStopped, Judgment{Tolerated, "the peer did not answer the watch's Close 1001 with its own (§5.5.1)"}
				}
				e.Got = got.Got
			case <-time.After(w.opts.Timeout):
				e.How, e.Judgment = EndStopped, Judgment{Tolerated, "the peer did not answer the watch's Close 1001 within the timeout (§5.5.1)"}
				c.Close()
				<-ended
			}
			return e
		}
	}
}

// read reads frames from c until it ends, answering Pings with Pongs and
// the peer's Close frame with an echo of its code, and reports the end.
// After closeSent, a Close frame is the answer to the watch's own.
func (w *watcher) read(c *Conn, write func(wsframe.Opcode, []byte) error, lastRecv *atomic.Int64, closeSent <-chan struct{}) WatchEvent {
	c.tcp.SetReadDeadline(time.Time{})
	var got Reply
	for {
		h, payload, err := wsframe.Read(c.rw, watchFrame)
		switch {
		case errors.Is(err, wsframe.ErrBadLength):
			got.Broken = "a 64-bit payload length with its most significant bit set (§5.2)"
			return WatchEvent{How: EndBroken, Got: got, Sees: reasons.AbnormalClose, Judgment: Judgment{Wrong, got.Broken}}
		case errors.Is(err, wsframe.ErrTooLarge) && h.Opcode.Control():
			got.Broken = fmt.Sprintf("a %s frame of %d bytes: a control frame carries at most 125 (§5.5)", h.Opcode, h.Length)
			return WatchEvent{How: EndBroken, Got: got, Sees: reasons.AbnormalClose, Judgment: Judgment{Wrong, got.Broken}}
		case errors.Is(err, wsframe.ErrTooLarge):
			if _, err = io.CopyN(io.Discard, c.rw, int64(h.Length)); err == nil {
				lastRecv.Store(time.Now().UnixNano())
				continue
			}
		}
		if err != nil {
			how := EndDrop
			if errors.Is(err, syscall.ECONNRESET) {
				how = EndReset
			}
			got.Dropped = true
			return WatchEvent{How: how, Got: got, Sees: reasons.AbnormalClose, Judgment: Judgment{Tolerated,
				"the connection ended with no Close frame, so the client reports 1006 (RFC 6455 §7.1.5); something on the path or the server cut it without the closing handshake (§7.1.1)"}}
		}
		lastRecv.Store(time.Now().UnixNano())
		if rule := headerRule(h, false); rule != "" && got.FrameRule == "" && h.Opcode != wsframe.OpClose {
			got.FrameRule = fmt.Sprintf("a %s frame: %s", h.Opcode, rule)
		}
		switch h.Opcode {
		case wsframe.OpPing:
			if len(payload) <= reasons.MaxPayloadLen { // a longer Ping broke §5.5; no Pong can echo it
				write(wsframe.OpPong, payload)
			}
			continue
		case wsframe.OpClose:
		default:
			got.Frames++
			continue
		}
		got.Body = payload
		if got.Body == nil {
			got.Body = []byte{}
		}
		got.Masked, got.RSV, got.FINClear = h.Masked, h.Rsv, !h.Fin
		select {
		case <-closeSent: // the answer to the watch's Close
		default:
			write(wsframe.OpClose, got.Body[:min(len(got.Body), 2)])
		}
		got.KeptOpen = !c.AwaitTCPCloseBy(time.Now().Add(c.timeout))
		sees := reasons.NoStatus
		if len(got.Body) >= 2 {
			sees = got.code()
		}
		return WatchEvent{How: EndClose, Got: got, Sees: sees, Judgment: JudgeSent(got)}
	}
}

// summarize answers, lane by lane, how the connections lived, from the
// first end of each connection.
func summarize(events []WatchEvent, opts WatchOptions) []LaneSummary {
	firsts := map[Lane][]WatchEvent{}
	seen := map[[2]any]bool{}
	for _, e := range events {
		key := [2]any{e.Lane, e.Conn}
		if e.How == EventBack || e.How == EndRefused || seen[key] {
			continue
		}
		seen[key] = true
		firsts[e.Lane] = append(firsts[e.Lane], e)
	}
	// When did each lane's connections end, as the watch's clock says? A
	// lane that ended before it sent anything was idle too, and is left
	// out.
	endedAt := map[Lane][2]time.Duration{}
	for lane, es := range firsts {
		lo, hi := time.Duration(-1), time.Duration(0)
		for _, e := range es {
			if e.How == EndOpen || e.How == EndStopped {
				continue
			}
			if e.Lived < laneInterval(lane, opts) {
				lo = -1
				break
			}
			if lo < 0 || e.Elapsed < lo {
				lo = e.Elapsed
			}
			hi = max(hi, e.Elapsed)
		}
		if lo >= 0 {
			endedAt[lane] = [2]time.Duration{lo, hi}
		}
	}
	var out []LaneSummary
	for _, lane := range Lanes {
		out = append(out, summarizeLane(lane, firsts[lane], opts, endedAt))
	}
	return out
}

// laneInterval is how often the lane sends: 0 for the idle lane.
func laneInterval(lane Lane, opts WatchOptions) time.Duration {
	switch lane {
	case LanePing:
		return opts.Ping
	case LaneData:
		return opts.Send
	}
	return 0
}

// laneWords names a lane's connections in a sentence.
func laneWords(lane Lane, opts WatchOptions) string {
	switch lane {
	case LanePing:
		return fmt.Sprintf("connections sending a Ping every %v", opts.Ping)
	case LaneData:
		return fmt.Sprintf("connections sending a message every %v", opts.Send)
	}
	return "idle connections"
}

// endWords says how an end looked to the client: "with no Close frame" or
// "with Close 1012 ServiceRestart "deploy"".
func endWords(e WatchEvent) string {
	switch e.How {
	case EndClose:
		if len(e.Got.Body) < 2 {
			return "with an empty Close frame"
		}
		s := fmt.Sprintf("with Close %d %v", uint16(e.Got.code()), e.Got.code())
		if t := e.Got.Text(); t != "" {
			s += fmt.Sprintf(" %q", t)
		}
		return s
	case EndBroken:
		return "with a frame the watch could not read (" + e.Got.Broken + ")"
	}
	return "with no Close frame" // closed or reset: the client sees the same 1006
}

// seconds writes d as "60.0 s".
func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// summarizeLane is one lane's summary; endedAt holds, for every lane, the
// span of the watch's clock in which its connections ended.
func summarizeLane(lane Lane, es []WatchEvent, opts WatchOptions, endedAt map[Lane][2]time.Duration) LaneSummary {
	s := LaneSummary{Lane: lane, Conns: len(es)}
	name := laneWords(lane, opts)
	var ended []WatchEvent
	var lasted time.Duration
	for _, e := range es {
		if e.How == EndOpen || e.How == EndStopped {
			lasted = max(lasted, e.Lived)
			continue
		}
		ended = append(ended, e)
	}
	s.Ended = len(ended)
	if s.Conns == 0 {
		s.Words = name + ": none was opened"
		return s
	}
	if s.Ended == 0 {
		s.Words = fmt.Sprintf("%s were still open after %v", name, lasted.Round(100*time.Millisecond))
		if _, idleEnded := endedAt[LaneIdle]; idleEnded && lane != LaneIdle {
			s.Words += map[Lane]string{LanePing: ": Pings keep them open", LaneData: ": messages keep them open"}[lane]
		}
		return s
	}
	s.Same = true
	s.Low, s.High = ended[0].Lived, ended[0].Lived
	for _, e := range ended {
		s.Low, s.High = min(s.Low, e.Lived), max(s.High, e.Lived)
		if endWords(e) != endWords(ended[0]) {
			s.Same = false
		}
	}
	if !s.Same || s.Ended < s.Conns {
		counts := map[string]int{}
		var order []string
		for _, e := range ended {
			w := endWords(e)
			if counts[w] == 0 {
				order = append(order, w)
			}
			counts[w]++
		}
		s.Words = fmt.Sprintf("%s: %d of %d ended after %s to %s (", name, s.Ended, s.Conns, seconds(s.Low), seconds(s.High))
		for i, w := range order {
			if i > 0 {
				s.Words += ", "
			}
			s.Words += fmt.Sprintf("%d %s", counts[w], w)
		}
		s.Words += ")"
		if s.Ended < s.Conns {
			s.Words += fmt.Sprintf("; %d still open after %v", s.Conns-s.Ended, lasted.Round(100*time.Millisecond))
		}
		s.Same = false
		return s
	}
	mid, half := (s.Low+s.High)/2, (s.High-s.Low)/2
	s.Words = fmt.Sprintf("%s ended after %s (±%s over %d) %s", name, seconds(mid), seconds(half), s.Conns, endWords(ended[0]))
	sees := fmt.Sprintf("your clients see %d", uint16(ended[0].Sees))
	// Did the other lanes end in the same moment? Then this was no idle
	// timeout but a restart or a cut of everything.
	together := true
	for _, other := range Lanes {
		span, ok := endedAt[other]
		if !ok || span[0] > endedAt[lane][1]+time.Second || span[1]+time.Second < endedAt[lane][0] {
			together = false
		}
	}
	if every := laneInterval(lane, opts); s.High < every {
		flag := map[Lane]string{LanePing: "-ping", LaneData: "-send"}[lane]
		s.Words += fmt.Sprintf(", before they sent anything: idle until then, they tell no more than the idle lane; a %s shorter than %s shows whether sending keeps them open; %s", flag, seconds(s.Low), sees)
		return s
	}
	switch {
	case together:
		s.Words += ", in the same moment as the other lanes: the server or something on the path ended every connection, whatever it carried; " + sees
	case lane == LaneIdle && ended[0].How != EndClose:
		s.Words += fmt.Sprintf(": something on the path has an idle timeout of about %s, and %s", seconds(mid), sees)
	case lane == LaneIdle:
		s.Words += fmt.Sprintf(": the server, or something on the path, closes connections idle for about %s; %s", seconds(mid), sees)
	case lane == LanePing:
		s.Words += ": Pings do not keep them open that long; " + sees
	default:
		s.Words += ": messages do not keep them open that long; " + sees
	}
	return s
}

// MarshalJSON writes e with its times in seconds and its Close frame's
// code, reason and body (hex).
func (e WatchEvent) MarshalJSON() ([]byte, error) {
	type out struct {
		Event     string  `json:"event"`
		Lane      Lane    `json:"lane"`
		Conn      int     `json:"conn"`
		How       string  `json:"how"`
		Elapsed   float64 `json:"elapsed_s"`
		Lived     float64 `json:"lived_s,omitempty"`
		SinceSent float64 `json:"since_sent_s,omitempty"`
		SinceRecv float64 `json:"since_recv_s,omitempty"`
		Code      int     `json:"code,omitempty"`
		Reason    string  `json:"reason,omitempty"`
		Body      string  `json:"body,omitempty"`
		Sees      int     `json:"client_sees,omitempty"`
		Handshake string  `json:"handshake,omitempty"`
		Verdict   Verdict `json:"verdict"`
		Rule      string  `json:"rule,omitempty"`
	}
	o := out{Event: "end", Lane: e.Lane, Conn: e.Conn, How: e.How, Elapsed: e.Elapsed.Seconds(), Lived: e.Lived.Seconds(),
		SinceSent: e.SinceSent.Seconds(), SinceRecv: e.SinceRecv.Seconds(), Sees: int(e.Sees), Handshake: e.Handshake,
		Verdict: e.Verdict, Rule: e.Rule}
	switch e.How {
	case EventBack:
		o.Event = "return"
	case EndRefused:
		o.Event = "refused"
	}
	if e.Got.Body != nil {
		o.Body = hex.EncodeToString(e.Got.Body)
		if len(e.Got.Body) >= 2 {
			o.Code, o.Reason = int(e.Got.code()), e.Got.Text()
		}
	}
	return json.Marshal(o)
}

// MarshalJSON writes the summary with its bounds in seconds.
func (s LaneSummary) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Lane  Lane    `json:"lane"`
		Conns int     `json:"conns"`
		Ended int     `json:"ended"`
		Same  bool    `json:"same"`
		Low   float64 `json:"low_s,omitempty"`
		High  float64 `json:"high_s,omitempty"`
		Words string  `json:"summary"`
	}{s.Lane, s.Conns, s.Ended, s.Same, s.Low.Seconds(), s.High.Seconds(), s.Words})
}
