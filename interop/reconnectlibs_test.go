package interop

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	gorillaws "github.com/gorilla/websocket"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/interop/examples/closehandler"
	"github.com/wsreasons/reasons/probe"
	"github.com/wsreasons/reasons/reasonstest"
)

// reconnectRow is one way a server ends a client's connections, again and
// again, for TestReconnectLibraries: a script of one code on /, a refused
// handshake, or a fleet closed at once.
type reconnectRow struct {
	name   string
	path   string           // where the client connects
	script []reasons.Reason // the code each connection on / is closed with
	fleet  bool             // fleetSize clients, closed together with 1012
	// window is how long the clients run from the server's first close:
	// as short as the rules allow, and long enough that each expected
	// verdict below is certain.
	window time.Duration
}

var reconnectRows = []reconnectRow{
	{name: "1012 ServiceRestart", path: "/", script: []reasons.Reason{1012}, window: 16 * time.Second},
	{name: "1013 TryAgainLater", path: "/", script: []reasons.Reason{1013}, window: 5500 * time.Millisecond},
	{name: "1000 Normal", path: "/", script: []reasons.Reason{1000}, window: 5500 * time.Millisecond},
	{name: "1008 PolicyViolation", path: "/", script: []reasons.Reason{1008}, window: 5500 * time.Millisecond},
	{name: "1006: TCP cut", path: "/", script: []reasons.Reason{1006}, window: 5500 * time.Millisecond},
	{name: "handshake refused: 401", path: "/status/401", window: 5500 * time.Millisecond},
	// Retry-After: 6 rather than 3: past the first delay of every client
	// here, so that each verdict is certain.
	{name: "handshake refused: 429, Retry-After: 6", path: "/status/429?retry-after=6", window: 5500 * time.Millisecond},
	{name: "a fleet of 20 closed with 1012", path: "/", fleet: true, window: 16 * time.Second},
}

// npmReconnecting is reconnecting-websocket and partysocket from npm, on
// Node's ws (testdata/node/reconnecting.js).
var npmReconnecting = outsidePeer{name: "reconnecting-websocket and partysocket", path: "node",
	files: []string{"testdata/node/node_modules/ws/package.json", "testdata/node/node_modules/reconnecting-websocket/package.json",
		"testdata/node/node_modules/partysocket/package.json"},
	install: "npm ci in interop/testdata/node"}

// reconnectLib is a reconnecting client of TestReconnectLibraries: run
// starts n of them against url and stops them when ctx ends.
type reconnectLib struct {
	name string
	run  func(ctx context.Context, t *testing.T, url string, n int)
	peer *outsidePeer
	// want is the verdict of each row, written by hand from the library's
	// documented behaviour: the worst verdict of its returns, or "not
	// back" when it did not return; for the fleet, the fleet's verdict.
	want []string
	// fast, when set, is a shorter window for the rows whose verdict the
	// client settles at once (a loop), to spare the machine.
	fast time.Duration
	// runs, when more than 1, is how many processes each cell runs, each
	// against its own server; the cell is the worst of their verdicts. A
	// client whose delay is drawn at random once per process (1-5 s for
	// reconnecting-websocket) otherwise lands, now and then, at the top of
	// its range, where a busy machine pushes its return past the 5 s after
	// 1012 that the verdict turns on.
	runs int
}

var reconnectLibs = []reconnectLib{
	// The README's handler (closehandler.Decide): back-off from 500 ms,
	// doubling, with jitter; after 1012 a random 5-15 s (within the IANA
	// registration's 5-30 s, kept short); no return when it says done,
	// elsewhere or give up, nor after a refused handshake, which is no close.
	{name: "README handler, gorilla", run: carefulLoop(dialGorillaReader),
		want: []string{"ok", "not back", "not back", "not back", "ok", "not back", "not back", "ok"}},
	{name: "README handler, coder", run: carefulLoop(dialCoderReader),
		want: []string{"ok", "not back", "not back", "not back", "ok", "not back", "not back", "ok"}},
	// `async for ws in connect(url)`: back at once after every close (its
	// back-off starts again after each handshake), so every close row is a
	// loop; after a refused handshake it waits a random 0-5 s, then 3 s.
	{name: "Python websockets, connect loop", run: processLoop(pythonWebsockets.peer, pythonWebsockets.dir, "connect_loop.py"), peer: &pythonWebsockets.peer,
		want: []string{"wrong", "wrong", "wrong", "wrong", "wrong", "tolerated", "wrong", "wrong"}, fast: 3 * time.Second},
	// Default options: a first delay of 1-5 s (random once per process),
	// growing 1.3 times a try; it comes back after every close and every
	// refusal, and reads no Retry-After.
	{name: "reconnecting-websocket 4.4.0", run: processLoop(npmReconnecting, nodeWS.dir, "reconnecting.js", "reconnecting-websocket"), peer: &npmReconnecting,
		want: []string{"wrong", "wrong", "tolerated", "tolerated", "ok", "tolerated", "wrong", "wrong"}, runs: 2},
	// Default options: a first delay of 3 s, the same for every client,
	// growing 1.3 times a try; otherwise as reconnecting-websocket.
	{name: "partysocket 1.3.0", run: processLoop(npmReconnecting, nodeWS.dir, "reconnecting.js", "partysocket"), peer: &npmReconnecting,
		want: []string{"wrong", "wrong", "tolerated", "tolerated", "ok", "tolerated", "wrong", "wrong"}},
	// Back at once after anything, handshake errors included.
	{name: "naive loop", run: naiveLoop,
		want: []string{"wrong", "wrong", "wrong", "wrong", "wrong", "wrong", "wrong", "wrong"}, fast: 3 * time.Second},
}

