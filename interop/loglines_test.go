package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsreasons/reasons/internal/rawserver"
	"github.com/wsreasons/reasons/internal/wsframe"
)

// The stacks whose names and log lines wsreason reads, where they run on
// this machine: Python's aiohttp and Starlette, and JSR 356's API (Debian's
// javax.websocket) run by Java's source launcher.
var (
	pythonStacks = outsidePeer{name: "Python aiohttp and Starlette", path: "/usr/bin/python3",
		files:   []string{"/usr/lib/python3/dist-packages/aiohttp/__init__.py", "/usr/lib/python3/dist-packages/starlette/status.py"},
		install: "Debian packages python3-aiohttp and python3-starlette"}
	jsr356 = outsidePeer{name: "JSR 356 API on Java", path: "/usr/bin/javac",
		files:   []string{"/usr/bin/java", websocketAPIJar},
		install: "Debian packages default-jdk-headless and libwebsocket-api-java"}
)

const websocketAPIJar = "/usr/share/java/websocket-api.jar"

// runPeer runs a peer's program with args in dir and returns its standard
// output; the process is killed after 20 s.
func runPeer(t *testing.T, path, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	cmd.WaitDelay = time.Second
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s%s", path, args, err, out, stderr.String())
	}
	return string(out)
}

// explained is one code wsreason -json reads from a line, as the test
// checks it.
type explained struct {
	Code   int    `json:"code"`
	Form   string `json:"form"`
	SentBy string `json:"sent_by"`
}

// explainWith runs the built wsreason on a log line.
func explainWith(t *testing.T, bin, line string) []explained {
	t.Helper()
	out, err := exec.Command(bin, "-json", line).Output()
	var doc struct {
		Codes []explained `json:"codes"`
	}
	if err != nil || json.Unmarshal(out, &doc) != nil {
		t.Fatalf("wsreason -json %q: %v\n%s", line, err, out)
	}
	return doc.Codes
}

// closeThenAwait is a raw server that sends a Close frame with code and
// reason first, then waits for the client's.
func closeThenAwait(code int, reason string) func(net.Conn, *bufio.Reader) {
	return func(conn net.Conn, br *bufio.Reader) {
		payload := append([]byte{byte(code >> 8), byte(code)}, reason...)
		conn.Write(wsframe.Append(nil, wsframe.OpClose, payload, nil))
		rawserver.AwaitClose(br)
	}
}

