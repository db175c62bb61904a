// Package reasonstest checks, from a Go test or a program, how a live
// WebSocket server answers Close frames: the cases of Autobahn TestSuite's
// close section (§7) by id, and more that go beyond it, each sent on its own
// connection and judged twice, by RFC 6455 and as Autobahn's grader would.
//
// In a test, three lines check a server:
//
//	srv := httptest.NewServer(handler)
//	defer srv.Close()
//	reasonstest.CheckServer(t, "ws"+strings.TrimPrefix(srv.URL, "http"))
//
// [CheckServer] fails the test once for every answer that breaks a rule of
// RFC 6455 or the IANA registry, naming the case, what came back and the
// rule; with [Strict] it also fails on every Autobahn case graded FAILED,
// WRONG CODE or UNCLEAN. [RunServer] runs the same cases and returns the [Report].
// wsreason probe is RunServer with a command line.
//
// The other way round, [NewServer] is a server, shaped like httptest's, that
// closes a client's connections in the ways a test asks for, judges each
// answer by the same rules, and judges a reconnecting client's returns
// against [reasons.Reason.Advice] ([Script], [Handler.Reconnects]). wsreason
// serve is its [Handler] with a command line.
//
// Outside this module, the package imports the standard library only.
package reasonstest

import (
	"context"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/wsreasons/reasons/internal/probe"
)

// Verdict is RFC 6455's judgment of one answer.
type Verdict string

// The three verdicts.
const (
	// OK is the answer package reasons gives, which is also the one
	// Autobahn TestSuite expects.
	OK Verdict = "ok"
	// Tolerated is another answer that breaks no requirement.
	Tolerated Verdict = "tolerated"
	// Wrong breaks a requirement of RFC 6455 or the IANA registry: no Close
	// in reply, a valid code taken for a protocol error, a reason that is
	// not UTF-8 accepted, a reply that breaks a rule on sending a Close
	// frame, or no answer within the timeout.
	Wrong Verdict = "wrong"
)

// Grade is the grade Autobahn TestSuite's grader gives an answer, computed
// from the case's expectation as its case files write it.
type Grade string

// The grades, as Autobahn's report writes them.
const (
	GradeOK            Grade = "OK"
	GradeNonStrict     Grade = "NON-STRICT"
	GradeFailed        Grade = "FAILED"
	GradeWrongCode     Grade = "WRONG CODE"
	GradeUnclean       Grade = "UNCLEAN"
	GradeInformational Grade = "INFORMATIONAL"
)

// Fails reports whether Autobahn counts g as a failure: FAILED, WRONG CODE
// or UNCLEAN.
func (g Grade) Fails() bool { return probe.Grade(g).Fails() }

// Result is the outcome of one case.
type Result struct {
	Index int    // the case's place in the run, from 0
	Case  string // the case's name, such as "code 1005"
	// Autobahn is the Autobahn TestSuite case id, such as "7.9.4", or ""
	// for a case beyond Autobahn; AutobahnLike then names the Autobahn case
	// whose expectation grades it.
	Autobahn, AutobahnLike string
	Sent                   []byte // the body of the Close frame sent
	Requires               string // what RFC 6455 or the IANA registry requires of the answer
	Want                   string // the answer judged ok: package reasons' own
	AutobahnAccepts        string // the answers Autobahn grades OK
	Got                    string // what came back: events, then the Close frame's code, "empty", "dropped" or "timed out"
	GotText                string // the reason text of the Close frame that came back
	Verdict                Verdict
	// Rule is the rule a wrong answer breaks, with its section, or what a
	// tolerated one does instead; "" for ok.
	Rule      string
	Grade     Grade  // Autobahn's grade
	GradeNote string // for FAILED, WRONG CODE or UNCLEAN, what Autobahn expected instead
}

// Report is the outcome of a run, one Result per case in a fixed order.
type Report struct {
	URL     string
	Timeout time.Duration // the bound on each case
	Results []Result
}

// Summary counts a report's results.
type Summary struct {
	OK, Tolerated, Wrong int
	AutobahnFails        int // results that fail an Autobahn case (see Result.FailsAutobahn)
}

// FailsAutobahn reports whether r fails an Autobahn TestSuite case: it is
// one (Autobahn is set) and its grade is FAILED, WRONG CODE or UNCLEAN. A
// case beyond Autobahn is graded by the expectation it borrows, for
// information only: Autobahn's client, for one, refuses a 1012, 1013 or
// 1014 Close frame, so an echo of those codes, which RFC 6455 and the IANA
// registry ask for, grades UNCLEAN there.
func (r Result) FailsAutobahn() bool { return r.Autobahn != "" && r.Grade.Fails() }

