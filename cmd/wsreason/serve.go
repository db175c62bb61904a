package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
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
  ws://HOST/status/CODE?retry-after=SECONDS
      refuses the handshake with HTTP status CODE (400-599) and that
      Retry-After: the report judges the client's returns (before
      Retry-After, or a loop on 401, 403 or 404, is wrong)
  ws://HOST/
      with -script, the next step of the script for each new connection
  http://HOST/
      a page that runs the close cases in the visiting browser;
      http://HOST/report keeps the last table a page made

A client's answer is judged as the probe judges a server's, with a client's
rule on masking (§5.3): ok, tolerated or wrong, with the rule.

With -script 1012,1013,1006,1001,1008 each new WebSocket connection on /
gets its client's next code (1006: TCP cut; 1005: an empty Close; the last
step repeats; a client is its client= query parameter, else its page's
origin and its IP), and the report judges, client by client, when it came
back against the code's advice (wsreason CODE shows it): within 5 s of 1012
or at all after 1013 (the IANA registrations' SHOULD), a fourth time in a
row after 1002 or 1008, three times within a second after 1001 or 1006
(RFC 6455 §7.2.3, SHOULD), or more than five times in a second after any
code is wrong. Repeated rows collapse into one with a count.

It is safe to leave running: it answers only requests whose Host is a
loopback name or -addr's host (against DNS rebinding), opens WebSockets for
its own page, for clients that send no Origin (not browsers) and for the
origins -origin names, takes POSTs from its own page only, keeps the last
-events events with reasons and paths cut to 125 and 256 bytes, refuses
reason= over 1024 bytes, closes idle HTTP connections after 30 s, and
answers 503 past -max-conns open connections. GET /events pages with
?after=SEQ&limit=N (at most 500).

Flags:
  -addr A      the address to listen on (default 127.0.0.1:8080); another
               than a loopback address exposes the server to the network,
               and a line on stderr says so
  -origin O    let pages of origin O open WebSockets (repeatable; * for any)
  -script C    comma-separated close codes for the reconnect script
  -json        one JSON object per line: each event, then each report row;
               the address line goes to stderr
  -for DUR     stop after DUR and print the report (default: until Ctrl-C
               or SIGTERM, which print it too)
  -timeout D   how long to wait for a client's answer (default 5s)
  -events N    how many events to keep (default 1000)
  -max-conns N how many connections to hold at once (default 256)
  -fleet N     hold the first N connections on / until all N are open, close
               them together with the script's first code (1012 without
               -script), as a deploy does, and report how they came back:
               first, median, p90 and last return, wrong when any is back
               within 5 s of 1012 (the IANA registration) or more than half
               within one second of each other (a herd)
  -h           this help