// TestLogLinesFromStacks has each stack on this machine print the line it
// logs for a close, and wsreason read that line: the codes, the stack's
// form, and who sent each code, all written here by hand.
func TestLogLinesFromStacks(t *testing.T) {
	t.Parallel()
	bin := buildWsreason(t)
	var rows lineRows
	defer func() { rows.check(t, "loglines", 7) }()
	t.Run("python-websockets", func(t *testing.T) {
		python := pythonWebsockets.peer.need(t)
		// The server closes first with 1011; the client echoes it.
		url := rawserver.Start(t, false, closeThenAwait(1011, "keepalive ping timeout"))
		line := strings.TrimSpace(runPeer(t, python, "testdata/python", "closeline.py", url))
		const want = "websockets.exceptions.ConnectionClosedError: received 1011 (unexpected error) keepalive ping timeout; then sent 1011 (unexpected error) keepalive ping timeout"
		if line != want {
			t.Errorf("websockets printed %q, want %q", line, want)
		}
		readme, err := os.ReadFile("../README.md")
		if err != nil || !strings.Contains(string(readme), "$ go run ./cmd/wsreason '"+line+"'") {
			t.Errorf("README.md does not explain the line websockets printed (%v): %s", err, line)
		}
		rows.add("Python websockets 10.4", line, checkExplained(t, bin, line, []explained{
			{1011, "Python websockets", "the peer"}, {1011, "Python websockets", "this side"},
		}))

		// The server cuts the connection with no Close frame: the 1006 line.
		url = rawserver.Start(t, false, func(net.Conn, *bufio.Reader) {})
		line = strings.TrimSpace(runPeer(t, python, "testdata/python", "closeline.py", url))
		if want := "websockets.exceptions.ConnectionClosedError: no close frame received or sent"; line != want {
			t.Errorf("websockets printed %q after a cut, want %q", line, want)
		}
		rows.add("Python websockets 10.4", line, checkExplained(t, bin, line, []explained{{1006, "Python websockets", ""}}))

		// The client closes first with 4001; the server answers 1000.
		url = rawserver.Start(t, false, rawserver.Answer(wsframe.Append(nil, wsframe.OpClose, []byte{0x03, 0xe8}, nil)))
		line = strings.TrimSpace(runPeer(t, python, "testdata/python", "closeline.py", url, "4001", "bye"))
		t.Logf("websockets: %s", line)
		rows.add("Python websockets 10.4", line, checkExplained(t, bin, line, []explained{
			{4001, "Python websockets", "this side"}, {1000, "Python websockets", "the peer"},
		}))
	})
	t.Run("coder", func(t *testing.T) {
		// coder/websocket's read error when the server cuts the connection.
		url := rawserver.Start(t, false, func(net.Conn, *bufio.Reader) {})
		ep, err := dialCoder(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer ep.drop()
		line := ep.readErr(timeout).Error()
		rows.add("coder/websocket 1.8.15", line, checkExplained(t, bin, line, []explained{{1006, "coder/websocket", ""}}))
	})
	t.Run("node-ws", func(t *testing.T) {
		node := nodeWS.peer.need(t)
		// 1005 may never be sent: ws fails the connection, naming the code.
		url := rawserver.Start(t, false, closeThenAwait(1005, ""))
		out := runPeer(t, node, "testdata/node", "closeline.js", url)
		line, _, _ := strings.Cut(out, "\n")
		t.Logf("ws: %s", strings.ReplaceAll(out, "\n", " | "))
		// ws's close event gives 1006: the Close frame it got carried no code
		// it may take, and ws closed the connection itself.
		if !strings.Contains(out, "close event code 1006") {
			t.Errorf("ws closed with %q, want 1006 after a Close frame with 1005", out)
		}
		rows.add("Node ws 8.23", line, checkExplained(t, bin, line, []explained{{1005, "Node ws", "the peer"}}))
	})
	t.Run("jsr356", func(t *testing.T) {
		jsr356.need(t)
		out := runPeer(t, "/usr/bin/java", "testdata/java", "-cp", websocketAPIJar, "CloseLines.java", "1008", "Policy violation", "4001", "")
		var lines []string
		for l := range strings.SplitSeq(out, "\n") {
			if rest, ok := strings.CutPrefix(l, "line "); ok {
				lines = append(lines, rest)
			}
		}
		if len(lines) != 2 {
			t.Fatalf("CloseLines printed %d lines, want 2:\n%s", len(lines), out)
		}
		t.Logf("JSR 356: %s and %s", lines[0], lines[1])
		rows.add("JSR 356 API 1.1", lines[0], checkExplained(t, bin, lines[0], []explained{{1008, "JSR 356/Jakarta", ""}}))
		rows.add("JSR 356 API 1.1", lines[1], checkExplained(t, bin, lines[1], []explained{{4001, "JSR 356/Jakarta", ""}}))
	})
}

// tableNames returns, for a stack, the names wsreason lists under
// also_called for the named codes, with their codes.
func tableNames(t *testing.T, bin string) func(stack string) map[string]int {
	t.Helper()
	out, err := exec.Command(bin, "-json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Codes []struct {
			Code       int `json:"code"`
			AlsoCalled []struct {
				Stack, Name string
			} `json:"also_called"`
		} `json:"codes"`
	}
	if err := json.Unmarshal(out, &table); err != nil {
		t.Fatal(err)
	}
	return func(stack string) map[string]int {
		names := map[string]int{}
		for _, c := range table.Codes {
			for _, a := range c.AlsoCalled {
				if a.Stack == stack {
					names[a.Name] = c.Code
				}
			}
		}
		return names
	}
}

