package reasonstest_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/rawserver"
	"github.com/wsreasons/reasons/internal/wsframe"
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
		want := reasonstest.GradeOK
		switch {
		case strings.HasPrefix(r.Autobahn, "7.13.") || r.Autobahn == "7.1.6":
			want = reasonstest.GradeInformational
		case strings.HasSuffix(r.Case, "(IANA)"): // Autobahn's client refuses 1012-1014
			want = reasonstest.GradeUnclean
		}
		if r.Grade != want {
			t.Errorf("%s: graded %s, want %s", r.Case, r.Grade, want)
		}
	}
}

func TestCheckServerFailsOnce(t *testing.T) {
	rec := &recorder{TB: t}
	reasonstest.CheckServer(rec, rawserver.Start(t, false, refuses1014), reasonstest.Timeout(2*time.Second))
	want := "reasonstest: 1014 (IANA): sent Close 03f6, got 1002: a valid code taken for a protocol error (§7.4, IANA registry)"
	if len(rec.errors) != 1 || rec.errors[0] != want {
		t.Errorf("errors %q, want one: %q", rec.errors, want)
	}
}

// TestCheckServerBadReplies: one error per case, each naming the rule,
// against servers whose Close frame breaks one rule on sending one.
func TestCheckServerBadReplies(t *testing.T) {
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
			}
		})
	}
}

func TestStrict(t *testing.T) {
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
		found = found || strings.Contains(e, "code 999 (Autobahn 7.9.2): sent Close 03e7, got 1000: Autobahn grades it WRONG CODE")
	}
	if !found {
		t.Errorf("no strict error for 7.9.2 among %q", strict.errors)
	}
}

func TestRunServerErrors(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"http://127.0.0.1:1/", "ws:// or wss://"},
		{"ws:///x", "no host"},
	} {
		_, err := reasonstest.RunServer(context.Background(), tc.url)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.url, err, tc.want)
		}
	}
	rec := &recorder{TB: t}
	reasonstest.CheckServer(rec, "http://127.0.0.1:1/")
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
