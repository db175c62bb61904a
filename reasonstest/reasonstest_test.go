package reasonstest_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/rawserver"
	"github.com/wsreasons/reasons/internal/wsframe"
	"github.com/wsreasons/reasons/probe"
	"github.com/wsreasons/reasons/reasonstest"
)

// recorder is a testing.TB that keeps what CheckServer reports instead of
// failing the test.
type recorder struct {
	testing.TB
	mu           sync.Mutex
	errors, logs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

// answerAsReasons is a server that answers every Close frame as package
// reasons says: the echo of a valid code, else the code Parse names; it
// echoes text messages, then closes TCP.
func answerAsReasons(conn net.Conn, br *bufio.Reader) {
	for {
		h, p, err := wsframe.Read(br, 1<<20)
		if err != nil {
			return
		}
		switch h.Opcode {
		case wsframe.OpText:
			if h.Fin {
				conn.Write(wsframe.Append(nil, wsframe.OpText, p, nil))
			}
		case wsframe.OpClose:
			r, _, _ := reasons.Parse(p)
			reply, _ := reasons.Format(r, "")
			conn.Write(wsframe.Append(nil, wsframe.OpClose, reply, nil))
			return
		}
	}
}

// refuses1014 answers as package reasons does, but takes 1014 for a
// protocol error, as gorilla/websocket does.
func refuses1014(conn net.Conn, br *bufio.Reader) {
	for {
		h, p, err := wsframe.Read(br, 1<<20)
		if err != nil {
			return
		}
		if h.Opcode == wsframe.OpText && h.Fin {
			conn.Write(wsframe.Append(nil, wsframe.OpText, p, nil))
		}
		if h.Opcode == wsframe.OpClose {
			r, _, _ := reasons.Parse(p)
			if r == reasons.BadGateway {
				r = reasons.ProtocolError
			}
			reply, _ := reasons.Format(r, "")
			conn.Write(wsframe.Append(nil, wsframe.OpClose, reply, nil))
			return
		}
	}
}

func TestCheckServerPasses(t *testing.T) {
	rec := &recorder{TB: t}
	rep := reasonstest.CheckServer(rec, rawserver.Start(t, false, answerAsReasons), reasonstest.Strict(), reasonstest.Timeout(2*time.Second))
	if len(rec.errors) != 0 || len(rec.logs) != 0 {
		t.Errorf("errors %q, logs %q; want none", rec.errors, rec.logs)
	}
	s := rep.Summary()
	if s.OK != len(rep.Results) || s.AutobahnFails != 0 || len(rep.Results) != 47 {
		t.Errorf("summary %+v of %d results, want 47 ok and no Autobahn failure", s, len(rep.Results))
	}
	for _, r := range rep.Results {
		want := probe.GradeOK
		switch {
		case strings.HasPrefix(r.Autobahn, "7.13.") || r.Autobahn == "7.1.6":
			want = probe.GradeInformational
		case strings.HasSuffix(r.Case, "(IANA)"): // Autobahn's client refuses 1012-1014
			want = probe.GradeUnclean
		}
		if r.Grade != want {
			t.Errorf("%s: graded %s, want %s", r.Case, r.Grade, want)
		}
	}
}

func TestCheckServerFailsOnce(t *testing.T) {
	rec := &recorder{TB: t}
	reasonstest.CheckServer(rec, rawserver.Start(t, false, refuses1014), reasonstest.Timeout(2*time.Second))
	want := "1014_IANA: wrong: sent Close 03f6, got 1002 (Close body 03ea): a valid code taken for a protocol error (§7.4, IANA registry)"
	if len(rec.errors) != 1 || rec.errors[0] != want {
		t.Errorf("errors %q, want one: %q", rec.errors, want)
	}
}

// TestCheckServerBadReplies: one error per case, each naming the rule,
// against servers whose Close frame breaks one rule on sending one.
func TestCheckServerBadReplies(t *testing.T) {
	t.Parallel()
	for _, bad := range rawserver.BadReplies {
		t.Run(bad.Name, func(t *testing.T) {
			rec := &recorder{TB: t}
			rep := reasonstest.CheckServer(rec, rawserver.Start(t, false, rawserver.Answer(bad.Frame)), reasonstest.Timeout(2*time.Second))
			if len(rec.errors) != len(rep.Results) || len(rep.Results) != 47 {
				t.Errorf("%d errors for %d results, want 47 of each", len(rec.errors), len(rep.Results))
			}
			for _, e := range rec.errors {
				if !strings.Contains(e, "§") {
					t.Errorf("%q names no section", e)
				}
				// A reason that is not UTF-8 is shown as the bytes it came as.
				if bad.Name == "reason not UTF-8" && !strings.Contains(e, "(Close body 03e86f6bff)") {
					t.Errorf("%q does not show the body 03e86f6bff", e)
				}
			}
		})
	}
}

func TestStrict(t *testing.T) {
	t.Parallel()
	// Answers every Close with 1000 and closes TCP: ok or tolerated by the
	// RFC for most cases, but Autobahn wants 1002 for an invalid code.
	url := rawserver.Start(t, false, rawserver.Answer(wsframe.Append(nil, wsframe.OpClose, []byte{0x03, 0xe8}, nil)))
	lax, strict := &recorder{TB: t}, &recorder{TB: t}
	rep := reasonstest.CheckServer(lax, url, reasonstest.Timeout(2*time.Second))
	reasonstest.CheckServer(strict, url, reasonstest.Timeout(2*time.Second), reasonstest.Strict())
	s := rep.Summary()
	if len(strict.errors) != len(lax.errors)+s.AutobahnFails || s.AutobahnFails == 0 {
		t.Errorf("strict: %d errors, lax %d, Autobahn failures %d", len(strict.errors), len(lax.errors), s.AutobahnFails)
	}
	found := false
	for _, e := range strict.errors {
		found = found || strings.Contains(e, "7.9.2_code_999: Autobahn grades it WRONG CODE: sent Close 03e7, got 1000")
	}
	if !found {
		t.Errorf("no strict error for 7.9.2 among %q", strict.errors)
	}
}

func TestRunServerErrors(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"ftp://127.0.0.1:1/", "ws:// or wss://"},
		{"ws:///x", "no host"},
	} {
		_, err := reasonstest.RunServer(context.Background(), tc.url)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.url, err, tc.want)
		}
	}
	rec := &recorder{TB: t}
	reasonstest.CheckServer(rec, "ftp://127.0.0.1:1/")
	if len(rec.errors) != 1 {
		t.Errorf("CheckServer on a bad URL: %q, want one error", rec.errors)
	}
}

