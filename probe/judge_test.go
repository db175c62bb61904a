package probe

import (
	"strings"
	"testing"
)

// TestJudgeSentRules: the rules on sending a Close frame, at their edges,
// written from RFC 6455 §5.2, §5.5 and §5.5.1.
func TestJudgeSentRules(t *testing.T) {
	reason := func(n int) []byte { return append([]byte{0x03, 0xe8}, strings.Repeat("r", n)...) }
	for _, c := range []struct {
		name string
		got  Reply
		want Verdict
		rule string // a part of the rule, or "" for none
		str  string // a part of the reply's String, or ""
	}{
		{"no Close: a drop", Reply{Dropped: true}, Tolerated, "no Close frame came", ""},
		{"no Close: a timeout", Reply{TimedOut: true}, Tolerated, "no Close frame came", ""},
		{"a frame before it broke a rule", Reply{Body: reason(0), FrameRule: "a ping frame before the Close: masked"}, Wrong, "a ping frame before the Close", ""},
		{"1000 with a 123-byte reason: 125 bytes", Reply{Body: reason(123)}, OK, "", ""},
		{"1000 with a 124-byte reason: 126 bytes", Reply{Body: reason(124)}, Wrong, "a Close body of 126 bytes: a control frame carries at most 125 (§5.5)", ""},
		{"RSV bit 1", Reply{Body: reason(0), RSV: 1}, Wrong, "RSV bits 0x1", "RSV bits 0x1"},
		{"RSV bit 4", Reply{Body: reason(0), RSV: 4}, Wrong, "RSV bits 0x4", "RSV bits 0x4"},
		{"3000 with a reason that is not UTF-8", Reply{Body: []byte{0x0b, 0xb8, 0xff, 0xfe}}, Wrong, "not UTF-8", ""},
		{"1000 with a reason that is not UTF-8", Reply{Body: []byte{0x03, 0xe8, 0xc3}}, Wrong, "not UTF-8", ""},
		{"a 1-byte body", Reply{Body: []byte{0x03}}, Wrong, "a Close body of 1 byte", ""},
		{"an empty body", Reply{Body: []byte{}}, OK, "", "empty"},
	} {
		j := JudgeSent(c.got)
		if j.Verdict != c.want || c.rule == "" && j.Rule != "" || !strings.Contains(j.Rule, c.rule) {
			t.Errorf("%s: %s %q, want %s with %q", c.name, j.Verdict, j.Rule, c.want, c.rule)
		}
		if c.str != "" && !strings.Contains(c.got.String(), c.str) {
			t.Errorf("%s: the reply shows as %q, want %q in it", c.name, c.got.String(), c.str)
		}
	}
}

// TestJudgeKeptOpen: §7.1.1 says a server should close TCP after the
// closing handshake, so on "1000 alone" the echo is OK whether or not it
// did (the comparison with package reasons' answer leaves TCP aside), and
// only the row that asks, "TCP closed after 1000", marks a server that
// kept it open, tolerated.
func TestJudgeKeptOpen(t *testing.T) {
	var alone, after Case
	for _, c := range Cases() {
		switch c.Name {
		case "1000 alone":
			alone = c
		case "TCP closed after 1000":
			after = c
		}
	}
	echo := Reply{Body: []byte{0x03, 0xe8}, KeptOpen: true}
	if j := alone.Judge(echo); j.Verdict != OK {
		t.Errorf(`"1000 alone" answered 1000, TCP kept open: %s %q, want ok`, j.Verdict, j.Rule)
	}
	if j := after.Judge(echo); j.Verdict != Tolerated || !strings.Contains(j.Rule, "kept TCP open") {
		t.Errorf(`"TCP closed after 1000" answered 1000, TCP kept open: %s %q, want tolerated`, j.Verdict, j.Rule)
	}
	echo.KeptOpen = false
	if j := after.Judge(echo); j.Verdict != OK {
		t.Errorf(`"TCP closed after 1000" answered 1000, TCP closed: %s %q, want ok`, j.Verdict, j.Rule)
	}
}
