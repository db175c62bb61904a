package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp/syntax"
	"runtime/debug"
	"slices"
	"strings"
	"sync"

	"github.com/wsreasons/reasons"
)

// maxLogLine bounds the lines -log reads: a longer one is skipped, and the
// summary says how many were.
const maxLogLine = 1 << 20

// logMemoryLimit is the Go runtime's soft memory limit while -log runs.
const logMemoryLimit = 20 << 20

// logChunk is how much of a log -log reads at a time.
const logChunk = 2 << 20

// logKeywords are the words every close in a log line has one of: each
// form of logForms holds one in the literal text of its pattern (a test
// checks it). Lines with none are not looked at again, so that a log is
// read at the speed of one pass of keywordScan over it.
var logKeywords = []string{
	"lose", "code", "status = ", "ebSocket", "sent ", "ceived ", "frame header", "connection to",
}

// keywordScan is an Aho-Corasick automaton over logKeywords, as a table:
// the state after byte c in state s is next[s<<8|c], with keywordHit set
// when a keyword ends there.
var keywordScan = newKeywordAutomaton(logKeywords)

const keywordHit = 1 << 15

// newKeywordAutomaton builds the automaton that finds any of words.
func newKeywordAutomaton(words []string) []uint16 {
	// The trie, then the failure links breadth first, then every
	// transition filled in from them.
	children := [][256]int32{{}}
	final := []bool{false}
	for _, w := range words {
		s := 0
		for i := 0; i < len(w); i++ {
			c := w[i]
			if children[s][c] == 0 {
				children = append(children, [256]int32{})
				final = append(final, false)
				children[s][c] = int32(len(children) - 1)
			}
			s = int(children[s][c])
		}
		final[s] = true
	}
	n := len(children)
	next := make([]uint16, n<<8)
	fail := make([]int, n)
	queue := []int{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if final[fail[s]] {
			final[s] = true // a keyword ends inside this one
		}
		for c := range 256 {
			t := int(children[s][c])
			switch {
			case t != 0:
				if s != 0 {
					fail[t] = int(next[fail[s]<<8|c] &^ keywordHit)
				}
				next[s<<8|c] = uint16(t)
				queue = append(queue, t)
			case s != 0:
				next[s<<8|c] = next[fail[s]<<8|c] &^ keywordHit
			}
		}
	}
	for i, t := range next {
		if final[t] {
			next[i] = t | keywordHit
		}
	}
	return next
}

// formAnchors holds, for each of logForms, the longest literal text every
// match of its pattern holds: a line without it is not run through the
// pattern.
var formAnchors = func() []string {
	a := make([]string, len(logForms))
	for i, f := range logForms {
		a[i] = longestLiteral(f.re.String())
	}
	return a
}()

// literalRuns returns the runs of literal text at the top level of the
// pattern expr: text every match holds.
func literalRuns(expr string) []string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	var runs []string
	var cur strings.Builder
	for _, s := range subs {
		if s.Op == syntax.OpLiteral && s.Flags&syntax.FoldCase == 0 {
			cur.WriteString(string(s.Rune))
			continue
		}
		if cur.Len() > 0 {
			runs = append(runs, cur.String())
			cur.Reset()
		}
	}
	if cur.Len() > 0 {
		runs = append(runs, cur.String())
	}
	return runs
}

// longestLiteral is the longest of literalRuns, or "" when there is none.
func longestLiteral(expr string) string {
	longest := ""
	for _, r := range literalRuns(expr) {
		if len(r) > len(longest) {
			longest = r
		}
	}
	return longest
}

// logCode is one row of a log's summary: a code, and how the log showed it.
type logCode struct {
	Code    reasons.Reason `json:"code"`
	Name    string         `json:"name,omitempty"`
	Count   int64          `json:"count"`
	ByPeer  int64          `json:"sent_by_peer"`
	ByUs    int64          `json:"sent_by_this_side"`
	NotSaid int64          `json:"sent_by_not_said"`
	Forms   []string       `json:"forms"`
	Advice  string         `json:"advice"`
	First   string         `json:"first_line"` // the first line it came from
}

// logSummary is what -log found in a log.
type logSummary struct {
	Lines      int64     `json:"lines"`
	CloseLines int64     `json:"close_lines"` // lines with at least one code
	Skipped    int64     `json:"skipped_long_lines,omitempty"`
	Codes      []logCode `json:"codes"`
	maxLine    int
}

