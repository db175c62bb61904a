package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/wsreasons/reasons/probe"
)

const probeUsage = `wsreason probe checks how a live WebSocket server answers Close frames.

Usage:
  wsreason probe [-json] [-strict] [-timeout D] [-parallel N] [-insecure]
                 [-H 'Name: value']... URL

URL is ws:// or wss:// (http:// and https:// are taken as those). For each
case the probe opens a fresh connection, completes the opening handshake
(RFC 6455 §4.1), sends what Autobahn TestSuite's case file sends, in the
same order and with the same waits (most cases one masked Close frame,
malformed on purpose, with the frames around it; 7.1.1 a text message, then
Close 1000 once the echo is back, within Autobahn's 1 s bound), and reads
what comes back: the server's Close frame, the connection ending without
one, or nothing within the timeout. The cases are Autobahn TestSuite's close
cases (7.1.1-7.13.2) by id, then rows beyond it.

Each case gets two grades. The verdict is RFC 6455's:
  ok         the answer RFC 6455 asks for, as package reasons gives it
  tolerated  another answer that breaks no rule
  wrong      breaks RFC 6455 or the IANA registry: no Close in reply, a valid
             code taken for a protocol error, a reason that is not UTF-8
             accepted, a reply that breaks a rule on sending a Close frame
             (a code Valid refuses: 0-999, 1004-1006, 1015-2999, 5000 and
             up; a 1-byte or over-125-byte body, masked, fragmented, RSV
             bits, a reason that is not UTF-8), a frame that cannot be
             read, or no answer within the timeout
The grade is Autobahn's, from the case's expectation, checked in the order
of its case.py: OK, NON-STRICT, FAILED, WRONG CODE, UNCLEAN or
INFORMATIONAL. Rows beyond Autobahn are graded as the Autobahn case they
are most like, for information. Each rule a row breaks,
and why Autobahn fails it, is a numbered note below the table; -json
carries everything.

Flags:
  -json        print one JSON document instead of text
  -strict      also exit 1 when an Autobahn case is graded FAILED, WRONG CODE
               or UNCLEAN
  -timeout D   how long one case may take, handshake included (default 5s);
               the whole run takes at most about D × ceil(cases / N) plus one
               case
  -parallel N  how many cases run at once (default 4, at most 64)
  -insecure    do not verify a wss:// server's TLS certificate
  -H 'Name: value'
               add a header to the handshake request (repeatable), such as
               an Authorization token, an Origin or a Host
  -h           this help

Exit status: 0 when no case is wrong, 1 when one is (or, with -strict, when
an Autobahn case fails), 2 for bad arguments or when the handshake fails.

Example:
  wsreason probe ws://127.0.0.1:8080/
`

// probeOptions are the parsed command line of wsreason probe.
type probeOptions struct {
	json     bool
	strict   bool
	timeout  time.Duration
	parallel int
	insecure bool
	header   http.Header
	url      string
}

// maxParallel bounds -parallel.
const maxParallel = 64

// runProbe is wsreason probe: it returns the exit status.
func runProbe(args []string, stdout, stderr io.Writer) int {
	opts, err := parseProbeArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, probeUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsreason probe: %v\n", err)
		return exitUsage
	}
	ro := probe.Options{
		DialOptions: probe.DialOptions{Header: opts.header, Insecure: opts.insecure, Timeout: opts.timeout},
		Parallel:    opts.parallel,
	}
	var text *textTable
	if !opts.json {
		text = newTextTable(stdout)
		fmt.Fprintf(stdout, "Probing %s, one connection per case, %d at a time (timeout %v per case).\n\n",
			opts.url, opts.parallel, opts.timeout)
		ro.OnResult = text.add
	}
	rep, runErr := probe.Run(context.Background(), opts.url, ro)
	if opts.json {
		err = writeProbeJSON(stdout, opts, rep, runErr)
	} else if runErr == nil || len(rep.Results) > 0 {
		err = text.finish(rep)
	}
	switch {
	case runErr != nil:
		fmt.Fprintf(stderr, "wsreason probe: %v\n", runErr)
		if len(rep.Results) > 0 {
			fmt.Fprintf(stderr, "wsreason probe: the %d cases above completed before that\n", len(rep.Results))
		}
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "wsreason probe: %v\n", err)
		return exitUsage
	}
	if s := rep.Summary(); s.Wrong > 0 || opts.strict && s.AutobahnFails > 0 {
		return exitInvalid
	}
	return exitOK
}

