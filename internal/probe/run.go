package probe

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultParallel is how many cases Run has in flight at once unless told.
const DefaultParallel = 4

// autobahnDropWait is how long Autobahn's client waits for the server to
// close TCP after its Close frame before it calls the close unclean.
const autobahnDropWait = time.Second

// Options are the settings of a run.
type Options struct {
	DialOptions
	// Parallel is how many cases are in flight at once; 0 means
	// DefaultParallel.
	Parallel int
	// OnResult, when set, is called with each result as it completes, from
	// one goroutine at a time.
	OnResult func(Result)
}

// Result is the outcome of one case.
type Result struct {
	Index int // the case's place in Cases, from 0
	Case  Case
	Got   Reply
	Judgment
	Grade     Grade  // Autobahn TestSuite's grade
	GradeNote string // why Autobahn fails it, for a failing grade
}

// RunCase opens a fresh connection to url, sends c's frames and returns
// what the server did. The whole case, handshake included, takes at most
// opts.Timeout.
func RunCase(ctx context.Context, url string, c Case, opts DialOptions) (Reply, error) {
	deadline := time.Now().Add(opts.Timeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	conn, err := Dial(ctx, url, opts)
	if err != nil {
		return Reply{}, err
	}
	defer conn.Close()
	if err := conn.WriteFrames(c.Frames()); err != nil {
		// The server may already have answered and gone; read what it sent.
		return conn.ReadReplyBy(deadline), nil
	}
	got := conn.ReadReplyBy(deadline)
	if got.closed() {
		wait := deadline
		if soon := time.Now().Add(autobahnDropWait); !c.AfterClose && soon.Before(deadline) {
			wait = soon
		}
		got.KeptOpen = !conn.AwaitTCPCloseBy(wait)
	}
	return got, nil
}

// Judge is the Result of got as the answer to c.
func Judge(c Case, got Reply) Result {
	g, why := c.GradeWhy(got)
	return Result{Case: c, Got: got, Judgment: c.Judge(got), Grade: g, GradeNote: why}
}

// Run sends every case of [Cases] to url, each on its own connection, a few
// at a time, and judges each reply. The first case runs alone, so that a
// server that refuses the handshake gives one error, not many. The error is
// a *HandshakeError when a handshake fails; the results gathered until
// then are returned with it.
func Run(ctx context.Context, url string, opts Options) ([]Result, error) {
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
		return nil, err
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
	if firstErr != nil {
		return gathered(), firstErr
	}
	return results, nil
}
