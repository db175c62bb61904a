// Package drain is the server's half of a close on shutdown: it keeps the
// WebSocket connections a process has open and, when the process stops,
// sends each of them a Close frame with a code, so that clients see 1001
// or 1012 instead of the 1006 of a connection that just vanished.
//
// net/http's [http.Server.Shutdown] closes its listeners and waits for
// plain requests, but it neither closes nor waits for hijacked
// connections, and every WebSocket stack hijacks its connections
// (golang/go#17721). A [Group] is the registry a team would otherwise
// write by hand, independent of the stack: after the upgrade, register the
// one line that sends a Close on that stack, and call [Group.Shutdown]
// after the http.Server's:
//
//	done := g.Add(func(r reasons.Reason, text string) error {
//		b, err := reasons.Format(r, text)
//		if err != nil {
//			return err
//		}
//		return conn.WriteControl(websocket.CloseMessage, b, time.Now().Add(time.Second))
//	})
//	defer done()
//
// On coder/websocket the function is conn.Close(websocket.StatusCode(r), text);
// on the other stacks it is their own Close-sending call.
//
// A connection whose handshake is answered just as the server stops is in
// neither place: http.Server.Shutdown no longer tracks it, and its handler
// has not called Add yet. Wrap the handler with [Group.Handler] (or call
// [Group.Hold] first thing in it, on a stack that is not net/http), and
// Shutdown waits for such handlers too, whose Add then sends the Close at
// once.
//
// Which code: 1012 (Service Restart, IANA registry) for a restart or
// deploy, after which clients come back in 5 to 30 s; 1001 (Going Away,
// RFC 6455 §7.4.1) for a server that is going down for longer. Not 1000:
// it says the connection's purpose was fulfilled, and a client that
// follows [reasons.Reason.Advice] does not come back.
//
// The package imports the standard library and package reasons only.
package drain

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsreasons/reasons"
)

// CloseFunc sends a Close frame with r and text on one connection, in the
// way of the connection's stack. It may block until the peer answers, as
// coder/websocket's Close does; Shutdown calls several at once. It may be
// called while the connection's handler is returning, and then returns an
// error rather than panic, as the stacks' own calls do on a closed
// connection.
type CloseFunc func(r reasons.Reason, text string) error

// A Group holds the open connections of a server and ends them all with
// a code on shutdown. The zero value is ready to use. Its methods may be
// called from any goroutine, and connections may arrive and leave while a
// shutdown is under way. A Group must not be copied after first use.
type Group struct {
	// Spread, when positive, spreads the Close frames of a shutdown evenly
	// over this long instead of sending them all at once, so that clients
	// that come back as soon as they are closed (rather than after the
	// registry's random 5 to 30 s for 1012) come back in a trickle. Keep it
	// well under the deadline of Shutdown's context. Set it before Shutdown.
	Spread time.Duration

	mu      sync.Mutex
	next    uint64
	conns   map[uint64]CloseFunc
	held    int // handlers held and not yet released
	closing bool
	reason  reasons.Reason
	text    string
	empty   chan struct{} // closed, and replaced, each time the last connection or hold ends during a shutdown
	total   int           // connections a shutdown has to end
	stats   Stats         // but for Sent and Failed
	sent    atomic.Int64
	failed  atomic.Int64
}

// Stats counts what a Group has seen. Open is the connections whose done
// has not been called yet; the others count from the start of Shutdown.
type Stats struct {
	Open   int // connections added whose done has not been called
	Held   int // holds not yet released: handlers that may yet call Add
	Sent   int // Close frames whose CloseFunc returned nil
	Failed int // Close frames whose CloseFunc returned an error
	Ended  int // connections whose done was called after Shutdown began
}

