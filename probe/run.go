package probe

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/wsreasons/reasons/internal/wsframe"
)

// DefaultParallel is how many cases Run has in flight at once unless told.
const DefaultParallel = 4

// DefaultTimeout bounds each case unless Options say otherwise.
const DefaultTimeout = 5 * time.Second

// KillAfter is the bound every close case of Autobahn TestSuite sets on
// itself when the connection opens (killAfter(1) in each case7_*.py): a
// connection whose close has not ended by then, Close frames exchanged and
// TCP closed, is failed by Autobahn's client, and the close is unclean. It
// is a bound, not a sleep: a case ends as soon as its close does.
const KillAfter = time.Second

// Options are the settings of a run.
type Options struct {
	DialOptions // a zero Timeout means DefaultTimeout
	// Parallel is how many cases are in flight at once; 0 means
	// DefaultParallel.
	Parallel int
	// OnResult, when set, is called with each result as it completes, from
	// one goroutine at a time.
	OnResult func(Result)
}

// Send plays c on conn as Autobahn's case file does, from the moment the
// connection opened (start), and reads the peer's answer until deadline.
// Most cases send every frame at once, as their onOpen does: the frames
// before the Close frame, the Close frame, the frames after it. A case
// whose Close waits for an echo ([Case.CloseOnEcho], 7.1.1) sends the frames
// before it, waits for the events of c.Expect.OK as finishWhenDone does,
// and then sends the Close frame; when they have not come by KillAfter, it
// sends the Close frame anyway (Reply.LateClose), so that the answer to a
// Close is still judged. A peer that ends the connection before the Close
// frame was sent is marked Reply.EndedFirst; a Close frame that comes after
// KillAfter, Reply.AfterKill.
func (c *Conn) Send(cs Case, start, deadline time.Time) Reply {
	kill := start.Add(KillAfter)
	rr := replyReader{r: Reply{FromClient: c.server}}
	if cs.CloseOnEcho {
		c.WriteFrames(cs.Before)
		echoed := func(r Reply) bool { return slices.Equal(r.Events, cs.Expect.OK) }
		if rr.read(c, earlier(kill, deadline), echoed) {
			rr.r.EndedFirst = true
			return rr.r
		}
		rr.r.LateClose = !echoed(rr.r)
		// An error writing is read as what the peer did: it may have
		// answered and gone.
		c.WriteFrames(append([]Frame{{Op: wsframe.OpClose, Payload: cs.Payload}}, cs.After...))
	} else {
		c.WriteFrames(cs.Frames())
	}
	rr.read(c, deadline, nil)
	rr.r.AfterKill = rr.r.closed() && time.Now().After(kill)
	return rr.r
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// RunCase opens a fresh connection to url, plays c on it ([Conn.Send]) and
// returns what the server did, with whether it closed TCP in time: by
// KillAfter, as Autobahn's client waits, or for the case that asks
// (AfterClose) by the timeout. The whole case, handshake included, takes
// at most opts.Timeout.
func RunCase(ctx context.Context, url string, c Case, opts DialOptions) (Reply, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	deadline := time.Now().Add(opts.Timeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	conn, err := Dial(ctx, url, opts)
	if err != nil {
		return Reply{}, err
	}
	defer conn.Close()
	start := time.Now()
	got := conn.Send(c, start, deadline)
	if got.closed() && !got.EndedFirst {
		// By the kill bound, as Autobahn waits; past it, a Close that came
		// late gets a second of its own, to say what the server did.
		wait := start.Add(KillAfter)
		if !wait.After(time.Now()) {
			wait = time.Now().Add(KillAfter)
		}
		if c.AfterClose {
			wait = deadline
		}
		got.KeptOpen = !conn.AwaitTCPCloseBy(earlier(wait, deadline))
	}
	return got, nil
}

// Run sends every case of [Cases] to url, each on its own connection, a few
// at a time, and judges each reply. The first case runs alone, so that a
// server that refuses the handshake gives one error, not many. The error is
// a *HandshakeError when a handshake fails; the results gathered until
// then are returned with it.
func Run(ctx context.Context, url string, opts Options) (Report, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	rep := Report{URL: url, Timeout: opts.Timeout}
	if _, err := ParseURL(url); err != nil {
		return rep, err
	}
	cases := Cases()
	results := make([]Result, len(cases))
	done := make([]bool, len(cases))
	var mu sync.Mutex
	run := func(i int) error {
		got, err := RunCase(ctx, url, cases[i], opts.DialOptions)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		results[i], done[i] = Judge(cases[i], got), true
		results[i].Index = i
		if opts.OnResult != nil {
			opts.OnResult(results[i])
		}
		return nil
	}
	gathered := func() []Result {
		var out []Result
		for i, r := range results {
			if done[i] {
				out = append(out, r)
			}
		}
		return out
	}
	if err := run(0); err != nil {
		return rep, err
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	var (
		wg       sync.WaitGroup
		firstErr error
		slots    = make(chan struct{}, parallel)
	)
	for i := 1; i < len(cases); i++ {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if err := run(i); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("case %q: %w", cases[i].Name, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rep.Results = gathered()
	return rep, firstErr
}