// parseProbeArgs accepts flags before and after the URL.
func parseProbeArgs(args []string) (probeOptions, error) {
	opts := probeOptions{header: http.Header{}}
	fs := flag.NewFlagSet("wsreason probe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&opts.json, "json", false, "")
	durationVar(fs, &opts.timeout, "timeout", probe.DefaultTimeout)
	fs.IntVar(&opts.parallel, "parallel", probe.DefaultParallel, "")
	fs.BoolVar(&opts.strict, "strict", false, "")
	fs.BoolVar(&opts.insecure, "insecure", false, "")
	fs.Func("H", "", func(s string) error { return addHeader(opts.header, s) })
	url, err := parseURLArgs(fs, args)
	if err != nil {
		return opts, err
	}
	switch {
	case opts.timeout <= 0:
		return opts, fmt.Errorf("-timeout %v: must be more than 0", opts.timeout)
	case opts.parallel < 1 || opts.parallel > maxParallel:
		return opts, fmt.Errorf("-parallel %d: must be from 1 to %d", opts.parallel, maxParallel)
	}
	opts.url = url
	return opts, nil
}

// parseURLArgs parses args with fs, flags before and after the one URL the
// command takes, and returns the URL; fs's name says which command.
func parseURLArgs(fs *flag.FlagSet, args []string) (string, error) {
	var urls []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", err
			}
			return "", fmt.Errorf("%v (see %s -h)", err, fs.Name())
		}
		if fs.NArg() == 0 {
			break
		}
		urls = append(urls, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case len(urls) == 0:
		return "", fmt.Errorf("no URL given (see %s -h)", fs.Name())
	case len(urls) > 1:
		return "", fmt.Errorf("one URL at a time, got %d: %q", len(urls), urls)
	}
	if _, err := probe.ParseURL(urls[0]); err != nil {
		return "", err
	}
	return urls[0], nil
}

// runContext is the context of a command that runs until Ctrl-C or
// SIGTERM, or for dur when it is more than 0.
func runContext(dur time.Duration) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if dur <= 0 {
		return ctx, stop
	}
	ctx, cancel := context.WithTimeout(ctx, dur)
	return ctx, func() { cancel(); stop() }
}

// durationVar defines a duration flag whose error says what is wrong with
// a value such as "5", which has no unit.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration) {
	*p = value
	fs.Func(name, "", func(s string) error {
		d, err := parseDuration(s)
		*p = d
		return err
	})
}

// parseDuration reads a duration flag's value.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil {
		return d, nil
	}
	if _, nerr := strconv.ParseFloat(s, 64); nerr == nil {
		return 0, fmt.Errorf("%s has no unit: write %ss or %sms", s, s, s)
	}
	return 0, fmt.Errorf("%q is not a duration such as 5s or 500ms", s)
}

// addHeader adds a header given as "Name: value" to h.
func addHeader(h http.Header, s string) error {
	name, value, ok := strings.Cut(s, ":")
	if !ok {
		return fmt.Errorf("header %q: write it as 'Name: value'", s)
	}
	if name == "" || strings.IndexFunc(name, func(r rune) bool { return !isTokenChar(r) }) >= 0 {
		return fmt.Errorf("header %q: %q is not a header name", s, name)
	}
	if strings.ContainsAny(value, "\r\n") {
		return fmt.Errorf("header %q: the value may not hold a line break", s)
	}
	h.Add(name, strings.TrimSpace(value))
	return nil
}