Exit status: 0 when nothing was wrong, 1 when an event or a report row
was, 2 for bad arguments or an address it cannot listen on.
`

type serveOptions struct {
	addr     string
	origins  []string
	script   []reasons.Reason
	json     bool
	dur      time.Duration
	timeout  time.Duration
	events   int
	maxConns int
	fleet    int
}

func parseServeArgs(args []string) (serveOptions, error) {
	opts := serveOptions{}
	fs := flag.NewFlagSet("wsreason serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&opts.addr, "addr", "127.0.0.1:8080", "")
	fs.Func("origin", "", func(s string) error {
		if s != "*" && (!strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") || strings.Count(s, "/") != 2) {
			return fmt.Errorf("%q is not an origin such as http://localhost:3000, nor *", s)
		}
		opts.origins = append(opts.origins, s)
		return nil
	})
	fs.IntVar(&opts.events, "events", probe.DefaultKeepEvents, "")
	fs.IntVar(&opts.maxConns, "max-conns", probe.DefaultMaxConns, "")
	fs.IntVar(&opts.fleet, "fleet", 0, "")
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
	case opts.events < 1:
		return opts, fmt.Errorf("-events %d: must be 1 or more", opts.events)
	case opts.maxConns < 1:
		return opts, fmt.Errorf("-max-conns %d: must be 1 or more", opts.maxConns)
	case opts.fleet < 0 || opts.fleet > opts.maxConns:
		return opts, fmt.Errorf("-fleet %d: must be from 0 to -max-conns (%d)", opts.fleet, opts.maxConns)
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
	ctx, stop := runContext(opts.dur)
	defer stop()
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
	hopts := []probe.HandlerOption{probe.Script(opts.script...), probe.ClientTimeout(opts.timeout),
		probe.KeepEvents(opts.events), probe.AllowOrigin(opts.origins...), probe.Fleet(opts.fleet),
		probe.OnEvent(func(e probe.ConnEvent) {
			mu.Lock()
			defer mu.Unlock()
			wrong = wrong || e.Verdict == probe.Wrong
			if opts.json {
				enc.Encode(e)
				return
			}
			fmt.Fprintln(stdout, eventLine(e))
		})}
	if host, _, err := net.SplitHostPort(opts.addr); err == nil && host != "" {
		hopts = append(hopts, probe.AllowHost(host))
	}
	h := probe.NewHandler(hopts...)
	srv := h.HTTPServer()
	addr := dialable(ln.Addr().(*net.TCPAddr))
	header := stdout
	if opts.json {
		header = stderr // stdout holds JSON alone
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		fmt.Fprintf(stderr, "wsreason serve: listening on %s, which is not loopback: anyone who can reach it can use it and read every event at /events (remote addresses, request paths, reasons); pages still need -origin\n", ln.Addr())
	}
	fmt.Fprintf(header, "Serving ws://%s/ (the browser page is http://%s/); stop with Ctrl-C.\n", addr, addr)
	go srv.Serve(probe.LimitListener(ln, opts.maxConns))
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(shutdown) // stops listening; WebSockets are the Handler's
	h.Close()              // ends them, each recorded as open at the stop
	srv.Close()

	mu.Lock()
	defer mu.Unlock()
	rows := h.Reconnects()
	for _, r := range rows {
		wrong = wrong || r.Verdict == probe.Wrong
	}
	fleet := h.Fleet()
	wrong = wrong || fleet != nil && fleet.Verdict == probe.Wrong
	if opts.json {
		for _, r := range rows {
			enc.Encode(r)
		}
		if fleet != nil {
			enc.Encode(fleet)
		}
	} else {
		writeReconnects(stdout, rows)
		if fleet != nil {
			fmt.Fprintf(stdout, "\nFleet report: %s\n", fleet)
		}
	}
	if wrong {
		return exitInvalid
	}
	return exitOK
}

// dialable is the address a client dials to reach a listener on a: the
// loopback address for a listener on every interface (":0", "[::]:8080").
func dialable(a *net.TCPAddr) string {
	if a.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Port))
	}
	return a.String()
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
	steps := 0
	for _, r := range rows {
		steps += r.Count
	}
	fmt.Fprintf(w, "\nReconnect report: %d steps in %d rows.\n", steps, len(rows))
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "%-21s  %-9s  %-8s  %-15s  %-10s  %-9s  %s\n", "CLIENT", "STEP", "CODE", "ADVICE", "BACK AFTER", "VERDICT", "RULE")
	for _, r := range rows {
		back := "not back"
		if r.Back {
			back = r.BackAfter.Round(time.Millisecond).String()
		}
		step := strconv.Itoa(r.Step)
		if r.Count > 1 {
			step = fmt.Sprintf("%d-%d", r.Step, r.Step+r.Count-1)
			back += fmt.Sprintf(" (×%d in %v)", r.Count, r.Span.Round(time.Millisecond))
		}
		code := strconv.Itoa(int(r.Code))
		if r.Status != 0 {
			code = "HTTP " + strconv.Itoa(r.Status) // a refused handshake
		}
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("%-21s  %-9s  %-8s  %-15s  %-10s  %-9s  %s", clip(r.Client, 21), step, code, r.Advice, back, r.Verdict, r.Rule), " "))
	}
}
