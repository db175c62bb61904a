package interop

import (
	"context"
	"errors"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	gorillaws "github.com/gorilla/websocket"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/probe"
	"github.com/wsreasons/reasons/reasonstest"
)

// reconnectScript is the script every reconnecting client is judged by:
// going away, a lost connection, a restart, then an overloaded server.
var reconnectScript = []reasons.Reason{reasons.GoingAway, reasons.AbnormalClose, reasons.ServiceRestart, reasons.TryAgainLater}

// reconnectRun is how long a reconnecting client is watched: long enough
// for a careful client's 5-6 s wait after 1012.
const reconnectRun = 8 * time.Second

// reconnecter is a client that comes back, or not, after each close.
type reconnecter struct {
	name string
	// run connects to url until it decides to stop, and returns then; it
	// is killed at the end of the test when it runs in a process.
	run func(t *testing.T, url string)
	// want is the verdict of each step of reconnectScript.
	want []probe.Verdict
	// peer, when set, is the outside peer run needs: the test skips (or
	// fails, under REASONS_REQUIRE_PEERS=1) without it.
	peer *outsidePeer
}

var careful = []probe.Verdict{probe.OK, probe.OK, probe.OK, probe.OK}

var reconnecters = []reconnecter{
	{"Go, gorilla, the README's handler", carefulGo, careful, nil},
	{"Python websockets", processClient(pythonWebsockets, "reconnect.py"), careful, &pythonWebsockets.peer},
	{"Node ws", processClient(nodeWS, "reconnect.js"), careful, &nodeWS.peer},
	// Back at once whatever the code: wrong after 1012 and after 1013.
	{"naive: back at once", naiveGo, []probe.Verdict{probe.OK, probe.OK, probe.Wrong, probe.Wrong}, nil},
}

// carefulGo is the README's close handler on gorilla/websocket: it follows
// Reason.Advice, with back-off, and waits 5-6 s after 1012 (the low end of
// the registry's 5-30 s, to keep the test short).
func carefulGo(t *testing.T, url string) {
	backoff := 100 * time.Millisecond
	for range 10 {
		c, _, err := gorillaws.DefaultDialer.Dial(url, nil)
		if err == nil {
			for err == nil {
				_, _, err = c.ReadMessage()
			}
			c.Close()
		}
		r, _, ok := reasons.FromError(err)
		if !ok {
			return
		}
		switch advice := r.Advice(); advice {
		case reasons.AdviceReconnect:
			time.Sleep(backoff + rand.N(backoff/2))
			backoff = min(2*backoff, 10*time.Second)
		case reasons.AdviceReconnectLater:
			lo, _ := advice.Delay()
			time.Sleep(lo + rand.N(time.Second))
		case reasons.AdviceDone, reasons.AdviceElsewhere, reasons.AdviceFix, reasons.AdviceDenied, reasons.AdviceApplication:
			return
		}
	}
}

// naiveGo comes back at once after every close, ten times.
func naiveGo(t *testing.T, url string) {
	for range 10 {
		c, _, err := gorillaws.DefaultDialer.Dial(url, nil)
		if err != nil {
			return
		}
		for err == nil {
			_, _, err = c.ReadMessage()
		}
		c.Close()
	}
}

// processClient runs script of sp's peer against the URL; it returns when
// the process exits by itself or the run is over.
func processClient(sp scriptedPeer, script string) func(t *testing.T, url string) {
	return func(t *testing.T, url string) {
		path, err := exec.LookPath(sp.peer.path) // TestReconnect has checked the peer
		if err != nil {
			t.Error(err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), reconnectRun)
		defer cancel()
		cmd := exec.CommandContext(ctx, path, script, url)
		cmd.Dir = sp.dir
		cmd.WaitDelay = time.Second
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Errorf("%s %s: %v\n%s", path, script, err, out.String())
		}
	}
}

