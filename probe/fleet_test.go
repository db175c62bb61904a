package probe

import (
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
)

// TestFleetOf: the verdicts on a fleet's returns, from times made up for
// each rule.
func TestFleetOf(t *testing.T) {
	ms := func(ds ...int) []time.Duration {
		var out []time.Duration
		for _, d := range ds {
			out = append(out, time.Duration(d)*time.Millisecond)
		}
		return out
	}
	for _, c := range []struct {
		name  string
		code  reasons.Reason
		times []time.Duration
		want  Verdict
		rule  string // a part of the rule, or "" for none
	}{
		{"none back", reasons.GoingAway, nil, Tolerated, "no client has come back"},
		{"herd after 1001", reasons.GoingAway, ms(900, 10, 20, 30), Wrong, "a herd: 4 of 4"},
		{"spread after 1001", reasons.GoingAway, ms(3000, 10, 1100, 2200), OK, ""},
		{"early after 1012", reasons.ServiceRestart, ms(6000, 4000, 9000, 20000), Wrong, "the first client was back 4s after 1012"},
		{"in the window after 1012", reasons.ServiceRestart, ms(6000, 8000, 12000, 20000), OK, ""},
	} {
		r := FleetOf(4, c.code, c.times)
		if r.Verdict != c.want || !strings.Contains(r.Rule, c.rule) || (c.rule == "" && r.Rule != "") {
			t.Errorf("%s: %s %q, want %s with %q", c.name, r.Verdict, r.Rule, c.want, c.rule)
		}
		if r.Returns != len(c.times) || !r.Closed {
			t.Errorf("%s: %d returns, closed %v; want %d, true", c.name, r.Returns, r.Closed, len(c.times))
		}
	}
	r := FleetOf(4, reasons.GoingAway, ms(3000, 10, 1100, 2200))
	if r.First != 10*time.Millisecond || r.Median != 2200*time.Millisecond || r.Last != 3*time.Second || r.InSecond != 2 {
		t.Errorf("first %v median %v last %v in a second %d; want 10ms 2.2s 3s 2", r.First, r.Median, r.Last, r.InSecond)
	}
}
