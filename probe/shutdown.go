package probe

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/wsreasons/reasons"
)

// DefaultShutdownConns is how many connections [RunShutdown] opens unless
// told otherwise; MaxShutdownConns bounds it.
const (
	DefaultShutdownConns = 16
	MaxShutdownConns     = 1024
)

// ShutdownOptions are the settings of [RunShutdown]. Timeout bounds the
// context given to the shutdown function; a connection that has not ended
// KillAfter past it counts as still open.
type ShutdownOptions struct {
	DialOptions
	Conns int // connections to open; DefaultShutdownConns when 0, at most MaxShutdownConns
}

// ShutdownEnd is how one connection ended during a shutdown: Got is what
// the client saw (a Close frame, a TCP close without one, or nothing by the
// deadline); After is when, from the call of the shutdown function.
type ShutdownEnd struct {
	Got   Reply
	After time.Duration
	Judgment
}

// Class names the kind of end, the same for ends a test reports together:
// "1012_ServiceRestart", "no_Close_frame", "still_open", "empty_Close", or
// "broken" for a Close frame or a frame before it that breaks a rule.
func (e ShutdownEnd) Class() string {
	switch r := e.Got; {
	case r.Broken != "" || r.FrameRule != "" || sendRule(r) != "":
		return "broken"
	case r.TimedOut:
		return "still_open"
	case r.Dropped:
		return "no_Close_frame"
	case len(r.Body) == 0:
		return "empty_Close"
	default:
		return fmt.Sprintf("%d_%s", uint16(r.code()), r.code())
	}
}

// ShutdownReport is what RunShutdown saw.
type ShutdownReport struct {
	Ends []ShutdownEnd // one per connection, in the order they were opened
	// Err is the shutdown function's error, if it returned one, or says that
	// it had not returned by the deadline.
	Err  error
	Took time.Duration // from the call of the shutdown function to its return
}

// JudgeShutdown judges how a server ended a connection when it shut down.
// A server going away says so with 1001 (RFC 6455 §7.4.1), or with 1012
// (Service Restart, IANA registry) when it will be back: both are OK, and
// a client that follows [reasons.Reason.Advice] comes back after them. 1000
// is wrong: §7.4.1 gives it to a connection whose purpose is fulfilled,
// and such a client does not come back. A TCP close with no Close frame is
// wrong: the client reports 1006 (§7.1.5, §7.4.1) and learns nothing. So is
// a connection still open at the deadline, and a Close frame that breaks a
// rule of its own (see [JudgeSent]). Any other code is tolerated.
func JudgeShutdown(got Reply) Judgment {
	const goingAway = "a server that goes away sends 1001 (RFC 6455 §7.4.1), or 1012 when it restarts (IANA registry)"
	switch {
	case got.Broken != "":
		return Judgment{Wrong, got.Broken}
	case got.FrameRule != "":
		return Judgment{Wrong, got.FrameRule}
	case got.TimedOut:
		return Judgment{Wrong, "the connection was neither closed nor dropped by the deadline: " + goingAway + ", then closes TCP (§7.1.1)"}
	case got.Dropped:
		return Judgment{Wrong, "TCP closed with no Close frame, so the client reports 1006 (RFC 6455 §7.1.5, §7.4.1): " + goingAway}
	}
	if rule := sendRule(got); rule != "" {
		return Judgment{Wrong, rule}
	}
	if len(got.Body) == 0 {
		return Judgment{Tolerated, "an empty Close: the client reports 1005 (§7.1.5) and cannot tell a restart from the end; " + goingAway}
	}
	switch code := got.code(); code {
	case reasons.GoingAway, reasons.ServiceRestart:
		if got.KeptOpen {
			return Judgment{Tolerated, "kept TCP open after the closing handshake: the server should close it (§7.1.1)"}
		}
		return Judgment{OK, ""}
	case reasons.Normal:
		return Judgment{Wrong, "1000 says the connection's purpose is fulfilled (RFC 6455 §7.4.1), so a client that follows it does not come back: " + goingAway}
	default:
		return Judgment{Tolerated, fmt.Sprintf("%d, whose advice to a client is %q (reasons.Reason.Advice): %s", uint16(code), code.Advice(), goingAway)}
	}
}

// RunShutdown opens opts.Conns connections to the server at url, each with
// a client that answers a Close frame as a well-behaved client does (it
// echoes the code), then calls shutdown with a context bounded by
// opts.Timeout and judges how each connection ended ([JudgeShutdown]). A
// connection still open KillAfter past that bound is judged still open.
// The error says why the URL is not usable or a handshake failed; then
// nothing is shut down. ctx bounds the handshakes and the wait.
func RunShutdown(ctx context.Context, url string, shutdown func(context.Context) error, opts ShutdownOptions) (ShutdownReport, error) {
	n := opts.Conns
	switch {
	case n == 0:
		n = DefaultShutdownConns
	case n < 0 || n > MaxShutdownConns:
		return ShutdownReport{}, fmt.Errorf("probe: %d connections: give 1 to %d", n, MaxShutdownConns)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	conns, err := dialAll(ctx, url, n, opts.DialOptions)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if err != nil {
		return ShutdownReport{}, err
	}

	start := time.Now()
	deadline := start.Add(opts.Timeout + KillAfter)
	rep := ShutdownReport{Ends: make([]ShutdownEnd, n)}
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := c.ReadReplyBy(deadline)
			at := time.Since(start)
			if got.closed() {
				// Echo the code, as a client does (§5.5.1), then see whether the
				// server closes TCP (§7.1.1).
				c.WriteClose(got.Body[:min(len(got.Body), 2)])
				got.KeptOpen = !c.AwaitTCPCloseBy(earlier(deadline, time.Now().Add(KillAfter)))
			}
			rep.Ends[i] = ShutdownEnd{Got: got, After: at, Judgment: JudgeShutdown(got)}
		}()
	}

	sctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- shutdown(sctx) }()
	select {
	case rep.Err = <-returned:
		rep.Took = time.Since(start)
	case <-time.After(time.Until(deadline)):
		rep.Err = fmt.Errorf("the shutdown function had not returned %v after it was called, %v past its context's deadline", opts.Timeout+KillAfter, KillAfter)
		rep.Took = time.Since(start)
	}
	wg.Wait()
	return rep, nil
}

// dialAll opens n connections to url, a few at a time. On error it returns
// those it opened, for the caller to close.
func dialAll(ctx context.Context, url string, n int, opts DialOptions) ([]*Conn, error) {
	conns := make([]*Conn, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, DefaultParallel) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				conns[i], errs[i] = Dial(ctx, url, opts)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	opened := slices.DeleteFunc(slices.Clone(conns), func(c *Conn) bool { return c == nil })
	for _, err := range errs {
		if err != nil {
			return opened, err
		}
	}
	return opened, nil
}
