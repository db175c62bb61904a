package interop

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/probe"
)

// The fleet each deploy ends: most clients on Go's client libraries, a
// share on Node's ws and on Python websockets.
const (
	deployGoClients   = 800
	deployNodeClients = 100
	deployPyClients   = 100
	deployClients     = deployGoClients + deployNodeClients + deployPyClients
	deploySpread      = 5 * time.Second
	// deployWait bounds how long a client waits for its end after the
	// deploy began; one still open then is reported as such.
	deployWait = 20 * time.Second
)

// deployMode is one of the three ways TestDeploys stops each server.
type deployMode struct {
	name string // as the table says it, after the stack's own stop
	plan deployPlan
}

var deployModes = []deployMode{
	{"alone, then exit", deployPlan{}},
	{"with `drain.Group` (1012)", deployPlan{drain: true, code: reasons.ServiceRestart}},
	{"with `drain.Group`, `Spread` " + deploySpread.String(), deployPlan{drain: true, code: reasons.ServiceRestart, spread: deploySpread}},
}

// clientEnd is how one client saw its connection end: the code its library
// reported (1006 when no Close frame came, 0 when still open at the
// deadline), the text, and when; or, when its library refused the Close
// frame, the library and its error.
type clientEnd struct {
	code    int
	text    string
	at      time.Time
	refused string
}

// deployResult is what one deploy of one server did to its fleet.
type deployResult struct {
	ends  []clientEnd
	start time.Time     // when the deploy began
	took  time.Duration // until it returned
	err   error         // what it returned
}

// TestDeploys ends a fleet of 1,000 real clients on a server on each Go
// stack, three ways: the stack's own shutdown and the process's exit, then
// those with a drain.Group sending 1012, then with its Spread. The table in
// README.md says what the clients saw. Its codes are compared exactly;
// the times are measured anew each run, and -update writes them.
func TestDeploys(t *testing.T) {
	nodeWS.peer.need(t)
	pythonWebsockets.peer.need(t)
	t.Parallel()
	// Each stack's run holds a server's and the Go clients' descriptors in
	// this process; as many run at once as the limit allows.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	perStack := uint64(deployClients + deployGoClients + 200)
	if lim.Cur < perStack+1000 {
		t.Fatalf("open file limit %d: a deploy of %d clients needs %d descriptors; raise it with ulimit -n", lim.Cur, deployClients, perStack+1000)
	}
	slots := make(chan struct{}, min(len(deployStacks), int((lim.Cur-1000)/perStack)))

	results := make([][]deployResult, len(deployStacks))
	wall := time.Now()
	t.Run("stacks", func(t *testing.T) {
		for i, st := range deployStacks {
			t.Run(st.name, func(t *testing.T) {
				t.Parallel()
				slots <- struct{}{}
				defer func() { <-slots }()
				for _, m := range deployModes {
					res := runDeploy(t, st, m.plan)
					checkDeploy(t, m, res)
					results[i] = append(results[i], res)
				}
			})
		}
	})
	t.Logf("six stacks, three deploys each, %d clients each: %v", deployClients, time.Since(wall).Round(100*time.Millisecond))
	if t.Failed() {
		return
	}
	checkSectionMeasured(t, "README.md", "deploys", deployTable(results), 5, 6, 7)
}

// runDeploy starts a server on st, opens the fleet, runs the deploy that
// plan says and reports how each client's connection ended.
func runDeploy(t *testing.T, st deployStack, plan deployPlan) deployResult {
	url, deploy := st.start(t, plan)
	ctx, cancel := context.WithTimeout(context.Background(), deployWait)
	defer cancel()
	node := startFleet(ctx, t, nodeWS, url, deployNodeClients)
	py := startFleet(ctx, t, pythonWebsockets, url, deployPyClients)
	goEnds, err := dialGoFleet(ctx, url, deployGoClients)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []*fleetProc{node, py} {
		if err := f.awaitOpen(); err != nil {
			t.Fatal(err)
		}
	}
	res := deployResult{start: time.Now()}
	res.err = deploy(ctx)
	res.took = time.Since(res.start)
	res.ends = append(append(goEnds(), node.awaitEnds()...), py.awaitEnds()...)
	return res
}