// isTokenChar tells whether r may appear in a header name (RFC 9110 §5.6.2).
func isTokenChar(r rune) bool {
	return r < 0x7f && r > ' ' && !strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}

// gotText writes a reply with the reason text it carried, if any, in at
// most max columns.
func gotText(r probe.Result, max int) string {
	s := r.Got
	if t := r.GotText; t != "" {
		s += fmt.Sprintf(" %q", t)
	}
	return clip(s, max)
}

// clip shortens s to at most max characters, ending it with … when cut.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	if max < 1 {
		return ""
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// The text table's column widths; with the gaps and the note number a row
// fits 100 columns.
const (
	caseWidth = 29
	gotWidth  = 18
)

// textTable prints the rows of a run as their cases complete, in the
// cases' order, then the notes and the summary.
type textTable struct {
	w       io.Writer
	mu      sync.Mutex
	notes   []string
	pending map[int]probe.Result
	next    int // the index of the next row to print
}

func newTextTable(w io.Writer) *textTable {
	return &textTable{w: w, pending: map[int]probe.Result{}}
}

const textRow = "%-9s  %-6s  %-*s  %-*s  %-5s  %-13s  %s"

func (t *textTable) line(args ...any) {
	fmt.Fprint(t.w, strings.TrimRight(fmt.Sprintf(textRow, args...), " ")+"\n")
}

func (t *textTable) header() {
	t.line("VERDICT", "ID", caseWidth, "CASE", gotWidth, "GOT", "OK IS", "AUTOBAHN", "NOTE")
}

// add takes a completed result and prints every row that is now next.
func (t *textTable) add(r probe.Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.next == 0 && len(t.pending) == 0 {
		t.header() // with the first row: a refused handshake prints no table
	}
	t.pending[r.Index] = r
	for {
		r, ok := t.pending[t.next]
		if !ok {
			return
		}
		delete(t.pending, t.next)
		t.next++
		t.print(r)
	}
}

func (t *textTable) print(r probe.Result) {
	id := r.Autobahn
	if id == "" {
		id = "-"
	}
	note := ""
	for _, text := range []string{r.Rule, r.GradeNote} {
		if text == "" {
			continue
		}
		n := slices.Index(t.notes, text)
		if n < 0 {
			t.notes = append(t.notes, text)
			n = len(t.notes) - 1
		}
		note += fmt.Sprintf("[%d]", n+1)
	}
	t.line(r.Verdict, id, caseWidth, clip(r.Case, caseWidth), gotWidth, gotText(r, gotWidth), clip(r.Want, 5), r.Grade, note)
}

// finish prints the rows still held back (when a case failed, those after
// it), the notes and the summary.
func (t *textTable) finish(rep probe.Report) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, i := range slices.Sorted(maps.Keys(t.pending)) {
		t.print(t.pending[i])
	}
	if len(t.notes) > 0 {
		fmt.Fprintln(t.w)
	}
	for i, n := range t.notes {
		fmt.Fprintf(t.w, "[%d] %s\n", i+1, n)
	}
	s := rep.Summary()
	_, err := fmt.Fprintf(t.w, "\n%d cases: %d ok, %d tolerated, %d wrong; Autobahn fails %d of its cases.\n",
		len(rep.Results), s.OK, s.Tolerated, s.Wrong, s.AutobahnFails)
	return err
}

func writeProbeJSON(w io.Writer, opts probeOptions, rep probe.Report, runErr error) error {
	doc := struct {
		URL     string         `json:"url"`
		Timeout string         `json:"timeout"`
		Error   string         `json:"error,omitempty"` // why the run stopped: a failed handshake
		Cases   []probe.Result `json:"cases"`
		Summary probe.Summary  `json:"summary"`
	}{URL: opts.url, Timeout: opts.timeout.String(), Cases: rep.Results, Summary: rep.Summary()}
	if doc.Cases == nil {
		doc.Cases = []probe.Result{}
	}
	if runErr != nil {
		doc.Error = runErr.Error()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
