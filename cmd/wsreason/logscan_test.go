package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsreasons/reasons"
)

// TestLogKeywords: every form holds one of the keywords in the literal
// text of its pattern, so the keyword search never skips a line a form
// would match.
func TestLogKeywords(t *testing.T) {
	for i, f := range logForms {
		found := false
		for _, run := range literalRuns(f.re.String()) {
			for _, k := range logKeywords {
				found = found || strings.Contains(run, k)
			}
		}
		if !found {
			t.Errorf("form %d (%s) %q holds none of the keywords %q", i, f.stack, f.re, logKeywords)
		}
		if formAnchors[i] == "" {
			t.Errorf("form %d (%s) %q has no literal text", i, f.stack, f.re)
		}
	}
}

// TestScanLogCounts: a log of several stacks' lines, counted by how it was
// built; numbers outside a form (a port, a duration, a bare 1006) are no
// close.
func TestScanLogCounts(t *testing.T) {
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, "conn %d: websocket: close 1006 (abnormal closure): unexpected EOF\n", i)
	}
	for range 2 {
		b.WriteString("websockets.exceptions.ConnectionClosedOK: sent 1000 (OK); then received 1001 (going away)\r\n")
	}
	b.WriteString("websockets.exceptions.ConnectionClosedError: no close frame received or sent\n")
	b.WriteString("listening on port 1006, took 1001ms, status=200 code 1000\n")
	b.WriteString("1006\n")
	b.WriteString("session ended: CloseStatus[code=4001, reason=bye]") // no final newline
	s, err := scanLog(strings.NewReader(b.String()), maxLogLine)
	if err != nil {
		t.Fatal(err)
	}
	want := map[reasons.Reason][4]int64{ // count, by the peer, by this side, not said
		1006: {4, 0, 0, 4},
		1000: {2, 0, 2, 0},
		1001: {2, 2, 0, 0},
		4001: {1, 0, 0, 1},
	}
	if s.Lines != 9 || s.CloseLines != 7 || len(s.Codes) != len(want) {
		t.Fatalf("%d lines, %d with a close, %d codes; want 9, 7, %d: %+v", s.Lines, s.CloseLines, len(s.Codes), len(want), s)
	}
	for _, c := range s.Codes {
		if w := want[c.Code]; [4]int64{c.Count, c.ByPeer, c.ByUs, c.NotSaid} != w {
			t.Errorf("%d: %+v, want %v", c.Code, c, w)
		}
	}
	if s.Codes[0].Code != 1006 || s.Codes[0].First != "conn 0: websocket: close 1006 (abnormal closure): unexpected EOF" ||
		strings.Join(s.Codes[0].Forms, ", ") != "gorilla/websocket, Python websockets" {
		t.Errorf("the first row: %+v", s.Codes[0])
	}
}

// TestScanLogLongLine: a line of 10 MB, past maxLogLine and the block
// size, is skipped and counted as such; the lines around it are read.
func TestScanLogLongLine(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("websocket: close 1001 (going away)\n")
	b.WriteString("close 1000 ")
	b.Write(bytes.Repeat([]byte("x"), 10<<20))
	b.WriteString(" close 1000\n")
	b.WriteString("websocket: close 1001 (going away)\n")
	s, err := scanLog(&b, maxLogLine)
	if err != nil {
		t.Fatal(err)
	}
	if s.Skipped != 1 || len(s.Codes) != 1 || s.Codes[0].Code != 1001 || s.Codes[0].Count != 2 {
		t.Errorf("%+v; want the long line skipped and 2 × 1001", s)
	}
}

// TestScanLogAgainstLines: a log of several blocks, its close lines
// anywhere, block boundaries included, counts as reading it line by line
// does.
func TestScanLogAgainstLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var b bytes.Buffer
	for b.Len() < 3*logChunk+12345 {
		if rng.IntN(50) == 0 {
			fmt.Fprintf(&b, benchCloses[rng.IntN(len(benchCloses))]+"\n", rng.IntN(1000))
		} else {
			fmt.Fprintf(&b, benchPlain[rng.IntN(len(benchPlain))]+"\n", rng.IntN(1000), rng.IntN(1000), rng.IntN(1000))
		}
	}
	want := map[reasons.Reason]int64{}
	var lines, closeLines int64
	sc := bufio.NewScanner(bytes.NewReader(b.Bytes()))
	for sc.Scan() {
		lines++
		hits := findInLine(sc.Text())
		if len(hits) > 0 {
			closeLines++
		}
		for _, h := range hits {
			want[h.code]++
		}
	}
	s, err := scanLog(bytes.NewReader(b.Bytes()), maxLogLine)
	if err != nil {
		t.Fatal(err)
	}
	if s.Lines != lines || s.CloseLines != closeLines || len(s.Codes) != len(want) || closeLines == 0 {
		t.Fatalf("%d lines, %d with a close, %d codes; line by line: %d, %d, %d", s.Lines, s.CloseLines, len(s.Codes), lines, closeLines, len(want))
	}
	for _, c := range s.Codes {
		if c.Count != want[c.Code] {
			t.Errorf("%d: %d, line by line %d", c.Code, c.Count, want[c.Code])
		}
	}
}

// TestLogCommand: -log reads a file or standard input, -json gives one
// document, and a file that is not there is a clear error, exit 2.
func TestLogCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(path, []byte("x\nstatus = StatusGoingAway and reason = \"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-log", path}, strings.NewReader(""), &stdout, &stderr); code != exitOK ||
		!strings.HasPrefix(stdout.String(), "2 lines, 1 with a close code.\n\n1001 GoingAway: 1 time (sent by the peer 0, by this side 0, not said 1); advice: reconnect\n") {
		t.Errorf("-log FILE: exit %d, %q, %q", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	code := run([]string{"-json", "-log", "-"}, strings.NewReader("ws closed: 1008 policy\n"), &stdout, &stderr)
	var doc logSummary
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil || code != exitOK || doc.Lines != 1 || len(doc.Codes) != 1 || doc.Codes[0].Code != 1008 {
		t.Errorf("-json -log -: exit %d, %v, %s", code, err, stdout.String())
	}
	stdout.Reset()
	missing := filepath.Join(t.TempDir(), "none.log")
	if code := run([]string{"-log", missing}, strings.NewReader(""), &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), missing) {
		t.Errorf("-log of a missing file: exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"-log", "-", "1000"}, strings.NewReader(""), &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "-log takes no other arguments") {
		t.Errorf("-log with a code: exit %d, stderr %q", code, stderr.String())
	}
}