// Add registers a connection by the function that sends it a Close, and
// returns done, which the handler calls when the connection has ended
// (defer done()). done may be called more than once; calls after the
// first do nothing. Once Shutdown has begun, Add sends the shutdown's Close
// at once, on its own goroutine, and the connection counts as one that
// Shutdown waits for. A nil f counts as a Close that failed to send.
func (g *Group) Add(f CloseFunc) (done func()) {
	g.mu.Lock()
	if g.conns == nil {
		g.conns = map[uint64]CloseFunc{}
	}
	g.next++
	id := g.next
	g.conns[id] = f
	g.stats.Open++
	closing := g.closing
	if closing {
		g.total++
	}
	r, text := g.reason, g.text
	g.mu.Unlock()
	if closing {
		go g.send(f, r, text)
	}
	return func() { g.remove(id) }
}

// remove is done for the connection id.
func (g *Group) remove(id uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.conns[id]; !ok {
		return
	}
	delete(g.conns, id)
	g.stats.Open--
	if g.closing {
		g.stats.Ended++
	}
	g.signalLocked()
}

// signalLocked wakes Shutdown's wait when, during a shutdown, no
// connection is open and no handler held. g.mu is held.
func (g *Group) signalLocked() {
	if g.closing && g.stats.Open == 0 && g.held == 0 {
		close(g.empty) // and a new one for connections added later
		g.empty = make(chan struct{})
	}
}

// Hold marks a handler that may yet call Add, and returns release, which
// the handler calls when it returns (defer release()). Shutdown waits for
// every hold to be released as it waits for every connection, so that a
// connection upgraded just as the server stops, before its handler called
// Add, is not missed: its Add, after Shutdown began, sends the Close at
// once. release may be called more than once; calls after the first do
// nothing. [Group.Handler] holds for every request of a net/http handler.
func (g *Group) Hold() (release func()) {
	g.mu.Lock()
	g.held++
	g.stats.Held++
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.held--
			g.stats.Held--
			g.signalLocked()
		})
	}
}

// Handler returns h with every request held ([Group.Hold]) until h
// returns: wrap the handler that upgrades WebSocket connections with it,
// as in http.Server{Handler: g.Handler(mux)}. Plain requests are held too;
// http.Server.Shutdown has waited for them already when Shutdown runs.
func (g *Group) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer g.Hold()()
		h.ServeHTTP(w, r)
	})
}

// send calls f, the CloseFunc of a connection, and counts the outcome.
func (g *Group) send(f CloseFunc, r reasons.Reason, text string) {
	if f == nil || f(r, text) != nil {
		g.failed.Add(1)
	} else {
		g.sent.Add(1)
	}
}

// Shutdown ends every connection of the group with a Close frame carrying
// r and text, and waits for them to end. From its start, connections that
// Add registers get the same Close at once. Without Spread, every Close is
// sent at once, on a pool of goroutines that grows while CloseFuncs are
// slow, so that a CloseFunc that waits for its peer does not hold up the
// others. With Spread, they go out evenly over it, and if ctx ends first,
// those not yet sent are sent at once.
// Shutdown then waits until every connection's done has been called and
// every hold released, or ctx ends.
//
// It returns nil when every connection ended, and otherwise an
// [*OpenError] that wraps ctx's error and says how many were still open.
// A Close that failed to send is counted in [Group.Stats], not returned:
// such a connection is usually ending already, and its handler's done
// still counts. A code that may not be sent ([reasons.Reason.Valid]) or a
// text that does not fit a Close frame is an error before anything is
// sent. A second call sends nothing new: it waits as the first does.
//
// http.Server.Shutdown does not wait for hijacked connections, so call
// Shutdown after it returns, with the same ctx; see the example.
func (g *Group) Shutdown(ctx context.Context, r reasons.Reason, text string) error {
	if !r.Valid() {
		return fmt.Errorf("drain: code %d may not be sent in a Close frame (reasons.Reason.Valid): end a shutdown with 1001 or 1012", uint16(r))
	}
	if _, err := reasons.Format(r, text); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	g.mu.Lock()
	first := !g.closing
	var fs []CloseFunc
	if first {
		g.closing, g.reason, g.text = true, r, text
		g.empty = make(chan struct{})
		fs = make([]CloseFunc, 0, len(g.conns))
		for _, f := range g.conns {
			fs = append(fs, f)
		}
		g.total += len(fs)
	}
	spread := g.Spread
	g.mu.Unlock()
	if first {
		g.sendAll(ctx, fs, r, text, spread)
	}
	return g.wait(ctx)
}