// reader reads a connection until it ends and returns why.
type reader func() error

func dialGorillaReader(ctx context.Context, url string) (reader, func(), error) {
	c, _, err := gorillaws.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, nil, err
	}
	return func() error {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return err
			}
		}
	}, func() { c.Close() }, nil
}

func dialCoderReader(ctx context.Context, url string) (reader, func(), error) {
	c, _, err := coderws.Dial(ctx, url, nil)
	if err != nil {
		return nil, nil, err
	}
	return func() error {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return err
			}
		}
	}, func() { c.CloseNow() }, nil
}

// carefulLoop is the README's handler around a library's dial: n clients,
// each reconnecting as closehandler.Decide says.
func carefulLoop(dial func(context.Context, string) (reader, func(), error)) func(context.Context, *testing.T, string, int) {
	return func(ctx context.Context, t *testing.T, url string, n int) {
		eachClient(n, func() {
			backoff := 500 * time.Millisecond
			for ctx.Err() == nil {
				read, closeConn, err := dial(ctx, url)
				if err != nil {
					return // a refused handshake is no close: give up
				}
				stop := context.AfterFunc(ctx, closeConn) // a held connection ends with the run
				err = read()
				stop()
				closeConn()
				action, _ := closehandler.Decide(err)
				if action != closehandler.Reconnect {
					return
				}
				wait := backoff + rand.N(backoff/2)
				backoff *= 2
				if r, _, _ := reasons.FromError(err); r.Advice() == reasons.AdviceReconnectLater {
					wait = 5*time.Second + rand.N(10*time.Second)
				}
				select {
				case <-ctx.Done():
				case <-time.After(wait):
				}
			}
		})
	}
}

// eachClient runs n clients, each f, at once, and returns when all have.
func eachClient(n int, f func()) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	wg.Wait()
}

// naiveLoop comes back at once after anything, refused handshakes too,
// at most 20 times a client.
func naiveLoop(ctx context.Context, t *testing.T, url string, n int) {
	eachClient(n, func() {
		for range 20 {
			if ctx.Err() != nil {
				return
			}
			if read, closeConn, err := dialGorillaReader(ctx, url); err == nil {
				stop := context.AfterFunc(ctx, closeConn)
				read()
				stop()
				closeConn()
			}
		}
	})
}

// processLoop runs a script of an outside peer with the URL and n; the
// process is killed when ctx ends.
func processLoop(peer outsidePeer, dir, script string, args ...string) func(context.Context, *testing.T, string, int) {
	return func(ctx context.Context, t *testing.T, url string, n int) {
		path, err := exec.LookPath(peer.path) // the test has checked the peer
		if err != nil {
			t.Error(err)
			return
		}
		cmd := exec.CommandContext(ctx, path, append(append([]string{script}, args...), url, strconv.Itoa(n))...)
		cmd.Dir = dir
		cmd.WaitDelay = time.Second
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); ctx.Err() == nil {
			t.Errorf("%s %s stopped by itself: %v\n%s", path, script, err, out.String())
		}
	}
}

// cell is what TestReconnectLibraries writes of one run: the worst verdict
// of the client's returns, or "not back"; for a fleet, its verdict.
func cell(srv *reasonstest.Server, fleet bool) string {
	if fleet {
		return string(srv.Handler.Fleet().Verdict)
	}
	worst, back := "", false
	rank := map[probe.Verdict]int{probe.OK: 1, probe.Tolerated: 2, probe.Wrong: 3}
	for _, r := range srv.Reconnects() {
		if r.Back {
			back = true
			if rank[r.Verdict] > rank[probe.Verdict(worst)] {
				worst = string(r.Verdict)
			}
		}
	}
	if !back {
		return "not back"
	}
	return worst
}