// scanLog reads a log to its end as a stream and counts every close it
// shows, by code. A line longer than maxLine is skipped and counted. One
// goroutine reads the next blocks while two search the last one.
func scanLog(r io.Reader, maxLine int) (*logSummary, error) {
	s := &logSummary{maxLine: maxLine}
	byCode := map[reasons.Reason]*logCode{}
	free := make(chan []byte, 3)
	for range 3 {
		free <- make([]byte, 0, logChunk+maxLine)
	}
	full := make(chan []byte, 2)
	var readErr error
	var skipped int64
	go func() {
		defer close(full)
		skipped, readErr = readBlocks(r, maxLine, free, full)
	}()
	for block := range full {
		s.Lines += int64(bytes.Count(block, []byte{'\n'}))
		s.scanBlock(block, byCode)
		free <- block[:0]
	}
	s.Skipped += skipped
	for _, c := range byCode {
		s.Codes = append(s.Codes, *c)
	}
	slices.SortFunc(s.Codes, func(a, b logCode) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Code, b.Code)) })
	return s, readErr
}

// readBlocks reads r into buffers from free and sends each to full holding
// whole lines only, each ending in '\n', until r ends or fails. It skips
// lines longer than maxLine, and returns how many it skipped.
func readBlocks(r io.Reader, maxLine int, free <-chan []byte, full chan<- []byte) (int64, error) {
	var skipped int64
	carry := make([]byte, 0, maxLine+1) // the start of a line the last block cut
	skipping := false                   // inside a line longer than maxLine
	for {
		buf := append(<-free, carry...)
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return skipped, err
		}
		if eof && len(buf) > 0 && buf[len(buf)-1] != '\n' {
			buf = append(buf, '\n') // the last line, without its newline
		}
		end := bytes.LastIndexByte(buf, '\n') + 1
		block, rest := buf[:end], buf[end:]
		switch {
		case skipping && end == 0:
			rest = nil // still inside the long line
		case skipping:
			// The rest of a long line: drop it up to its end.
			block, skipping = block[bytes.IndexByte(block, '\n')+1:], false
		}
		if len(rest) > maxLine {
			// A line longer than maxLine: skip it to its end.
			skipped++
			skipping, rest = true, nil
		}
		carry = append(carry[:0], rest...)
		full <- block
		if eof {
			return skipped, nil
		}
	}
}

// lineHits is a line of a block and the codes found in it.
type lineHits struct {
	line string
	hits []found
}

// scanBlock finds the lines of block, whole lines each ending in '\n', that
// hold a keyword, and counts the codes in them. The two halves of a block
// of more than a megabyte are searched at once.
func (s *logSummary) scanBlock(block []byte, byCode map[reasons.Reason]*logCode) {
	half := len(block)
	if len(block) > 1<<20 {
		half = lineCut(block, len(block)/2)
	}
	var other []lineHits
	var wg sync.WaitGroup
	if half < len(block) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other = s.findHits(block[half:])
		}()
	}
	mine := s.findHits(block[:half])
	wg.Wait()
	for _, lh := range append(mine, other...) {
		s.countLine(lh, byCode)
	}
}

// findHits returns the lines of block that hold a close, with their codes.
func (s *logSummary) findHits(block []byte) []lineHits {
	var out []lineHits
	for _, start := range findMarks(block, 0, nil) {
		line := block[start : start+bytes.IndexByte(block[start:], '\n')]
		if len(line) > s.maxLine {
			out = append(out, lineHits{}) // counted as skipped
			continue
		}
		text := strings.TrimRight(string(line), "\r")
		if hits := findInLine(text); len(hits) > 0 {
			out = append(out, lineHits{text, hits})
		}
	}
	return out
}

// lineCut is the offset just past the first '\n' at or after at in block,
// or len(block).
func lineCut(block []byte, at int) int {
	if j := bytes.IndexByte(block[at:], '\n'); j >= 0 {
		return at + j + 1
	}
	return len(block)
}

