package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/probe"
)

const serveUsage = `wsreason serve runs a WebSocket server that tests how clients close.

Usage:
  wsreason serve [-addr 127.0.0.1:8080] [-script CODES] [-json] [-for DUR]
                 [-timeout D]

It listens on 127.0.0.1 unless -addr names another address, and answers:

  ws://HOST/close/CODE?reason=TEXT&after=DUR
      waits DUR (default 0), sends a Close frame with CODE (any 0..65535, sent
      as it is) and TEXT, and judges the client's answer
  ws://HOST/drop?after=DUR
      cuts TCP with no Close frame: the client should report 1006
  ws://HOST/raw/ID
      sends one of wsreason probe's cases (an Autobahn id such as 7.9.1, or
      a name; http://HOST/cases lists them) and judges the answer with the
      probe's rules and Autobahn's grade
  ws://HOST/silent
      never answers the client's Close frame: does the client close TCP?
  ws://HOST/echo
      waits for the client to close, judges its Close frame by the rules on
      sending one, and answers as package reasons does: the echo of a valid
      code, 1002 for a code that may not be sent
  ws://HOST/
      with -script, the next step of the script for each new connection
  http://HOST/
      a page that runs the close cases in the visiting browser;
      http://HOST/report keeps the last table a page made

A client's answer is judged as the probe judges a server's, with a client's
rule on masking (§5.3): ok, tolerated or wrong, with the rule.

With -script 1012,1013,1006,1001,1008 each new WebSocket connection on /
gets the next code (1006: TCP cut; 1005: an empty Close; the last step
repeats), and the report judges when the client came back against the
code's advice (wsreason CODE shows it): within 5 s of 1012, at all after
1013, a fourth time in a row after 1002 or 1008, or three times within a
second after 1001 or 1006 is wrong.

Flags:
  -addr A      the address to listen on (default 127.0.0.1:8080)
  -script C    comma-separated close codes for the reconnect script
  -json        one JSON object per line: each event, then each report row;
               the address line goes to stderr
  -for DUR     stop after DUR and print the report (default: until Ctrl-C)
  -timeout D   how long to wait for a client's answer (default 5s)
  -h           this help

Exit status: 0 when nothing was wrong, 1 when an event or a report row
was, 2 for bad arguments or an address it cannot listen on.
`

type serveOptions struct {
	addr    string
	script  []reasons.Reason
	json    bool
	dur     time.Duration
	timeout time.Duration
}

func parseServeArgs(args []string) (serveOptions, error) {
	opts := serveOptions{}
	fs := flag.NewFlagSet("wsreason serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&opts.addr, "addr", "127.0.0.1:8080", "")
	fs.BoolVar(&opts.json, "json", false, "")
	durationVar(fs, &opts.dur, "for", 0)
	durationVar(fs, &opts.timeout, "timeout", probe.DefaultTimeout)
	fs.Func("script", "", func(s string) error {
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("%q is not a close code", f)
			}
			r, err := reasons.Get(n)
			if err != nil {
				return err
			}
			opts.script = append(opts.script, r)
		}
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return opts, err
		}
		return opts, fmt.Errorf("%v (see wsreason serve -h)", err)
	}
	switch {
	case fs.NArg() > 0:
		return opts, fmt.Errorf("unexpected argument %q (see wsreason serve -h)", fs.Arg(0))
	case opts.dur < 0:
		return opts, fmt.Errorf("-for %v: must not be negative", opts.dur)
	case opts.timeout <= 0:
		return opts, fmt.Errorf("-timeout %v: must be more than 0", opts.timeout)
	}
	return opts, nil
}

// runServe is wsreason serve: it serves until -for runs out or an
// interrupt, then prints the report and returns the exit status.
func runServe(args []string, stdout, stderr io.Writer) int {
	opts, err := parseServeArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, serveUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsreason serve: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if opts.dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.dur)
		defer cancel()
	}
	return serve(ctx, opts, stdout, stderr)
}

func serve(ctx context.Context, opts serveOptions, stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		fmt.Fprintf(stderr, "wsreason serve: %v\n", err)
		return exitUsage
	}
	var (
		mu    sync.Mutex // one line at a time
		wrong bool
		enc   = json.NewEncoder(stdout)
	)
	h := probe.NewHandler(probe.Script(opts.script...), probe.ClientTimeout(opts.timeout),
		probe.OnEvent(func(e probe.ConnEvent) {
			mu.Lock()
			defer mu.Unlock()
			wrong = wrong || e.Verdict == probe.Wrong
			if opts.json {
				enc.Encode(e)
				return
			}
			fmt.Fprintln(stdout, eventLine(e))
		}))
	srv := &http.Server{Handler: h, ReadHeaderTimeout: opts.timeout}
	addr := ln.Addr().String()
	header := stdout
	if opts.json {
		header = stderr // stdout holds JSON alone
	}
	fmt.Fprintf(header, "Serving ws://%s/ (the browser page is http://%s/); stop with Ctrl-C.\n", addr, addr)
	go srv.Serve(ln)
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	srv.Close()

	mu.Lock()
	defer mu.Unlock()
	rows := h.Reconnects()
	for _, r := range rows {
		wrong = wrong || r.Verdict == probe.Wrong
	}
	if opts.json {
		for _, r := range rows {
			enc.Encode(r)
		}
	} else if len(opts.script) > 0 {
		writeReconnects(stdout, rows)
	}
	if wrong {
		return exitInvalid
	}
	return exitOK
}

// eventLine is one event as a line of text.
func eventLine(e probe.ConnEvent) string {
	s := fmt.Sprintf("%s  %s", e.Time.Format("15:04:05.000"), e.Path)
	if e.Note != "" {
		s += " (" + e.Note + ")"
	}
	s += ": sent " + e.Sent + "; got " + e.Got
	if e.GotText != "" {
		s += fmt.Sprintf(" %q", e.GotText)
	}
	if e.Verdict != "" {
		s += "; " + string(e.Verdict)
	}
	if e.Grade != "" {
		s += ", Autobahn " + string(e.Grade)
	}
	if e.Rule != "" {
		s += ": " + e.Rule
	}
	return s
}

func writeReconnects(w io.Writer, rows []probe.Reconnect) {
	fmt.Fprintf(w, "\nReconnect report: %d steps.\n", len(rows))
	fmt.Fprintf(w, "%-4s  %-5s  %-15s  %-10s  %-9s  %s\n", "STEP", "CODE", "ADVICE", "BACK AFTER", "VERDICT", "RULE")
	for _, r := range rows {
		back := "not back"
		if r.Back {
			back = r.BackAfter.Round(time.Millisecond).String()
		}
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("%-4d  %-5d  %-15s  %-10s  %-9s  %s", r.Step, uint16(r.Code), r.Advice, back, r.Verdict, r.Rule), " "))
	}
}