// TestParallelBound: a server that never answers; each case ends at its
// timeout, so the run takes about timeout × ceil(cases/parallel).
func TestParallelBound(t *testing.T) {
	url := rawserver.Start(t, false, func(conn net.Conn, br *bufio.Reader) { time.Sleep(3 * time.Second) })
	start := time.Now()
	rep, err := reasonstest.RunServer(context.Background(), url, reasonstest.Timeout(200*time.Millisecond), reasonstest.Parallel(16))
	took := time.Since(start)
	if err != nil || rep.Summary().Wrong != 47 {
		t.Fatalf("%v, %+v", err, rep.Summary())
	}
	// 1 case alone, then 46 in 3 rounds of 16: 4 × 200ms.
	if took > 2*time.Second {
		t.Errorf("took %v", took)
	}
}

// TestHelperCheckServer is CheckServer in a test of its own, run by
// TestCheckServerSubtests in a child process so that its failures can be
// read: REASONSTEST_HELPER names the server, REASONSTEST_ALLOW the Allow ids.
func TestHelperCheckServer(t *testing.T) {
	server := os.Getenv("REASONSTEST_HELPER")
	if server == "" {
		t.Skip("run by TestCheckServerSubtests")
	}
	serve := map[string]func(net.Conn, *bufio.Reader){"reasons": answerAsReasons, "refuses1014": refuses1014}[server]
	var opts []reasonstest.Option
	if ids := os.Getenv("REASONSTEST_ALLOW"); ids != "" {
		opts = append(opts, reasonstest.Allow(strings.Split(ids, ",")...))
	}
	// The http:// URL httptest gives, as a user passes it.
	url := "http" + strings.TrimPrefix(rawserver.Start(t, false, serve), "ws")
	reasonstest.CheckServer(t, url, append(opts, reasonstest.Timeout(2*time.Second))...)
}

