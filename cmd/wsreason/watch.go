package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/wsreasons/reasons/probe"
)

const watchUsage = `wsreason watch measures how long WebSocket connections live, and how
they end, through the path to a server: proxies, load balancers, deploys.

Usage:
  wsreason watch [-n N] [-ping D] [-send D] [-for D] [-reconnect] [-json]
                 [-timeout D] [-insecure] [-H 'Name: value']... URL

It opens N connections in each of three lanes and watches how each ends:
  idle   sends nothing after the handshake but the Pong a Ping asks for
         (RFC 6455 §5.5.2), as a browser does
  ping   sends a Ping every -ping
  data   sends a short text message every -send
For every end it prints when (since the handshake, and since the last frame
each way) and how: a Close frame from the server (its code, reason and
bytes; the watch echoes the code, §5.5.1), or a TCP close or reset with no
Close frame, which the client reports as 1006 (§7.1.5). A Close frame is
judged by the rules on sending one: a code that may not be sent (1005, 1006
and 1015 above all, which some proxies forward; §7.4.1) is wrong, as is a
malformed frame; an end with no Close frame is tolerated. At the end (-for,
or Ctrl-C or SIGTERM) it closes the connections still open with 1001 and
answers the question in words, lane by lane, from the spread of the lane's
connections: "idle connections ended after 60.0 s (±0.1 s over 3) with no
Close frame: something on the path has an idle timeout of about 60.0 s".

Flags:
  -n N         connections per lane (default 3, at most 32)
  -ping D      the ping lane's interval (default 20s, at least 10ms)
  -send D      the data lane's interval (default 20s, at least 10ms)
  -for D       stop after D (default: until Ctrl-C or SIGTERM)
  -reconnect   reconnect each connection after it ends, after the delay its
               code's advice gives (a random 5-30 s after 1012), else a
               back-off from 250 ms up to 10 s, and log every end and return:
               for watching a deploy
  -json        one JSON object per event, then one for the summary
  -timeout D   bounds each handshake and the wait for an answer to the
               watch's own Close (default 5s)
  -insecure    do not verify a wss:// server's TLS certificate
  -H 'Name: value'
               add a header to the handshake request (repeatable)
  -h           this help

On a terminal a status line shows the lanes, the ends so far and the time.
The watch keeps at most 10000 events; it counts the rest.

Exit status: 0 when nothing wrong was seen, 1 when something was, 2 for bad
arguments or when the first handshake fails.

Example:
  wsreason watch -for 2m -ping 20s ws://127.0.0.1:8080/
`

// watchOptions are the parsed command line of wsreason watch.
type watchOptions struct {
	probe.WatchOptions
	dur  time.Duration
	json bool
	url  string
}

func parseWatchArgs(args []string) (watchOptions, error) {
	opts := watchOptions{}
	opts.Header = http.Header{}
	fs := flag.NewFlagSet("wsreason watch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.IntVar(&opts.Conns, "n", probe.DefaultWatchConns, "")
	durationVar(fs, &opts.Ping, "ping", probe.DefaultWatchInterval)
	durationVar(fs, &opts.Send, "send", probe.DefaultWatchInterval)
	durationVar(fs, &opts.dur, "for", 0)
	durationVar(fs, &opts.Timeout, "timeout", probe.DefaultTimeout)
	fs.BoolVar(&opts.Reconnect, "reconnect", false, "")
	fs.BoolVar(&opts.json, "json", false, "")
	fs.BoolVar(&opts.Insecure, "insecure", false, "")
	fs.Func("H", "", func(s string) error { return addHeader(opts.Header, s) })
	url, err := parseURLArgs(fs, args)
	if err != nil {
		return opts, err
	}
	switch {
	case opts.Conns < 1 || opts.Conns > probe.MaxWatchConns:
		return opts, fmt.Errorf("-n %d: must be from 1 to %d", opts.Conns, probe.MaxWatchConns)
	case opts.Ping < probe.MinWatchInterval:
		return opts, fmt.Errorf("-ping %v: must be at least %v", opts.Ping, probe.MinWatchInterval)
	case opts.Send < probe.MinWatchInterval:
		return opts, fmt.Errorf("-send %v: must be at least %v", opts.Send, probe.MinWatchInterval)
	case opts.dur < 0:
		return opts, fmt.Errorf("-for %v: must not be negative", opts.dur)
	case opts.Timeout <= 0:
		return opts, fmt.Errorf("-timeout %v: must be more than 0", opts.Timeout)
	}
	opts.url = url
	return opts, nil
}

// runWatch is wsreason watch: it watches until -for runs out or an
// interrupt, prints the summary and returns the exit status.
func runWatch(args []string, stdout, stderr io.Writer) int {
	opts, err := parseWatchArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, watchUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "wsreason watch: %v\n", err)
		return exitUsage
	}
	ctx, stop := runContext(opts.dur)
	defer stop()
	return watch(ctx, opts, stdout, stderr)
}

// watch runs the watch and writes it out.
func watch(ctx context.Context, opts watchOptions, stdout, stderr io.Writer) int {
	out := &watchOutput{w: stdout, json: opts.json, terminal: isTerminal(stdout), began: time.Now(),
		total: opts.Conns * len(probe.Lanes), open: opts.Conns * len(probe.Lanes)}
	opts.OnEvent = out.event
	if !opts.json {
		until := "until Ctrl-C"
		if opts.dur > 0 {
			until = "for " + opts.dur.String()
		}
		fmt.Fprintf(stdout, "Watching %s %s: %d idle, %d with a Ping every %v, %d with a message every %v.\n\n",
			opts.url, until, opts.Conns, opts.Conns, opts.Ping, opts.Conns, opts.Send)
	}
	stopStatus := out.statusLoop()
	rep, err := probe.Watch(ctx, opts.url, opts.WatchOptions)
	stopStatus()
	if err != nil {
		fmt.Fprintf(stderr, "wsreason watch: %v\n", err)
		return exitUsage
	}
	out.summary(rep)
	if rep.Wrong() > 0 {
		return exitInvalid
	}
	return exitOK
}