// TestReconnect runs each reconnecting client against a reasonstest
// server with reconnectScript, as wsreason serve -script runs it, and
// checks the verdict of every step.
func TestReconnect(t *testing.T) {
	t.Parallel()
	for _, rc := range reconnecters {
		t.Run(rc.name, func(t *testing.T) {
			t.Parallel()
			if rc.peer != nil {
				rc.peer.need(t) // here, not in run's goroutine, where a skip would not stop the test
			}
			srv := reasonstest.NewServer(reasonstest.Script(reconnectScript...), reasonstest.ClientTimeout(time.Second))
			defer srv.Close()
			done := make(chan struct{})
			go func() { defer close(done); rc.run(t, srv.URL+"/") }()
			select {
			case <-done:
			case <-time.After(reconnectRun + 2*time.Second):
				t.Fatal("the client did not stop")
			}
			rows := srv.Reconnects()
			if len(rows) < len(rc.want) {
				t.Fatalf("%d steps, want at least %d: %+v", len(rows), len(rc.want), rows)
			}
			var got []string
			for i, want := range rc.want {
				if rows[i].Verdict != want {
					t.Errorf("step %d (%d, %s): %s (%s), want %s", rows[i].Step, rows[i].Code, rows[i].Advice, rows[i].Verdict, rows[i].Rule, want)
				}
				got = append(got, string(rows[i].Verdict))
			}
			t.Logf("%s: %s", rc.name, strings.Join(got, " "))
		})
	}
}

// TestReconnectPythonLoop runs Python websockets' documented reconnect
// loop against a server that closes with 1012: it comes back at once, as
// fast as it can, for as long as it runs, and the report says so in a few
// rows: back before 5 s, then a loop, collapsed with a count.
func TestReconnectPythonLoop(t *testing.T) {
	t.Parallel()
	path := pythonWebsockets.peer.need(t)
	srv := reasonstest.NewServer(reasonstest.Script(reasons.ServiceRestart), reasonstest.ClientTimeout(time.Second))
	defer srv.Close()
	// It runs until the server has seen 20 returns, or 15 s on a machine
	// too busy for that (3 s is plenty on an idle one).
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "connect_loop.py", srv.URL+"/")
	cmd.Dir = pythonWebsockets.dir
	cmd.WaitDelay = time.Second
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	returns := func() int {
		n := 0
		for _, r := range srv.Reconnects() {
			n += r.Count
		}
		return n
	}
	for returns() < 20 && ctx.Err() == nil {
		select {
		case err := <-exited:
			t.Fatalf("the loop stopped by itself: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	<-exited
	rows := srv.Reconnects()
	steps, loop := 0, false
	for _, r := range rows {
		steps += r.Count
		loop = loop || r.Verdict == probe.Wrong && strings.Contains(r.Rule, "a loop")
	}
	if steps < 20 || len(rows) > 5 || !loop || rows[0].Verdict != probe.Wrong {
		t.Errorf("%d steps in %d rows, want 20 or more in at most 5, the first wrong and one a loop: %+v", steps, len(rows), rows)
	}
	last := rows[len(rows)-1]
	t.Logf("%d steps (the last %d kept), %d rows", last.Step+last.Count-1, steps, len(rows))
}

// fleetSize is the fleet of TestReconnectFleet: 20 clients, as a small
// deploy has.
const fleetSize = 20

// TestReconnectFleet closes a fleet of 20 gorilla clients in one moment
// with 1012, as a deploy does. Naive clients, back at once, are a herd
// (wrong); careful ones, each waiting a random 5-15 s (within the IANA
// registration's 5-30 s, kept short for the test), are spread (ok).
func TestReconnectFleet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		wait    func() time.Duration
		verdict probe.Verdict
	}{
		{"naive: back at once", func() time.Duration { return 0 }, probe.Wrong},
		{"careful: a random 5-15 s", func() time.Duration { return 5*time.Second + rand.N(10*time.Second) }, probe.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := reasonstest.NewServer(reasonstest.Fleet(fleetSize), reasonstest.ClientTimeout(time.Second))
			defer srv.Close()
			done := make(chan struct{}, fleetSize)
			for range fleetSize {
				go func() {
					defer func() { done <- struct{}{} }()
					c, _, err := gorillaws.DefaultDialer.Dial(srv.URL+"/", nil)
					if err != nil {
						t.Error(err)
						return
					}
					for err == nil {
						_, _, err = c.ReadMessage()
					}
					c.Close()
					time.Sleep(tc.wait())
					if back, _, err := gorillaws.DefaultDialer.Dial(srv.URL+"/", nil); err == nil {
						back.Close()
					}
				}()
			}
			for range fleetSize {
				<-done
			}
			f := srv.Handler.Fleet()
			for end := time.Now().Add(3 * time.Second); f.Returns < fleetSize && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
				f = srv.Handler.Fleet()
			}
			if f.Returns != fleetSize || f.Verdict != tc.verdict {
				t.Errorf("%s; want %d back, %s", f, fleetSize, tc.verdict)
			}
			t.Logf("%s", f)
		})
	}
}
