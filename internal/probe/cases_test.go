package probe

import (
	"encoding/binary"
	"strings"
	"testing"
)

func code(c int) Reply { return Close(binary.BigEndian.AppendUint16(nil, uint16(c))) }

var empty = Close([]byte{})

func keptOpen(r Reply) Reply {
	r.KeptOpen = true
	return r
}

// TestJudge states, case by case and written out by hand from RFC 6455 and
// Autobahn TestSuite, which answers are ok, tolerated and wrong.
func TestJudge(t *testing.T) {
	type want struct {
		reply Reply
		v     Verdict
	}
	badUTF8 := []want{{code(1007), OK}, {code(1002), Tolerated}, {Dropped, Tolerated}, {code(1000), Wrong}, {empty, Wrong}}
	senderRule := func(c int) []want {
		return []want{{code(1002), OK}, {Dropped, Tolerated}, {code(c), Tolerated}, {empty, Tolerated}}
	}
	table := map[string][]want{
		"empty body":                {{empty, OK}, {code(1000), Tolerated}, {Dropped, Wrong}, {TimedOut, Wrong}},
		"1000 alone":                {{code(1000), OK}, {empty, Tolerated}, {code(1002), Wrong}, {Dropped, Wrong}, {TimedOut, Wrong}},
		"1000 with 123-byte reason": {{code(1000), OK}, {empty, Tolerated}, {code(1002), Wrong}, {Dropped, Wrong}},
		"1012 (IANA)":               {{code(1012), OK}, {code(1000), Tolerated}, {code(1002), Wrong}, {Dropped, Wrong}},
		"1013 (IANA)":               {{code(1013), OK}, {code(1000), Tolerated}, {code(1002), Wrong}, {Dropped, Wrong}},
		"3000 (registered)":         {{code(3000), OK}, {code(1000), Tolerated}, {code(1002), Wrong}, {Dropped, Wrong}},
		"TCP closed after 1000": {{code(1000), OK}, {keptOpen(code(1000)), Tolerated}, {keptOpen(empty), Tolerated},
			{code(1002), Wrong}, {keptOpen(code(1002)), Wrong}, {Dropped, Wrong}, {TimedOut, Wrong}},
		"1000 with reason": {{code(1000), OK}, {empty, Tolerated}, {code(1002), Wrong}, {Dropped, Wrong}},
		"1014 (IANA)":      {{code(1014), OK}, {code(1000), Tolerated}, {code(1002), Wrong}, {Dropped, Wrong}},
		"4999 (private)":   {{code(4999), OK}, {code(1000), Tolerated}, {code(1002), Wrong}},
		"1-byte body":      {{code(1002), OK}, {empty, Tolerated}, {Dropped, Tolerated}, {TimedOut, Wrong}},
		"126-byte body":    {{code(1002), OK}, {Dropped, Tolerated}, {code(1000), Tolerated}},
		"code 0":           senderRule(0),
		"code 999":         senderRule(999),
		"code 1004":        senderRule(1004),
		"code 1005":        senderRule(1005),
		"code 1006":        senderRule(1006),
		"code 1015":        senderRule(1015),
		"code 1016":        senderRule(1016),
		"code 2999":        senderRule(2999),
		"code 5000":        senderRule(5000),
		"code 65535":       senderRule(65535),
	}
	for _, c := range Cases() {
		wants, ok := table[c.Name]
		if !ok && strings.HasPrefix(c.Name, "UTF-8: ") {
			wants, ok = badUTF8, true
		}
		if !ok {
			t.Errorf("case %q has no row in this test", c.Name)
			continue
		}
		for _, w := range wants {
			if got := c.Judge(w.reply); got != w.v {
				t.Errorf("%s: reply %s judged %s, want %s", c.Name, w.reply, got, w.v)
			}
		}
	}
}

func TestCases(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Cases() {
		if seen[c.Name] {
			t.Errorf("two cases are named %q", c.Name)
		}
		seen[c.Name] = true
	}
	if n := len(Cases()); n != 28 {
		t.Errorf("%d cases, want 28", n)
	}
	requires := map[string]string{
		"empty body":                "a Close (§5.5.1)",
		"1014 (IANA)":               "a Close, not a protocol error (§5.5.1, §7.4.1, IANA)",
		"4999 (private)":            "a Close, not a protocol error (§5.5.1, §7.4.2)",
		"1-byte body":               "nothing: §5.5.1 binds the sender",
		"126-byte body":             "nothing: §5.5 binds the sender",
		"code 999":                  "nothing: §7.4.2 binds the sender",
		"code 1005":                 "nothing: §7.4.1 binds the sender",
		"code 5000":                 "nothing: the RFC is silent",
		"UTF-8: byte 0xff":          "fail the connection, not echo (§8.1)",
		"UTF-8: truncated sequence": "fail the connection, not echo (§8.1)",
		"3000 (registered)":         "a Close, not a protocol error (§5.5.1, §7.4.2)",
		"TCP closed after 1000":     "a Close, then the server closes TCP (§7.1.1, should)",
	}
	for _, c := range Cases() {
		if want, ok := requires[c.Name]; ok && c.Requires() != want {
			t.Errorf("%s: Requires() = %q, want %q", c.Name, c.Requires(), want)
		}
	}
}

func TestReplyString(t *testing.T) {
	for _, tc := range []struct {
		r    Reply
		want string
	}{
		{Dropped, "dropped"},
		{TimedOut, "timed out"},
		{keptOpen(code(1000)), "1000, TCP kept open"},
		{empty, "empty"},
		{Close(nil), "empty"},
		{Close([]byte{0x03}), "1-byte body 0x3"},
		{code(1002), "1002"},
		{Close([]byte{0xff, 0xff, 'x'}), "65535"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.r, got, tc.want)
		}
	}
}