// TestCheckServerSubtests runs CheckServer in a child test binary and reads
// its verbose output: one subtest per case, named by id and case; a wrong
// answer fails its subtest alone; Allow turns it into a log line, and fails
// the subtest once the server no longer deviates; -skip leaves cases out.
func TestCheckServerSubtests(t *testing.T) {
	t.Parallel()
	run := func(server, allow string, args ...string) (string, bool) {
		cmd := exec.Command(os.Args[0], append([]string{"-test.run", "^TestHelperCheckServer$", "-test.v"}, args...)...)
		cmd.Env = append(os.Environ(), "REASONSTEST_HELPER="+server, "REASONSTEST_ALLOW="+allow)
		out, err := cmd.CombinedOutput()
		return string(out), err == nil
	}
	tests := []struct {
		name, server, allow string
		args                []string
		pass                bool
		has, hasNot         []string
	}{
		{"a gorilla-like server fails 1014 alone", "refuses1014", "", nil, false,
			[]string{"--- FAIL: TestHelperCheckServer/1014_IANA", "--- PASS: TestHelperCheckServer/7.9.4_code_1005",
				"--- PASS: TestHelperCheckServer/1013_IANA", "wrong: sent Close 03f6, got 1002 (Close body 03ea)"},
			[]string{"--- FAIL: TestHelperCheckServer/1013_IANA"}},
		{"Allow(1014) keeps it", "refuses1014", "1014", nil, true,
			[]string{"--- PASS: TestHelperCheckServer/1014_IANA", "allowed: wrong: sent Close 03f6, got 1002"}, nil},
		{"Allow by subtest name", "refuses1014", "1014_IANA", nil, true, []string{"--- PASS: TestHelperCheckServer/1014_IANA"}, nil},
		{"Allow fails once the server is fixed", "reasons", "1014", nil, false,
			[]string{"--- FAIL: TestHelperCheckServer/1014_IANA", "no longer deviates", "--- PASS: TestHelperCheckServer/1013_IANA"}, nil},
		{"Allow of no case", "reasons", "7.99.1", nil, false, []string{`Allow("7.99.1") names no case`}, nil},
		{"-skip picks cases", "refuses1014", "", []string{"-test.skip", "TestHelperCheckServer/1014"}, true,
			[]string{"--- PASS: TestHelperCheckServer/7.1.1_text_then_Close"}, []string{"1014_IANA"}},
		{"-run picks cases", "refuses1014", "", []string{"-test.run", "^TestHelperCheckServer$/^7.9.4_"}, true,
			[]string{"--- PASS: TestHelperCheckServer/7.9.4_code_1005"}, []string{"7.9.3_", "7.1.1_"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, pass := run(tc.server, tc.allow, tc.args...)
			if pass != tc.pass {
				t.Errorf("the child test passed: %v, want %v; its output:\n%s", pass, tc.pass, out)
			}
			for _, s := range tc.has {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tc.hasNot {
				if strings.Contains(out, s) {
					t.Errorf("output has %q:\n%s", s, out)
				}
			}
		})
	}
}

// TestSubtestName: the names -run and -skip match, written by hand.
func TestSubtestName(t *testing.T) {
	want := map[string]string{
		"code 1005": "7.9.4_code_1005", "1014 (IANA)": "1014_IANA", "UTF-8: overlong '/'": "UTF-8_overlong",
		"text, then Close": "7.1.1_text_then_Close", "TCP closed after 1000": "TCP_closed_after_1000",
		"UTF-8: surrogate U+D800": "7.5.1_UTF-8_surrogate_U_D800",
	}
	seen := map[string]bool{}
	for _, c := range probe.Cases() {
		name := reasonstest.SubtestName(probe.Result{Case: c.Name, Autobahn: c.Autobahn})
		if seen[name] {
			t.Errorf("two cases are named %q", name)
		}
		seen[name] = true
		if w, ok := want[c.Name]; ok && name != w {
			t.Errorf("%s: %q, want %q", c.Name, name, w)
		}
		delete(want, c.Name)
	}
	if len(want) > 0 {
		t.Errorf("no case for %v", want)
	}
}