// Summary counts r's results by verdict and Autobahn failures.
func (r Report) Summary() Summary {
	var s Summary
	for _, res := range r.Results {
		switch res.Verdict {
		case OK:
			s.OK++
		case Tolerated:
			s.Tolerated++
		case Wrong:
			s.Wrong++
		}
		if res.FailsAutobahn() {
			s.AutobahnFails++
		}
	}
	return s
}

// Option changes how a server is checked.
type Option func(*config)

type config struct {
	opts   probe.Options
	strict bool
}

// DefaultTimeout bounds each case unless [Timeout] says otherwise.
const DefaultTimeout = 5 * time.Second

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
// FAILED, WRONG CODE or UNCLEAN (see [Result.FailsAutobahn]). RunServer ignores it; the report has the grades.
func Strict() Option { return func(c *config) { c.strict = true } }

// OnResult calls f with each result as soon as its case completes, one
// call at a time, in the order cases complete.
func OnResult(f func(Result)) Option {
	return func(c *config) {
		c.opts.OnResult = func(r probe.Result) { f(result(r)) }
	}
}

func newConfig(opts []Option) config {
	c := config{opts: probe.Options{DialOptions: probe.DialOptions{Timeout: DefaultTimeout}}}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// RunServer sends every case to the ws:// or wss:// server at url, each on
// a fresh connection, and returns what came back with its verdict and
// grade. The error says why a URL is not usable or a handshake failed; the
// results gathered until then are in the report. ctx bounds the run.
func RunServer(ctx context.Context, url string, opts ...Option) (Report, error) {
	return runServer(ctx, url, newConfig(opts))
}

func runServer(ctx context.Context, url string, c config) (Report, error) {
	rep := Report{URL: url, Timeout: c.opts.Timeout}
	if _, err := probe.ParseURL(url); err != nil {
		return rep, err
	}
	results, err := probe.Run(ctx, url, c.opts)
	for _, r := range results {
		rep.Results = append(rep.Results, result(r))
	}
	return rep, err
}

func result(r probe.Result) Result {
	return Result{
		Index: r.Index, Case: r.Case.Name, Autobahn: r.Case.Autobahn, AutobahnLike: r.Case.Expect.Like,
		Sent: r.Case.Payload, Requires: r.Case.Requires(), Want: r.Case.Want().String(),
		AutobahnAccepts: r.Case.AutobahnAccepts(),
		Got:             r.Got.String(), GotText: r.Got.Text(),
		Verdict: Verdict(r.Verdict), Rule: r.Rule, Grade: Grade(r.Grade), GradeNote: r.GradeNote,
	}
}

// CheckServer runs every case against the server at url, as RunServer
// does, and reports on t: t.Errorf once for each wrong answer, naming the
// case, what came back and the rule it breaks; t.Logf for each tolerated
// one; and with [Strict], t.Errorf for each Autobahn case graded FAILED,
// WRONG CODE or UNCLEAN. A URL it cannot use or a failed handshake is one t.Errorf.
// The run is bounded by t's context and the timeout.
func CheckServer(t testing.TB, url string, opts ...Option) Report {
	t.Helper()
	c := newConfig(opts)
	rep, err := runServer(t.Context(), url, c)
	if err != nil {
		t.Errorf("reasonstest: %v", err)
	}
	for _, r := range rep.Results {
		switch r.Verdict {
		case Wrong:
			t.Errorf("reasonstest: %s: sent %s, got %s: %s", r.label(), sent(r.Sent), r.Got, r.Rule)
		case Tolerated:
			t.Logf("reasonstest: %s: tolerated: %s", r.label(), r.Rule)
		}
		if c.strict && r.FailsAutobahn() {
			t.Errorf("reasonstest: %s: sent %s, got %s: Autobahn grades it %s: %s", r.label(), sent(r.Sent), r.Got, r.Grade, r.GradeNote)
		}
	}
	return rep
}

// label names a result as the messages do: the case and its Autobahn id.
func (r Result) label() string {
	if r.Autobahn != "" {
		return r.Case + " (Autobahn " + r.Autobahn + ")"
	}
	return r.Case
}

func sent(b []byte) string {
	switch {
	case len(b) == 0:
		return "an empty Close"
	case len(b) > 8:
		return "Close " + hex.EncodeToString(b[:8]) + "…"
	}
	return "Close " + hex.EncodeToString(b)
}
