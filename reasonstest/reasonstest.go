// Package reasonstest checks, from a Go test, how a live WebSocket server
// answers Close frames and how a client closes, as net/http/httptest is to
// net/http: a few lines over package probe, the engine that wsreason
// probe and wsreason serve run too.
//
// In a test, three lines check a server:
//
//	srv := httptest.NewServer(handler)
//	defer srv.Close()
//	reasonstest.CheckServer(t, srv.URL)
//
// [CheckServer] runs every case of [probe.Cases], the cases of Autobahn
// TestSuite's close section (§7) by id and more that go beyond it, each
// as a subtest named by its id and case (7.9.4_code_1005, 1014_IANA), so
// that go test -run and -skip pick cases. A subtest fails for an answer
// that breaks a rule of RFC 6455 or the IANA registry, naming what was
// sent, what came back (its bytes too) and the rule; with [Strict] also for
// every Autobahn case graded FAILED, WRONG CODE or UNCLEAN. A known
// deviation of the library under test is recorded with [Allow], which
// fails the subtest once the library stops deviating. [RunServer] runs the
// same cases and returns the [Report].
//
// The other way round, [NewServer] is a server, shaped like httptest's, that
// closes a client's connections in the ways a test asks for and judges each
// answer by the same rules ([probe.Handler]), and judges a reconnecting
// client's returns against [reasons.Reason.Advice] ([Script]);
// [Server.Check] turns what it saw into test failures.
//
// [CheckShutdown] checks that a server ends its connections with 1001 or
// 1012 when it shuts down, as package drain makes it do, rather than with
// the bare TCP close that clients report as 1006.
//
// Outside this module, the package imports the standard library only.
package reasonstest

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons/probe"
)

// Result is the outcome of one case; see [probe.Result].
type Result = probe.Result

// Report is the outcome of a run; see [probe.Report].
type Report = probe.Report

// Option changes how a server is checked.
type Option func(*config)

type config struct {
	opts   probe.Options
	strict bool
	allow  []string
	conns  int
}

// DefaultTimeout bounds each case unless [Timeout] says otherwise.
const DefaultTimeout = probe.DefaultTimeout

// Timeout bounds each case, from dialling to the end of the connection;
// without it, a case takes at most [DefaultTimeout]. A run takes at most
// about d × ceil(cases / parallel) plus the first case, which runs alone.
func Timeout(d time.Duration) Option { return func(c *config) { c.opts.Timeout = d } }

// Parallel sets how many cases are in flight at once (4 without it).
func Parallel(n int) Option { return func(c *config) { c.opts.Parallel = n } }

// Header adds a header to every opening handshake, such as an
// Authorization token or an Origin; a Host header sets the request's host.
func Header(name, value string) Option {
	return func(c *config) {
		if c.opts.Header == nil {
			c.opts.Header = http.Header{}
		}
		c.opts.Header.Add(name, value)
	}
}

// Insecure skips verifying a wss:// server's TLS certificate.
func Insecure() Option { return func(c *config) { c.opts.Insecure = true } }

// Strict makes [CheckServer] also fail on every Autobahn case graded
// FAILED, WRONG CODE or UNCLEAN (see [probe.Result.FailsAutobahn]).
// RunServer ignores it; the report has the grades.
func Strict() Option { return func(c *config) { c.strict = true } }

// Allow records known deviations of the library under test, so that
// [CheckServer] logs them instead of failing: each id is an Autobahn case
// id ("7.9.4"), the code that starts the name of a row beyond Autobahn
// ("1014" for 1014_IANA), or a whole subtest name. The subtest of an
// allowed case fails when the server no longer deviates there, so that the
// allowance goes once the library is fixed; an id that names no case fails
// the test. A gorilla/websocket server, which takes 1014 for a protocol
// error, is checked with Allow("1014").
func Allow(ids ...string) Option {
	return func(c *config) { c.allow = append(c.allow, ids...) }
}

// OnResult calls f with each result as soon as its case completes, one
// call at a time, in the order cases complete.
func OnResult(f func(Result)) Option { return func(c *config) { c.opts.OnResult = f } }