// findMarks appends to marks, in order, the starts (offset by base) of the
// lines of block, whole lines, that hold a keyword. It runs the automaton
// over four parts of the block at once: each byte's step waits for the one
// before it, and four independent runs keep the processor busy meanwhile.
func findMarks(block []byte, base int, marks []int) []int {
	var part [4][]byte
	var at [4]int
	for k, start := 0, 0; k < 4; k++ {
		end := len(block)
		if k < 3 {
			end = lineCut(block, max(start, (k+1)*len(block)/4))
		}
		part[k], at[k] = block[start:end], base+start
		start = end
	}
	next := keywordScan
	p0, p1, p2, p3 := part[0], part[1], part[2], part[3]
	n := min(len(p0), len(p1), len(p2), len(p3))
	p0, p1, p2, p3 = p0[:n], p1[:n], p2[:n], p3[:n]
	var seen [4]int // hits before this offset are in a line already marked
	var found [4][]int
	s0, s1, s2, s3 := 0, 0, 0, 0
	for i := range p0 {
		t0 := next[s0<<8|int(p0[i])]
		t1 := next[s1<<8|int(p1[i])]
		t2 := next[s2<<8|int(p2[i])]
		t3 := next[s3<<8|int(p3[i])]
		s0, s1, s2, s3 = int(t0&^keywordHit), int(t1&^keywordHit), int(t2&^keywordHit), int(t3&^keywordHit)
		if (t0|t1|t2|t3)&keywordHit != 0 {
			for k, t := range [4]uint16{t0, t1, t2, t3} {
				if t&keywordHit != 0 && i >= seen[k] {
					found[k], seen[k] = markLine(found[k], part[k], at[k], i)
				}
			}
		}
	}
	for k, state := range [4]int{s0, s1, s2, s3} { // the rest of the longer parts
		for i := n; i < len(part[k]); i++ {
			t := next[state<<8|int(part[k][i])]
			state = int(t &^ keywordHit)
			if t&keywordHit != 0 && i >= seen[k] {
				found[k], seen[k] = markLine(found[k], part[k], at[k], i)
			}
		}
	}
	for _, f := range found {
		marks = append(marks, f...)
	}
	return marks
}

// markLine adds to marks the start, in the block, of the line of part
// (which starts at base in the block) that holds offset i, and returns
// the offset just past the line's end.
func markLine(marks []int, part []byte, base, i int) ([]int, int) {
	start := bytes.LastIndexByte(part[:i], '\n') + 1
	end := i + bytes.IndexByte(part[i:], '\n') + 1
	return append(marks, base+start), end
}

// countLine adds the codes of one line to the summary.
func (s *logSummary) countLine(lh lineHits, byCode map[reasons.Reason]*logCode) {
	if lh.hits == nil {
		s.Skipped++
		return
	}
	s.CloseLines++
	for _, h := range lh.hits {
		if h.err != nil {
			continue // a number out of range where a code goes: not a close
		}
		c := byCode[h.code]
		if c == nil {
			c = &logCode{Code: h.code, Name: nameOf(h.code), Advice: h.code.Advice().String(), First: clip(lh.line, width)}
			byCode[h.code] = c
		}
		c.Count++
		switch h.sentBy {
		case sentByPeer:
			c.ByPeer++
		case sentByUs:
			c.ByUs++
		default:
			c.NotSaid++
		}
		if !slices.Contains(c.Forms, h.stack) {
			c.Forms = append(c.Forms, h.stack)
		}
	}
}

// writeLogSummary writes the summary as text: one row per code.
func writeLogSummary(w io.Writer, s *logSummary) {
	fmt.Fprintf(w, "%d lines, %d with a close code", s.Lines, s.CloseLines)
	if s.Skipped > 0 {
		fmt.Fprintf(w, "; %d lines longer than %d bytes skipped", s.Skipped, s.maxLine)
	}
	fmt.Fprintln(w, ".")
	for _, c := range s.Codes {
		name := c.Name
		if name == "" {
			name = "unnamed"
		}
		times := "times"
		if c.Count == 1 {
			times = "time"
		}
		fmt.Fprintf(w, "\n%d %s: %d %s (sent by the peer %d, by this side %d, not said %d); advice: %s\n",
			c.Code, name, c.Count, times, c.ByPeer, c.ByUs, c.NotSaid, c.Advice)
		fmt.Fprintf(w, "  forms: %s\n", wrap(strings.Join(c.Forms, ", "), 9, width))
		fmt.Fprintf(w, "  first: %s\n", clip(c.First, width-9))
	}
}

// log reads the log at path ("-": standard input) and writes its summary.
func (o output) log(path string, stdin io.Reader) error {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("-log: %v", err)
		}
		defer f.Close()
		r = f
	}
	// The scan's own buffers take about 10 MiB; a soft limit keeps the
	// garbage of the lines it reads from growing the heap past it.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(logMemoryLimit))
	s, err := scanLog(r, maxLogLine)
	if err != nil {
		return fmt.Errorf("-log: reading %s: %v", path, err)
	}
	if o.json {
		return o.writeJSON(s)
	}
	writeLogSummary(o.stdout, s)
	return nil
}