// checkDeploy checks what the table cannot show by itself: a drained
// server stops without error, every client sees 1012 and "deploy", and a
// spread drain does not send half the fleet back within one second.
func checkDeploy(t *testing.T, m deployMode, res deployResult) {
	if !m.plan.drain {
		return
	}
	if res.err != nil {
		t.Errorf("%s: the deploy returned %v", m.name, res.err)
	}
	for _, e := range res.ends {
		if e.refused != "" && m.plan.code >= reasons.ServiceRestart && strings.HasPrefix(e.refused, "gobwas: ") {
			continue // gobwas refuses 1012-1015 (TestPairs); the table shows it
		}
		if e.code != int(m.plan.code) || e.text != "deploy" {
			t.Errorf("%s: a client saw %d %q, want %d \"deploy\" (%s in all)", m.name, e.code, e.text, m.plan.code, codesSeen(res.ends))
			break
		}
	}
	if f := returnsOf(res); m.plan.spread > 0 && 2*f.InSecond > len(res.ends) {
		t.Errorf("%s: %d of %d clients saw their close within one second", m.name, f.InSecond, len(res.ends))
	}
}

// returnsOf is the fleet computation of `wsreason serve` over the times at
// which the clients saw their connections end, as if each came back then.
func returnsOf(res deployResult) *probe.FleetReport {
	var times []time.Duration
	for _, e := range res.ends {
		if e.code != 0 {
			times = append(times, e.at.Sub(res.start))
		}
	}
	return probe.FleetOf(len(res.ends), reasons.ServiceRestart, times)
}

// codesSeen says how many clients saw each end, most first: `1000 × 1006`.
func codesSeen(ends []clientEnd) string {
	type seen struct {
		what string
		n    int
	}
	var all []seen
	for _, e := range ends {
		what := "still open"
		switch {
		case e.refused != "":
			what = "refused by " + e.refused
		case e.code != 0 && e.text != "":
			what = fmt.Sprintf("%d %q", e.code, e.text)
		case e.code != 0:
			what = strconv.Itoa(e.code)
		}
		i := slices.IndexFunc(all, func(s seen) bool { return s.what == what })
		if i < 0 {
			all = append(all, seen{what: what})
			i = len(all) - 1
		}
		all[i].n++
	}
	slices.SortFunc(all, func(a, b seen) int { return cmp.Or(b.n-a.n, strings.Compare(a.what, b.what)) })
	var parts []string
	for _, s := range all {
		parts = append(parts, fmt.Sprintf("%d × %s", s.n, s.what))
	}
	return strings.Join(parts, ", ")
}

// deployTable is the README's table of the deploys.
func deployTable(results [][]deployResult) string {
	var b strings.Builder
	b.WriteString("| stack | stopped by its own shutdown | what the 1,000 clients saw | saw 1006 | stop took | clients' closes after the stop began: first, median, p90, last | most within 1 s |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	ms := func(d time.Duration) string {
		if d < 10*time.Millisecond {
			return d.Round(100 * time.Microsecond).String()
		}
		return d.Round(time.Millisecond).String()
	}
	for i, st := range deployStacks {
		for j, m := range deployModes {
			res := results[i][j]
			n1006 := 0
			for _, e := range res.ends {
				if e.code == 1006 {
					n1006++
				}
			}
			f := returnsOf(res)
			fmt.Fprintf(&b, "| %s | `%s` %s | %s | %d%% | %s | %s, %s, %s, %s | %d |\n",
				st.name, st.stop, m.name, codesSeen(res.ends), 100*n1006/len(res.ends), ms(res.took),
				ms(f.First), ms(f.Median), ms(f.P90), ms(f.Last), f.InSecond)
		}
	}
	return b.String()
}

