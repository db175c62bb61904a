package reasonstest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wsreasons/reasons/probe"
)

// Conns sets how many connections [CheckShutdown] opens
// ([probe.DefaultShutdownConns] without it, at most
// [probe.MaxShutdownConns]). Other checks ignore it.
func Conns(n int) Option { return func(c *config) { c.conns = n } }

// CheckShutdown checks that a server ends its WebSocket connections with a
// code when it shuts down. It opens [Conns] connections to url (16 without
// it), whose clients answer a Close frame as a well-behaved client does,
// calls shutdown with a context bounded by the timeout ([Timeout],
// [DefaultTimeout] without it), and judges how each connection ended
// ([probe.JudgeShutdown]): 1001 or 1012 passes; 1000 fails, since clients
// that follow [reasons.Reason.Advice] do not come back after it; a TCP close
// with no Close frame fails, since clients see 1006; so does a connection
// still open a second past the timeout. shutdown is typically the
// server's http.Server.Shutdown followed by a drain.Group's Shutdown.
//
// Connections that ended alike are one subtest of t, named by the end
// ("1012_ServiceRestart", "no_Close_frame", "still_open"), with messages as
// [CheckServer]'s. An error that shutdown returns, a URL it cannot use and
// a failed handshake are errors on t. The report lists every end.
func CheckShutdown(t testing.TB, url string, shutdown func(context.Context) error, opts ...Option) probe.ShutdownReport {
	t.Helper()
	c := newConfig(opts)
	rep, err := probe.RunShutdown(t.Context(), url, shutdown, probe.ShutdownOptions{DialOptions: c.opts.DialOptions, Conns: c.conns})
	if err != nil {
		t.Errorf("reasonstest: %v", err)
		return rep
	}
	if rep.Err != nil {
		t.Errorf("reasonstest: shutdown returned an error after %v: %v", rep.Took.Round(time.Millisecond), rep.Err)
	}
	var classes []string
	byClass := map[string][]probe.ShutdownEnd{}
	for _, e := range rep.Ends {
		k := e.Class()
		if byClass[k] == nil {
			classes = append(classes, k)
		}
		byClass[k] = append(byClass[k], e)
	}
	for _, k := range classes {
		check := func(t testing.TB, prefix string) { reportEnds(t, prefix, byClass[k], len(rep.Ends)) }
		if tt, ok := t.(*testing.T); ok {
			tt.Run(k, func(t *testing.T) { check(t, "") })
		} else {
			check(t, k+": ")
		}
	}
	return rep
}

// reportEnds is the messages of one class of ends on t: one message for
// each judgment among them.
func reportEnds(t testing.TB, prefix string, ends []probe.ShutdownEnd, total int) {
	t.Helper()
	var judged []probe.Judgment
	for _, e := range ends {
		if !slices.Contains(judged, e.Judgment) {
			judged = append(judged, e.Judgment)
		}
	}
	for _, j := range judged {
		same := slices.DeleteFunc(slices.Clone(ends), func(e probe.ShutdownEnd) bool { return e.Judgment != j })
		first, last := same[0].After, same[0].After
		for _, e := range same {
			first, last = min(first, e.After), max(last, e.After)
		}
		what := fmt.Sprintf("%d of %d connections: %s, %v to %v after shutdown was called",
			len(same), total, endString(same[0].Got), first.Round(time.Millisecond), last.Round(time.Millisecond))
		switch j.Verdict {
		case probe.Wrong:
			t.Errorf("%swrong: %s: %s", prefix, what, j.Rule)
		case probe.Tolerated:
			t.Logf("%stolerated, not a failure: %s: %s", prefix, what, j.Rule)
		default:
			t.Logf("%sok: %s", prefix, what)
		}
	}
}

// endString says how a connection ended, as its client saw it.
func endString(r probe.Reply) string {
	switch {
	case r.Dropped:
		return "TCP closed with no Close frame (the client sees 1006)"
	case r.TimedOut:
		return "still open"
	case r.Broken != "":
		return r.String()
	}
	s := "got Close " + r.String()
	if text := r.Text(); text != "" {
		s += fmt.Sprintf(" %q", text)
	}
	if len(r.Body) > 0 {
		s += fmt.Sprintf(" (Close body %s)", hexCut(r.Body))
	}
	return s
}
