package probe

import (
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
)

// TestJudgeReturnTimes: the verdicts on a client's returns, from made-up
// times, at the edges of each rule: the IANA registration's 5 s after
// 1012, back-off after codes advised reconnect (RFC 6455 §7.2.3), no
// return after 1000 and a loop after refusals.
func TestJudgeReturnTimes(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	// script makes steps closed with codes, each arriving at the offset
	// given (the first at 0), closed at once.
	script := func(codes []reasons.Reason, at ...time.Duration) []step {
		var s []step
		for i, c := range codes {
			a := t0.Add(at[i])
			s = append(s, step{code: c, arrived: a, closed: a})
		}
		return s
	}
	for _, c := range []struct {
		name  string
		steps []step
		i     int // the step whose return is judged
		back  bool
		want  Verdict
		rule  string
	}{
		{"back 4.9 s after 1012", script([]reasons.Reason{1012, 1012}, 0, 4900*time.Millisecond), 0, true, Wrong, "back before 5s"},
		{"back 5.1 s after 1012", script([]reasons.Reason{1012, 1012}, 0, 5100*time.Millisecond), 0, true, OK, ""},
		{"not back after 1012", script([]reasons.Reason{1012}, 0), 0, false, Tolerated, "not back yet"},
		{"back after 1000", script([]reasons.Reason{1000, 1000}, 0, time.Second), 0, true, Tolerated, "came back after 1000"},
		{"three returns 1.5 s apart after 1001", script([]reasons.Reason{1001, 1001, 1001, 1001}, 0, 1500*time.Millisecond, 3000*time.Millisecond, 4500*time.Millisecond), 2, true, OK, ""},
		{"three returns within a second after 1001", script([]reasons.Reason{1001, 1001, 1001, 1001}, 0, 300*time.Millisecond, 600*time.Millisecond, 900*time.Millisecond), 2, true, Wrong, "no back-off"},
		{"the third return after 1002", script([]reasons.Reason{1002, 1002, 1002, 1002}, 0, 2*time.Second, 4*time.Second, 6*time.Second), 2, true, Tolerated, "came back after 1002"},
		{"the fourth return after 1002", script([]reasons.Reason{1002, 1002, 1002, 1002, 1002}, 0, 2*time.Second, 4*time.Second, 6*time.Second, 8*time.Second), 3, true, Wrong, "a loop"},
	} {
		var after time.Duration
		if c.back {
			after = c.steps[c.i+1].arrived.Sub(c.steps[c.i].closed)
		}
		v, rule := judgeReturn(c.steps, c.i, c.back, after)
		if v != c.want || c.rule == "" && rule != "" || !strings.Contains(rule, c.rule) {
			t.Errorf("%s: %s %q, want %s with %q", c.name, v, rule, c.want, c.rule)
		}
	}
}