// checkSectionMeasured is checkSection for a table whose columns at the
// given indexes (from 1, as split by "|") hold measurements: they are left
// out of the comparison, and -update writes them as measured.
func checkSectionMeasured(t *testing.T, path, name, content string, measured ...int) {
	t.Helper()
	mask := func(s string) string {
		lines := strings.Split(s, "\n")
		for i, line := range lines {
			cells := strings.Split(line, "|")
			for _, c := range measured {
				if strings.HasPrefix(line, "|") && c < len(cells)-1 && !strings.HasPrefix(cells[c], "---") {
					cells[c] = " … "
				}
			}
			lines[i] = strings.Join(cells, "|")
		}
		return strings.Join(lines, "\n")
	}
	if *update {
		checkSection(t, path, name, content)
		return
	}
	readmeMu.Lock()
	defer readmeMu.Unlock()
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok1 := strings.Cut(string(readme), "<!-- BEGIN "+name+" -->\n")
	current, _, ok2 := strings.Cut(rest, "<!-- END "+name+" -->")
	if !ok1 || !ok2 {
		t.Fatalf("%s lacks the markers of its %q section", path, name)
	}
	if mask(current) != mask(content) {
		t.Errorf("%s's %q section differs from what the test observed, beyond its measured columns; if the change is intended, rerun with -update.\nobserved:\n%s", path, name, content)
	}
}

// dialGoFleet opens n connections to url, spread over the Go client
// libraries, each reading until its connection ends. ends waits for all
// of them.
func dialGoFleet(ctx context.Context, url string, n int) (ends func() []clientEnd, err error) {
	out := make([]clientEnd, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	var dialers sync.WaitGroup
	for range 8 {
		dialers.Add(1)
		go func() {
			defer dialers.Done()
			for i := range next {
				lib := libraries[i%len(libraries)]
				ep, err := lib.dial(ctx, url)
				if err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, fmt.Errorf("%s dial: %w", lib.name, err))
					mu.Unlock()
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer ep.drop()
					deadline, _ := ctx.Deadline()
					err := ep.readErr(time.Until(deadline))
					out[i].at = time.Now()
					code, text, ok := ep.closeOf(err)
					switch {
					case ok && code == 1006:
						text = "" // the library's words, not a Close frame's
					case ok:
					case !out[i].at.Before(deadline) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
						code = 0
					case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET):
						code, text = 1006, "" // what the library's users are told to read this as
					default:
						code, out[i].refused = -1, fmt.Sprintf("%s: %v", lib.name, err)
					}
					out[i].code, out[i].text = code, text
				}()
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	dialers.Wait()
	return func() []clientEnd { wg.Wait(); return out }, firstErr
}

// fleetProc is a fleet of clients in an outside peer's process.
type fleetProc struct {
	name  string
	n     int
	lines chan string
	err   *lockedBuffer
}

// startFleet starts sp's deploy script with n connections to url; the
// process is killed when ctx ends or the test does.
func startFleet(ctx context.Context, t *testing.T, sp scriptedPeer, url string, n int) *fleetProc {
	path := sp.peer.need(t)
	script := "deploy.py"
	if strings.HasSuffix(sp.script, ".js") {
		script = "deploy.js"
	}
	cmd := exec.CommandContext(ctx, path, script, url, strconv.Itoa(n))
	cmd.Dir = sp.dir
	cmd.WaitDelay = time.Second
	f := &fleetProc{name: sp.name, n: n, lines: make(chan string, n+1), err: &lockedBuffer{}}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = f.err
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", sp.name, err)
	}
	exited := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f.lines <- sc.Text()
		}
		close(f.lines)
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return f
}

// awaitOpen waits for the fleet's line saying all its connections are open.
func (f *fleetProc) awaitOpen() error {
	select {
	case line, ok := <-f.lines:
		if ok && (line == fmt.Sprintf(`{"open":%d}`, f.n) || line == fmt.Sprintf(`{"open": %d}`, f.n)) {
			return nil
		}
		return fmt.Errorf("%s: %q instead of its %d connections open; stderr:\n%s", f.name, line, f.n, f.err.String())
	case <-time.After(deployWait):
		return fmt.Errorf("%s: its %d connections were not open within %v; stderr:\n%s", f.name, f.n, deployWait, f.err.String())
	}
}

// awaitEnds reads one end per connection until the process exits; those
// it did not report are still open.
func (f *fleetProc) awaitEnds() []clientEnd {
	ends := make([]clientEnd, 0, f.n)
	for line := range f.lines {
		var e struct {
			Code   int    `json:"code"`
			Reason string `json:"reason"`
			At     int64  `json:"at"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.At != 0 && len(ends) < f.n {
			ends = append(ends, clientEnd{code: e.Code, text: e.Reason, at: time.UnixMilli(e.At)})
		}
	}
	for len(ends) < f.n {
		ends = append(ends, clientEnd{})
	}
	return ends
}
