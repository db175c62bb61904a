package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wsreasons/reasons/internal/probe"
)

const probeUsage = `wsreason probe checks how a live WebSocket server answers Close frames.

Usage:
  wsreason probe [-json] [-timeout D] [-insecure] [-H 'Name: value']... URL

URL is ws:// or wss://. For each case the probe opens a fresh connection,
completes the opening handshake (RFC 6455 §4.1), sends one masked Close frame,
most of them malformed on purpose, and reads what comes back: the server's
Close frame, the connection ending without one, or nothing within the
timeout. A few cases run at a time.

Each case gets a verdict:
  ok         the answer RFC 6455 asks for, as package reasons gives it
  tolerated  another answer that breaks no rule (Autobahn TestSuite's grader
             also accepts it), such as 1002 for a reason that is not UTF-8
  wrong      breaks RFC 6455 or the IANA registry: no Close in reply, a valid
             code taken for a protocol error, a reason that is not UTF-8
             accepted, or no answer within the timeout

Flags:
  -json        print one JSON document instead of text
  -timeout D   how long to wait for the handshake and for each answer
               (default 5s)
  -insecure    do not verify a wss:// server's TLS certificate
  -H 'Name: value'
               add a header to the handshake request (repeatable), such as
               an Authorization token, an Origin or a Host
  -h           this help

Exit status: 0 when no case is wrong, 1 when one is, 2 for bad arguments or
when the handshake fails.

Example:
  wsreason probe ws://127.0.0.1:8080/
`

// probeOptions are the parsed command line of wsreason probe.
type probeOptions struct {
	json     bool
	timeout  time.Duration
	insecure bool
	header   http.Header
	url      string
}

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
	results, err := probe.Run(context.Background(), opts.url, probe.DialOptions{
		Header: opts.header, Insecure: opts.insecure, Timeout: opts.timeout,
	})
	if err != nil {
		fmt.Fprintf(stderr, "wsreason probe: %v\n", err)
		return exitUsage
	}
	if opts.json {
		err = writeProbeJSON(stdout, opts, results)
	} else {
		err = writeProbeText(stdout, opts, results)
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsreason probe: %v\n", err)
		return exitUsage
	}
	if probe.Summarize(results).Wrong > 0 {
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
	fs.DurationVar(&opts.timeout, "timeout", 5*time.Second, "")
	fs.BoolVar(&opts.insecure, "insecure", false, "")
	fs.Func("H", "", func(s string) error { return addHeader(opts.header, s) })
	var urls []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return opts, err
			}
			return opts, fmt.Errorf("%v (see wsreason probe -h)", err)
		}
		if fs.NArg() == 0 {
			break
		}
		urls = append(urls, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case len(urls) == 0:
		return opts, errors.New("no URL given (see wsreason probe -h)")
	case len(urls) > 1:
		return opts, fmt.Errorf("one URL at a time, got %d: %q", len(urls), urls)
	case opts.timeout <= 0:
		return opts, fmt.Errorf("-timeout %v: must be more than 0", opts.timeout)
	}
	if _, err := probe.ParseURL(urls[0]); err != nil {
		return opts, err
	}
	opts.url = urls[0]
	return opts, nil
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

// sentHex writes a Close body in hex, "(empty)" for none.
func sentHex(p []byte, max int) string {
	if len(p) == 0 {
		return "(empty)"
	}
	if len(p) > max {
		return fmt.Sprintf("% x … (%d bytes)", p[:max], len(p))
	}
	return fmt.Sprintf("% x", p)
}

// gotText writes a reply with the reason text it carried, if any.
func gotText(r probe.Reply) string {
	s := r.String()
	if t := r.Text(); t != "" {
		if len(t) > 24 {
			t = t[:24] + "…"
		}
		s += fmt.Sprintf(" %q", t)
	}
	return s
}

func writeProbeText(w io.Writer, opts probeOptions, results []probe.Result) error {
	fmt.Fprintf(w, "Probing %s with %d Close frames, one connection each (timeout %v).\n\n", opts.url, len(results), opts.timeout)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERDICT\tCASE\tSENT\tGOT\tOK IS\tRFC 6455 / IANA REQUIRE")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Verdict, r.Case.Name, sentHex(r.Case.Payload, 4),
			gotText(r.Got), r.Case.Want(), r.Case.Requires())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	s := probe.Summarize(results)
	_, err := fmt.Fprintf(w, "\n%d cases: %d ok, %d tolerated, %d wrong.\n", len(results), s.OK, s.Tolerated, s.Wrong)
	return err
}

// probeCase is one case in the JSON document.
type probeCase struct {
	Case      string `json:"case"`
	Sent      string `json:"sent"` // the Close body, in hex
	Requires  string `json:"requires"`
	Want      string `json:"want"`      // the answer judged ok
	Tolerated string `json:"tolerated"` // the other answers judged tolerated
	Got       string `json:"got"`
	GotText   string `json:"got_text,omitempty"`
	Verdict   string `json:"verdict"`
}

func writeProbeJSON(w io.Writer, opts probeOptions, results []probe.Result) error {
	doc := struct {
		URL     string      `json:"url"`
		Timeout string      `json:"timeout"`
		Cases   []probeCase `json:"cases"`
		Summary struct {
			OK        int `json:"ok"`
			Tolerated int `json:"tolerated"`
			Wrong     int `json:"wrong"`
		} `json:"summary"`
	}{URL: opts.url, Timeout: opts.timeout.String()}
	for _, r := range results {
		doc.Cases = append(doc.Cases, probeCase{
			Case: r.Case.Name, Sent: hex.EncodeToString(r.Case.Payload), Requires: r.Case.Requires(),
			Want: r.Case.Want().String(), Tolerated: r.Case.Tolerates(),
			Got: r.Got.String(), GotText: r.Got.Text(), Verdict: string(r.Verdict),
		})
	}
	s := probe.Summarize(results)
	doc.Summary.OK, doc.Summary.Tolerated, doc.Summary.Wrong = s.OK, s.Tolerated, s.Wrong
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