// watchOutput writes a watch's events as they happen, with a status line
// on a terminal.
type watchOutput struct {
	w        io.Writer
	json     bool
	terminal bool
	began    time.Time

	mu          sync.Mutex
	total, open int
	ends, wrong int
	status      bool            // a status line is on screen
	rules       map[string]bool // the rules written so far
}

// event writes one event.
func (o *watchOutput) event(e probe.WatchEvent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch e.How {
	case probe.EventBack:
		o.open++
	case probe.EndRefused:
	default:
		o.open--
		o.ends++
	}
	if e.Verdict == probe.Wrong {
		o.wrong++
	}
	if o.json {
		json.NewEncoder(o.w).Encode(e)
		return
	}
	if e.How == probe.EndOpen {
		return // the summary says it
	}
	o.clearStatus()
	line := watchLine(e)
	if e.Rule != "" {
		// Each rule is written in full once; later ends that break it
		// point back to it.
		if o.rules == nil {
			o.rules = map[string]bool{}
		}
		if o.rules[e.Rule] {
			line += " (rule above)"
		} else {
			line += "\n             " + e.Rule
			o.rules[e.Rule] = true
		}
	}
	fmt.Fprintln(o.w, line)
	o.drawStatus()
}

// watchLine is an event in a line of text.
func watchLine(e probe.WatchEvent) string {
	at := fmt.Sprintf("%8.1fs  %-4s #%d  ", e.Elapsed.Seconds(), e.Lane, e.Conn)
	var s string
	switch e.How {
	case probe.EventBack:
		return at + "reconnected"
	case probe.EndRefused:
		s = "reconnect refused: " + e.Handshake
	case probe.EndOpen, probe.EndStopped:
		s = fmt.Sprintf("still open after %.1f s; the watch closed it with 1001", e.Lived.Seconds())
		if e.How == probe.EndStopped {
			s += ", unanswered"
		}
	default:
		s = fmt.Sprintf("ended after %.1f s (last frame sent %.1f s before, received %.1f s before) %s: the client sees %d %v",
			e.Lived.Seconds(), e.SinceSent.Seconds(), e.SinceRecv.Seconds(), endPhrase(e), uint16(e.Sees), e.Sees)
	}
	return at + s + " [" + string(e.Verdict) + "]"
}

// endPhrase says how a connection ended, with the Close frame's bytes.
func endPhrase(e probe.WatchEvent) string {
	switch e.How {
	case probe.EndClose:
		s := fmt.Sprintf("with a Close frame %s (% x)", e.Got.String(), e.Got.Body)
		if t := e.Got.Text(); t != "" {
			s = fmt.Sprintf("with a Close frame %s %q (% x)", e.Got.String(), t, e.Got.Body)
		}
		return s
	case probe.EndReset:
		return "by a TCP reset with no Close frame"
	case probe.EndBroken:
		return "with a frame it could not read"
	}
	return "by a TCP close with no Close frame"
}

// summary writes the lanes' answers, or the summary object with -json.
func (o *watchOutput) summary(rep *probe.WatchReport) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.json {
		json.NewEncoder(o.w).Encode(struct {
			Event  string              `json:"event"`
			URL    string              `json:"url"`
			Took   float64             `json:"took_s"`
			Lanes  []probe.LaneSummary `json:"lanes"`
			Wrong  int                 `json:"wrong"`
			Unkept int                 `json:"unkept_events,omitempty"`
		}{"summary", rep.URL, rep.Took.Seconds(), rep.Lanes, rep.Wrong(), rep.Unkept})
		return
	}
	o.clearStatus()
	fmt.Fprintf(o.w, "\nAfter %v:\n", rep.Took.Round(100*time.Millisecond))
	for _, l := range rep.Lanes {
		fmt.Fprintf(o.w, "- %s.\n", l.Words)
	}
	if n := rep.Wrong(); n > 0 {
		fmt.Fprintf(o.w, "%d events wrong (above, with their rules).\n", n)
	}
	if rep.Unkept > 0 {
		fmt.Fprintf(o.w, "%d more events were not kept (the watch keeps %d).\n", rep.Unkept, probe.MaxWatchEvents)
	}
}

// statusLoop redraws the status line every second on a terminal, until
// the returned stop is called.
func (o *watchOutput) statusLoop() (stop func()) {
	if !o.terminal || o.json {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				o.mu.Lock()
				o.clearStatus()
				o.drawStatus()
				o.mu.Unlock()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// drawStatus writes the status line, with o.mu held.
func (o *watchOutput) drawStatus() {
	if !o.terminal || o.json {
		return
	}
	fmt.Fprintf(o.w, "open %d of %d · ends %d · wrong %d · %v", max(o.open, 0), o.total, o.ends, o.wrong, time.Since(o.began).Round(time.Second))
	o.status = true
}

// clearStatus erases the status line, with o.mu held.
func (o *watchOutput) clearStatus() {
	if o.status {
		fmt.Fprint(o.w, "\r\033[K")
		o.status = false
	}
}

// isTerminal tells whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0 && !strings.EqualFold(os.Getenv("TERM"), "dumb")
}