// runReconnectCell runs lib against a server that ends connections as row
// says, for the row's window, lib.runs times at once, and returns the
// worst cell; it reports a cell that is not the one written by hand.
func runReconnectCell(t *testing.T, lib reconnectLib, ri int, row reconnectRow) string {
	if lib.runs < 2 {
		return runReconnectOnce(t, lib, ri, row, true)
	}
	cells := make([]string, lib.runs)
	var wg sync.WaitGroup
	for i := range cells {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cells[i] = runReconnectOnce(t, lib, ri, row, false)
		}()
	}
	wg.Wait()
	rank := map[string]int{"not back": 0, "ok": 1, "tolerated": 2, "wrong": 3}
	worst := cells[0]
	for _, c := range cells[1:] {
		if rank[c] > rank[worst] {
			worst = c
		}
	}
	if worst != lib.want[ri] {
		t.Errorf("%s, %s: %q in %d runs, want %s", lib.name, row.name, cells, lib.runs, lib.want[ri])
	}
	return worst
}

// runReconnectOnce is one run of a cell; with report, it reports a cell
// that is not the one written by hand, with the rows that made it.
func runReconnectOnce(t *testing.T, lib reconnectLib, ri int, row reconnectRow, report bool) string {
	opts := []reasonstest.ServerOption{reasonstest.Script(row.script...), reasonstest.ClientTimeout(time.Second)}
	n := 1
	if row.fleet {
		n = fleetSize
		opts = append(opts, reasonstest.Fleet(fleetSize))
	}
	srv := reasonstest.NewServer(opts...)
	defer srv.Close()
	window := row.window
	if lib.fast > 0 && (row.script != nil || row.fleet) {
		window = lib.fast
	}
	// The window starts at the server's first close (or refusal), so that
	// the time a process takes to start does not count.
	ctx, cancel := context.WithTimeout(context.Background(), window+15*time.Second)
	defer cancel()
	go func() {
		for ctx.Err() == nil && len(srv.Events()) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		select {
		case <-ctx.Done():
		case <-time.After(window):
			cancel()
		}
	}()
	lib.run(ctx, t, srv.URL+row.path, n)
	<-ctx.Done()
	c := cell(srv, row.fleet)
	if report && c != lib.want[ri] {
		var rows []string
		for _, r := range srv.Reconnects() {
			rows = append(rows, fmt.Sprintf("step %d×%d back %v after %v: %s %s", r.Step, r.Count, r.Back, r.BackAfter.Round(time.Millisecond), r.Verdict, r.Rule))
		}
		if f := srv.Handler.Fleet(); f != nil {
			rows = append(rows, f.String())
		}
		t.Errorf("%s, %s: %s, want %s:\n%s", lib.name, row.name, c, lib.want[ri], strings.Join(rows, "\n"))
	}
	return c
}

// TestReconnectLibraries runs real reconnecting clients against each way a
// server ends connections, all at once, each for the row's window, and
// checks the verdict of each against the table above, written by hand.
// The README table is made from what was observed.
func TestReconnectLibraries(t *testing.T) {
	t.Parallel()
	got := make([][]string, len(reconnectRows))
	for i := range got {
		got[i] = make([]string, len(reconnectLibs))
	}
	// Every cell at once, each in its own goroutine: the windows are what
	// take time, and go test's -parallel (GOMAXPROCS) would queue them.
	for _, lib := range reconnectLibs {
		if lib.peer != nil {
			lib.peer.need(t) // skips the table, or fails under REASONS_REQUIRE_PEERS=1
		}
	}
	var wg sync.WaitGroup
	for ci, lib := range reconnectLibs {
		for ri, row := range reconnectRows {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[ri][ci] = runReconnectCell(t, lib, ri, row)
			}()
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var b strings.Builder
	b.WriteString("| the server |")
	for _, lib := range reconnectLibs {
		b.WriteString(" " + lib.name + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(reconnectLibs)) + "\n")
	for ri, row := range reconnectRows {
		b.WriteString("| " + row.name + " |")
		for ci := range reconnectLibs {
			c := got[ri][ci]
			if c == "wrong" {
				c = "**wrong**"
			}
			b.WriteString(" " + c + " |")
		}
		b.WriteString("\n")
	}
	checkReadmeSection(t, "reconnectlibs", b.String())
}
