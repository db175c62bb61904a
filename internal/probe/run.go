package probe

import (
	"context"
	"fmt"
	"sync"
)

// Parallel is how many cases Run has in flight at once.
const Parallel = 4

// Result is the outcome of one case.
type Result struct {
	Case    Case
	Got     Reply
	Verdict Verdict
}

// Summary counts results by verdict.
type Summary struct {
	OK, Tolerated, Wrong int
}

// Summarize counts results by verdict.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch r.Verdict {
		case OK:
			s.OK++
		case Tolerated:
			s.Tolerated++
		case Wrong:
			s.Wrong++
		}
	}
	return s
}

// RunCase opens a fresh connection to url, sends c's Close frame and
// returns what the server did.
func RunCase(ctx context.Context, url string, c Case, opts DialOptions) (Reply, error) {
	conn, err := Dial(ctx, url, opts)
	if err != nil {
		return Reply{}, err
	}
	defer conn.Close()
	if err := conn.WriteClose(c.Payload); err != nil {
		// The server may already have answered and gone; read what it sent.
		return conn.ReadReply(), nil
	}
	got := conn.ReadReply()
	if c.AfterClose && !got.Dropped && !got.TimedOut {
		got.KeptOpen = !conn.AwaitTCPClose()
	}
	return got, nil
}

// Run sends every case of [Cases] to url, each on its own connection, a few
// at a time, and judges each reply. The first case runs alone, so that a
// server that refuses the handshake gives one error, not many. The error is
// a *HandshakeError when a handshake fails.
func Run(ctx context.Context, url string, opts DialOptions) ([]Result, error) {
	cases := Cases()
	results := make([]Result, len(cases))
	run := func(i int) error {
		got, err := RunCase(ctx, url, cases[i], opts)
		if err != nil {
			return err
		}
		results[i] = Result{Case: cases[i], Got: got, Verdict: cases[i].Judge(got)}
		return nil
	}
	if err := run(0); err != nil {
		return nil, err
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		slots    = make(chan struct{}, Parallel)
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
		return nil, firstErr
	}
	return results, nil
}