// checkExplained runs wsreason on line and fails the test unless it reads
// want; it returns what it read.
func checkExplained(t *testing.T, bin, line string, want []explained) []explained {
	t.Helper()
	got := explainWith(t, bin, line)
	if !slices.Equal(got, want) {
		t.Errorf("wsreason %q:\n got %+v\nwant %+v", line, got, want)
	}
	return got
}

// lineRows are the rows of a README table of the lines stacks printed and
// what wsreason read in them; the subtests that ran add to it.
type lineRows struct {
	mu   sync.Mutex
	rows []string
}

func (l *lineRows) add(stack, line string, read []explained) {
	var codes []string
	for _, e := range read {
		c := strconv.Itoa(e.Code)
		if e.SentBy != "" {
			c += ", sent by " + e.SentBy
		}
		codes = append(codes, c)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rows = append(l.rows, fmt.Sprintf("| %s | `%s` | %s |", stack, line, strings.Join(codes, "; ")))
}

// check compares the README section name with the rows, when all want of
// them were added: a skipped peer leaves the table unchecked.
func (l *lineRows) check(t *testing.T, name string, want int) {
	t.Helper()
	if len(l.rows) != want {
		t.Logf("README table %s not checked: %d of its %d rows ran", name, len(l.rows), want)
		return
	}
	slices.Sort(l.rows)
	checkReadmeSection(t, name, "| stack | the line it printed | what wsreason reads |\n|---|---|---|\n"+strings.Join(l.rows, "\n")+"\n")
}

// TestStackNamesFromModules holds wsreason's names for aiohttp, Starlette
// and JSR 356 against the names the installed modules declare: each name
// must give its code, and wsreason must list no name the module lacks.
func TestStackNamesFromModules(t *testing.T) {
	t.Parallel()
	bin := buildWsreason(t)
	listed := tableNames(t, bin)
	check := func(t *testing.T, stack string, declared map[string]int) {
		if len(declared) < 10 {
			t.Fatalf("%s declares only %d names: %v", stack, len(declared), declared)
		}
		for name, code := range declared {
			out, err := exec.Command(bin, "-json", name).Output()
			var doc struct {
				Codes []struct{ Code int } `json:"codes"`
			}
			if err != nil || json.Unmarshal(out, &doc) != nil || len(doc.Codes) != 1 || doc.Codes[0].Code != code {
				t.Errorf("wsreason %s: %v %s; %s declares %d", name, err, out, stack, code)
			}
		}
		if got := listed(stack); !maps.Equal(got, declared) {
			t.Errorf("wsreason lists for %s %v; the module declares %v", stack, got, declared)
		}
	}
	t.Run("python", func(t *testing.T) {
		python := pythonStacks.need(t)
		var declared map[string]map[string]int
		if err := json.Unmarshal([]byte(runPeer(t, python, "testdata/python", "names.py")), &declared); err != nil {
			t.Fatal(err)
		}
		for _, stack := range []string{"aiohttp", "Starlette/FastAPI"} {
			check(t, stack, declared[stack])
		}
	})
	t.Run("jsr356", func(t *testing.T) {
		jsr356.need(t)
		declared := map[string]int{}
		for l := range strings.SplitSeq(runPeer(t, "/usr/bin/java", "testdata/java", "-cp", websocketAPIJar, "CloseLines.java"), "\n") {
			if f := strings.Fields(l); len(f) == 3 && f[0] == "name" {
				declared[f[1]], _ = strconv.Atoi(f[2])
			}
		}
		check(t, "JSR 356/Jakarta", declared)
	})
}