// wait waits until no connection is open and no handler held, or ctx ends.
func (g *Group) wait(ctx context.Context) error {
	for {
		g.mu.Lock()
		open, held, empty := g.stats.Open, g.held, g.empty
		err := &OpenError{Open: open, Held: held, Total: g.total, Err: ctx.Err()}
		g.mu.Unlock()
		switch {
		case open == 0 && held == 0:
			return nil
		case err.Err != nil:
			return err
		}
		select {
		case <-empty:
		case <-ctx.Done():
		}
	}
}

// sendAll sends the shutdown's Close with the CloseFuncs fs, all at once
// or spread over spread.
func (g *Group) sendAll(ctx context.Context, fs []CloseFunc, r reasons.Reason, text string, spread time.Duration) {
	if spread <= 0 || len(fs) < 2 {
		g.sendPool(fs, r, text)
		return
	}
	start := time.Now()
	timer := time.NewTimer(spread)
	defer timer.Stop()
	for i, f := range fs {
		if wait := time.Until(start.Add(spread * time.Duration(i) / time.Duration(len(fs)))); wait > 0 && ctx.Err() == nil {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
			}
		}
		go g.send(f, r, text)
	}
}

// The pool of sendPool: every poolTick, it doubles when its goroutines
// finished fewer than poolFloor CloseFuncs each since the last tick, that
// is, when a CloseFunc takes more than about 20µs, as one that waits for
// the peer does.
const (
	poolTick  = time.Millisecond
	poolFloor = 50
)

// sendPool sends the Close with the CloseFuncs fs on a pool of goroutines
// and returns once every call has begun. The pool starts with one
// goroutine, which is the fastest for a CloseFunc that only writes
// (gorilla's WriteControl), and doubles while the calls are slow, so that
// CloseFuncs that wait for the peer's answer (coder/websocket's Close) do
// not wait one after another.
func (g *Group) sendPool(fs []CloseFunc, r reasons.Reason, text string) {
	var next, finished atomic.Int64
	n := int64(len(fs))
	work := func() {
		for {
			i := next.Add(1) - 1
			if i >= n {
				return
			}
			g.send(fs[i], r, text)
			finished.Add(1)
		}
	}
	workers := int64(1)
	go work()
	tick := time.NewTicker(poolTick)
	defer tick.Stop()
	var last int64
	for next.Load() < n {
		<-tick.C
		done := finished.Load()
		if started := next.Load(); done-last < workers*poolFloor && started < n {
			more := min(workers, n-started)
			for range more {
				go work()
			}
			workers += more
		}
		last = done
	}
}

// Stats reports the group's counts at this moment.
func (g *Group) Stats() Stats {
	g.mu.Lock()
	s := g.stats
	g.mu.Unlock()
	s.Sent, s.Failed = int(g.sent.Load()), int(g.failed.Load())
	return s
}

// An OpenError is Shutdown's error when its context ended before every
// connection did.
type OpenError struct {
	Open  int   // connections still open when ctx ended
	Held  int   // handlers still held ([Group.Hold]) when ctx ended
	Total int   // connections the shutdown had to end
	Err   error // ctx's error
}

func (e *OpenError) Error() string {
	if e.Held > 0 {
		return fmt.Sprintf("drain: %d of %d connections still open, %d handlers still held: %v", e.Open, e.Total, e.Held, e.Err)
	}
	return fmt.Sprintf("drain: %d of %d connections still open: %v", e.Open, e.Total, e.Err)
}

func (e *OpenError) Unwrap() error { return e.Err }