func newConfig(opts []Option) config {
	c := config{opts: probe.Options{DialOptions: probe.DialOptions{Timeout: DefaultTimeout}}}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// RunServer sends every case to the server at url (ws://, wss://, or the
// http:// and https:// of httptest, taken as those), each on a fresh
// connection, and returns what came back with its verdict and grade. The
// error says why a URL is not usable or a handshake failed; the results
// gathered until then are in the report. ctx bounds the run.
func RunServer(ctx context.Context, url string, opts ...Option) (Report, error) {
	return probe.Run(ctx, url, newConfig(opts).opts)
}

// CheckServer runs every case against the server at url, as RunServer
// does, and reports each as a subtest of t named by [SubtestName]: an
// error for a wrong answer, naming what was sent, what came back and the
// rule it breaks; a log line for a tolerated one; and with [Strict], an
// error for each Autobahn case graded FAILED, WRONG CODE or UNCLEAN. [Allow]
// turns the errors of a case into a log line, and its absence into an
// error. A URL it cannot use or a failed handshake is one error on t.
// When t is not a *testing.T, the messages go to t, each starting with
// the subtest's name. The run is bounded by t's context and the timeout.
func CheckServer(t testing.TB, url string, opts ...Option) Report {
	t.Helper()
	c := newConfig(opts)
	rep, err := probe.Run(t.Context(), url, c.opts)
	if err != nil {
		t.Errorf("reasonstest: %v", err)
	}
	allowed := map[string]bool{}
	for _, id := range c.allow {
		if !slices.ContainsFunc(rep.Results, func(r Result) bool { return allows(id, r) }) && err == nil {
			t.Errorf("reasonstest: Allow(%q) names no case: give an Autobahn id such as 7.9.4, a code such as 1014, or a subtest name", id)
		}
	}
	for _, r := range rep.Results {
		name := SubtestName(r)
		allowed[name] = slices.ContainsFunc(c.allow, func(id string) bool { return allows(id, r) })
		check := func(t testing.TB, prefix string) { report(t, prefix, r, c.strict, allowed[name]) }
		if tt, ok := t.(*testing.T); ok {
			tt.Run(name, func(t *testing.T) { check(t, "") })
		} else {
			check(t, name+": ")
		}
	}
	return rep
}

// report is one case's messages on t.
func report(t testing.TB, prefix string, r Result, strict, allowed bool) {
	t.Helper()
	got := fmt.Sprintf("sent %s, got %s", sent(r.Sent), r.Got)
	if r.GotText != "" {
		got += fmt.Sprintf(" %q", r.GotText)
	}
	if len(r.GotBytes) > 0 {
		got += fmt.Sprintf(" (Close body %s)", hexCut(r.GotBytes))
	}
	var deviations []string
	if r.Verdict == probe.Wrong {
		deviations = append(deviations, "wrong: "+got+": "+r.Rule)
	}
	if strict && r.FailsAutobahn() {
		deviations = append(deviations, fmt.Sprintf("Autobahn grades it %s: %s: %s", r.Grade, got, r.GradeNote))
	}
	switch {
	case allowed && len(deviations) == 0:
		t.Errorf("%sallowed by Allow, but the server no longer deviates (%s, %s): remove it from Allow", prefix, got, r.Verdict)
	case allowed:
		for _, d := range deviations {
			t.Logf("%sallowed: %s", prefix, d)
		}
	default:
		for _, d := range deviations {
			t.Errorf("%s%s", prefix, d)
		}
	}
	if r.Verdict == probe.Tolerated {
		t.Logf("%stolerated, not a failure: %s: %s", prefix, got, r.Rule)
	}
}

// allows reports whether the Allow argument id names r.
func allows(id string, r Result) bool {
	name := SubtestName(r)
	return id == r.Autobahn || id == name || strings.HasPrefix(name, id+"_")
}

// nonWord matches the characters a subtest name leaves out.
var nonWord = regexp.MustCompile(`[^A-Za-z0-9.\-]+`)

// SubtestName is the name [CheckServer] gives r's subtest: the Autobahn
// id, if any, and the case's name, with every run of other characters than
// letters, digits, '.' and '-' made one '_': "7.9.4_code_1005",
// "1014_IANA", "UTF-8_byte_0xff".
func SubtestName(r Result) string {
	s := strings.Trim(nonWord.ReplaceAllString(r.Case, "_"), "_")
	if r.Autobahn != "" {
		s = r.Autobahn + "_" + s
	}
	return s
}

// sent writes a Close body that was sent.
func sent(b []byte) string {
	if len(b) == 0 {
		return "an empty Close"
	}
	return "Close " + hexCut(b)
}

// hexCut is b in hex, cut after 16 bytes.
func hexCut(b []byte) string {
	if len(b) > 16 {
		return fmt.Sprintf("%x… (%d bytes)", b[:16], len(b))
	}
	return fmt.Sprintf("%x", b)
}
