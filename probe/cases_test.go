package probe

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/wsreasons/reasons/internal/wsframe"
)

func code(c int) Reply { return Close(binary.BigEndian.AppendUint16(nil, uint16(c))) }

var empty = Close([]byte{})

func keptOpen(r Reply) Reply {
	r.KeptOpen = true
	return r
}

func with(r Reply, f func(*Reply)) Reply {
	f(&r)
	return r
}

func echoed(r Reply, events ...Event) Reply {
	r.Events, r.Frames = events, len(events)
	return r
}

type want struct {
	reply Reply
	v     Verdict
}

// TestJudge states, case by case and written out by hand from RFC 6455,
// which answers are ok, tolerated and wrong.
func TestJudge(t *testing.T) {
	// Answers to a Close frame with code 1000.
	normal := []want{{code(1000), OK}, {empty, Tolerated}, {code(1001), Tolerated},
		{code(1002), Wrong}, {Dropped, Wrong}, {TimedOut, Wrong}}
	valid := func(c int) []want {
		return []want{{code(c), OK}, {code(1000), Tolerated}, {empty, Tolerated}, {code(1002), Wrong}, {Dropped, Wrong}}
	}
	// A code the sender may not use: the receiver may answer as it likes,
	// but its own Close frame is bound by the same rule: an echo sends a
	// code that no section of §7.4 defines (§5.5.1), or one §7.4.1 forbids.
	senderRule := func(c int) []want {
		return []want{{code(1002), OK}, {Dropped, Tolerated}, {code(c), Wrong}, {code(1000), Tolerated}, {empty, Tolerated}, {TimedOut, Wrong}}
	}
	badUTF8 := func(sent []byte) []want {
		// An empty Close is tolerated: §7.1.7 lets a failing endpoint send
		// a Close first, and one with no code accepts nothing (Autobahn's
		// 7.5.1 takes it too); echoing the code or 1000 accepts the frame.
		return []want{{code(1007), OK}, {code(1002), Tolerated}, {Dropped, Tolerated}, {empty, Tolerated},
			{code(1000), Wrong}, {Close(sent), Wrong}, {TimedOut, Wrong}}
	}
	table := map[string][]want{
		"text, then Close":        append(normal, want{echoed(code(1000), textEvent(hello)), OK}),
		"two Close frames":        normal,
		"ping after Close":        append(normal, want{echoed(code(1000), Event{Op: wsframe.OpPong}), OK}),
		"text after Close":        normal,
		"Close between fragments": normal,
		"256 KiB, Close, ping":    normal,
		// 1002 calls a valid empty Close an error (§5.5.1); Autobahn's
		// 7.3.1 grades it WRONG CODE too.
		"empty body":                {{empty, OK}, {code(1000), Tolerated}, {code(1002), Wrong}, {Dropped, Wrong}, {TimedOut, Wrong}},
		"1-byte body":               {{code(1002), OK}, {empty, Tolerated}, {Dropped, Tolerated}, {TimedOut, Wrong}, {Close([]byte{3}), Wrong}},
		"1000 alone":                normal,
		"1000 with reason":          normal,
		"1000 with 123-byte reason": normal,
		"126-byte body": {{code(1002), OK}, {Dropped, Tolerated}, {code(1000), Tolerated},
			{Close(body(1000, strings.Repeat("x", 124))), Wrong}},
		"valid code 1000":               normal,
		"valid code 1002":               {{code(1002), OK}, {code(1000), Tolerated}, {Dropped, Wrong}},
		"1012 (IANA)":                   valid(1012),
		"1013 (IANA)":                   valid(1013),
		"1014 (IANA)":                   valid(1014),
		"TCP closed after 1000":         {{code(1000), OK}, {keptOpen(code(1000)), Tolerated}, {keptOpen(empty), Tolerated}, {code(1002), Wrong}, {keptOpen(code(1002)), Wrong}, {Dropped, Wrong}, {TimedOut, Wrong}},
		"UTF-8: surrogate U+D800":       badUTF8(body(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited")),
		"UTF-8: lone continuation byte": badUTF8(body(1000, "ok\x80")),
		"UTF-8: overlong '/'":           badUTF8(body(1000, "\xc0\xaf")),
		"UTF-8: above U+10FFFF":         badUTF8(body(1000, "\xf4\x90\x80\x80")),
		"UTF-8: truncated sequence":     badUTF8(body(1000, "ok\xe2\x82")),
		"UTF-8: byte 0xff":              badUTF8(body(1000, "\xff")),
	}
	for _, c := range []int{1001, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		table["valid code "+strconv.Itoa(c)] = valid(c)
	}
	for _, c := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		table["code "+strconv.Itoa(c)] = senderRule(c)
	}
	seen := map[string]bool{}
	for _, c := range Cases() {
		seen[c.Name] = true
		wants, ok := table[c.Name]
		if !ok {
			t.Errorf("case %q has no row in this test", c.Name)
			continue
		}
		for _, w := range wants {
			j := c.Judge(w.reply)
			if j.Verdict != w.v {
				t.Errorf("%s: reply %s judged %s (%s), want %s", c.Name, w.reply, j.Verdict, j.Rule, w.v)
			}
			if (j.Verdict == OK) != (j.Rule == "") {
				t.Errorf("%s: reply %s judged %s with the rule %q", c.Name, w.reply, j.Verdict, j.Rule)
			}
		}
	}
	for name := range table {
		if !seen[name] {
			t.Errorf("this test has a row for %q, which is no case", name)
		}
	}
}

// TestJudgeSendRules holds each rule on sending a Close frame against a
// reply that breaks it: the reply is wrong, and the row names the rule and
// its section, whatever the case.
func TestJudgeSendRules(t *testing.T) {
	long := Close(body(1000, strings.Repeat("x", 198)))
	tests := []struct {
		name  string
		reply Reply
		rule  string // words the rule must hold, its section last
	}{
		{"1005", code(1005), "1005 §7.4.1"},
		{"1006", code(1006), "1006 §7.4.1"},
		{"1015", code(1015), "1015 §7.4.1"},
		// Codes no section of §7.4 defines: §5.5.1, and the range's section.
		{"0", code(0), "0 0-999 §7.4.2 §5.5.1"},
		{"999", code(999), "999 0-999 §7.4.2 §5.5.1"},
		{"1004", code(1004), "1004 reserves §7.4.1 §5.5.1"},
		{"1016", code(1016), "1016 1016-2999 §7.4.2 §5.5.1"},
		{"2999", code(2999), "2999 1016-2999 §7.4.2 §5.5.1"},
		{"5000", code(5000), "5000 §7.4.2 §5.5.1"},
		{"65535", code(65535), "65535 5000 §7.4.2 §5.5.1"},
		{"1-byte body", Close([]byte{0x03}), "1 byte §5.5.1"},
		{"200-byte body", long, "200 bytes §5.5"},
		{"masked", with(code(1000), func(r *Reply) { r.Masked = true }), "masked §5.1"},
		{"fragmented", with(code(1000), func(r *Reply) { r.FINClear = true }), "FIN fragmented §5.5"},
		{"RSV bits", with(code(1000), func(r *Reply) { r.RSV = 4 }), "RSV 0x4 §5.2"},
		{"reason not UTF-8", Close(body(1000, "ok\xff")), "UTF-8 §5.5.1"},
		{"64-bit length with the top bit set", Reply{Broken: "a 64-bit payload length with its most significant bit set (§5.2)"}, "64-bit §5.2"},
		{"a masked text frame before the Close", with(code(1000), func(r *Reply) {
			r.FrameRule = "a text frame before the Close: a server must not mask its frames (§5.1)"
		}), "text mask §5.1"},
	}
	for _, c := range Cases() {
		for _, tc := range tests {
			j := c.Judge(tc.reply)
			if j.Verdict != Wrong {
				t.Errorf("%s: %s judged %s, want wrong", c.Name, tc.name, j.Verdict)
				continue
			}
			for _, word := range strings.Fields(tc.rule) {
				if !strings.Contains(j.Rule, word) {
					t.Errorf("%s: %s: rule %q does not say %q", c.Name, tc.name, j.Rule, word)
				}
			}
		}
	}
}

// TestGrade states by hand, from Autobahn's case files and case.py, the
// grade its grader gives each kind of answer.
func TestGrade(t *testing.T) {
	echo := func(r Reply) Reply { return echoed(r, textEvent(hello)) }
	tests := map[string][]struct {
		reply Reply
		grade Grade
	}{
		// Clean close with normal code; an empty Close passes the code
		// check.
		"7.3.3": {
			{code(1000), GradeOK}, {empty, GradeOK},
			{code(1001), GradeWrongCode}, {code(1002), GradeWrongCode},
			{keptOpen(code(1000)), GradeUnclean}, {Dropped, GradeUnclean}, {TimedOut, GradeUnclean},
			{with(code(1000), func(r *Reply) { r.Masked = true }), GradeUnclean},
			{Close([]byte{3}), GradeUnclean},
			// 1005 is refused, so the close is unclean, and it is not
			// 1000 either: case.py checks UNCLEAN before WRONG CODE.
			{code(1005), GradeUnclean},
			// lighttpd's answer: the text "1000" as a code, 12592.
			{Close([]byte("1000")), GradeUnclean},
			{with(code(1000), func(r *Reply) { r.AfterKill = true }), GradeUnclean},
			// The server closed first: the wrong endpoint (FAILED), before
			// the clean check.
			{with(Dropped, func(r *Reply) { r.EndedFirst = true }), GradeFailed},
			{echoed(code(1000), Event{Op: wsframe.OpPong}), GradeFailed},
		},
		// The echo is expected before the close.
		"7.1.1": {
			{echo(code(1000)), GradeOK}, {code(1000), GradeFailed}, {echo(code(1001)), GradeWrongCode},
			{echo(Dropped), GradeUnclean}, {echo(keptOpen(code(1000))), GradeUnclean},
			// The echo came after the kill bound: Autobahn had failed the
			// connection, whatever came next.
			{with(echo(code(1000)), func(r *Reply) { r.LateClose, r.AfterKill = true, true }), GradeFailed},
			// A wrong code still names the cause over the late events (the
			// case file's override comes last).
			{with(echo(code(1001)), func(r *Reply) { r.LateClose = true }), GradeWrongCode},
			// The server answered the text with a Close of its own.
			{with(code(1000), func(r *Reply) { r.EndedFirst = true }), GradeFailed},
			{with(echo(code(1000)), func(r *Reply) { r.EndedFirst = true }), GradeFailed},
		},
		"7.1.3": {{code(1000), GradeOK}, {echoed(code(1000), Event{Op: wsframe.OpPong}), GradeFailed}},
		"7.1.6": {{code(1000), GradeInformational}, {Dropped, GradeInformational}},
		// Normal or echoed code, clean.
		"7.7.2": {{code(1001), GradeOK}, {code(1000), GradeOK}, {empty, GradeOK}, {code(1002), GradeWrongCode}, {Dropped, GradeUnclean}},
		"7.7.6": {{code(1008), GradeOK}, {keptOpen(code(1008)), GradeUnclean}},
		// Protocol error, or the connection dropped; clean not required.
		"7.9.1": {{code(1002), GradeOK}, {Dropped, GradeOK}, {empty, GradeOK}, {TimedOut, GradeOK}, {keptOpen(code(1002)), GradeOK},
			{code(0), GradeWrongCode}, {code(1000), GradeWrongCode}},
		"7.9.2": {{code(999), GradeWrongCode}, {code(1002), GradeOK},
			// Clean not required: a refused code is still compared.
			{code(1005), GradeWrongCode}, {Close([]byte("1000")), GradeWrongCode}},
		"7.9.9": {{code(2999), GradeWrongCode}},
		"7.3.2": {{code(1002), GradeOK}, {empty, GradeOK}, {Dropped, GradeOK}, {code(1000), GradeWrongCode}},
		"7.3.6": {{code(1002), GradeOK}, {code(1000), GradeWrongCode}},
		// 1002 or 1007.
		"7.5.1": {{code(1007), GradeOK}, {code(1002), GradeOK}, {Dropped, GradeOK}, {code(1000), GradeWrongCode}},
		// Undefined by the RFC.
		"7.13.1": {{code(5000), GradeInformational}, {code(1000), GradeInformational}},
		"7.13.2": {{Dropped, GradeInformational}},
	}
	byID := map[string]Case{}
	for _, c := range Cases() {
		if c.Autobahn != "" {
			byID[c.Autobahn] = c
		}
	}
	for id, rows := range tests {
		c, ok := byID[id]
		if !ok {
			t.Errorf("no case has the Autobahn id %s", id)
			continue
		}
		for _, r := range rows {
			if got := c.Grade(r.reply); got != r.grade {
				t.Errorf("%s (%s): %s graded %s, want %s", id, c.Name, r.reply, got, r.grade)
			}
		}
	}
	// Rows beyond Autobahn borrow an expectation.
	for _, c := range Cases() {
		if (c.Autobahn == "") == (c.Expect.Like == "") {
			t.Errorf("%s: Autobahn id %q, like %q: exactly one must be set", c.Name, c.Autobahn, c.Expect.Like)
		}
	}
}

// TestCases checks the case list against Autobahn TestSuite's §7 as its
// case files define it: every id once, with the code it sends.
func TestCases(t *testing.T) {
	want := map[string]string{ // id: the Close body, in hex
		"7.1.1": "03e8", "7.1.2": "03e8", "7.1.3": "03e8", "7.1.4": "03e8", "7.1.5": "03e8", "7.1.6": "03e8",
		"7.3.1": "", "7.3.2": "61", "7.3.3": "03e8", "7.3.5": "03e8" + strings.Repeat("72", 123),
		"7.3.6": "03e8" + strings.Repeat("78", 124),
		"7.5.1": "03e8cebae1bdb9cf83cebcceb5eda080656469746564",
		"7.7.1": "03e8", "7.7.2": "03e9", "7.7.3": "03ea", "7.7.4": "03eb", "7.7.5": "03ef", "7.7.6": "03f0",
		"7.7.7": "03f1", "7.7.8": "03f2", "7.7.9": "03f3", "7.7.10": "0bb8", "7.7.11": "0f9f", "7.7.12": "0fa0",
		"7.7.13": "1387",
		"7.9.1":  "0000", "7.9.2": "03e7", "7.9.3": "03ec", "7.9.4": "03ed", "7.9.5": "03ee", "7.9.6": "03f8",
		"7.9.7": "044c", "7.9.8": "07d0", "7.9.9": "0bb7",
		"7.13.1": "1388", "7.13.2": "ffff",
	}
	seen := map[string]bool{}
	names := map[string]bool{}
	for _, c := range Cases() {
		if names[c.Name] {
			t.Errorf("two cases are named %q", c.Name)
		}
		names[c.Name] = true
		if c.Autobahn == "" {
			continue
		}
		if seen[c.Autobahn] {
			t.Errorf("two cases have the id %s", c.Autobahn)
		}
		seen[c.Autobahn] = true
		if w, ok := want[c.Autobahn]; ok && hex.EncodeToString(c.Payload) != w {
			t.Errorf("%s (%s) sends %s, want %s", c.Autobahn, c.Name, hex.EncodeToString(c.Payload), w)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("no case has the Autobahn id %s", id)
		}
	}
	if !seen["7.3.4"] {
		t.Error("no case has the Autobahn id 7.3.4")
	}
	// The frames around the Close frame of 7.1.5 and 7.1.6.
	for _, c := range Cases() {
		switch c.Autobahn {
		case "7.1.5":
			f := c.Frames()
			if len(f) != 3 || !f[0].More || f[0].Op != wsframe.OpText || f[2].Op != wsframe.OpContinuation || f[2].More {
				t.Errorf("7.1.5 frames: %+v", f)
			}
		case "7.1.6":
			f := c.Frames()
			if len(f) != 4 || len(f[0].Payload) != 256<<10 || string(f[1].Payload) != hello || f[3].Op != wsframe.OpPing {
				t.Errorf("7.1.6 frames: %d of them", len(f))
			}
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
		{with(code(1000), func(r *Reply) { r.Masked, r.RSV, r.FINClear = true, 2, true }), "1000, masked, RSV bits 0x2, FIN clear"},
		{Close(body(1000, strings.Repeat("x", 198))), "1000, 200-byte body"},
		{echoed(code(1000), textEvent(hello), Event{Op: wsframe.OpPong}), "text(12) pong(0) then 1000"},
		{Reply{Broken: "why"}, "bad frame: why"},
		{echoed(code(1000), Event{Op: wsframe.OpContinuation, Len: 3}), "continuation(3) then 1000"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.r, got, tc.want)
		}
	}
}

// TestRequires states by hand what RFC 6455 and the IANA registry require
// of the receiver, for a case of each kind.
func TestRequires(t *testing.T) {
	requires := map[string]string{
		"empty body":                "a Close (§5.5.1)",
		"text, then Close":          "a Close, not a protocol error (§5.5.1, §7.4.1, IANA)",
		"1014 (IANA)":               "a Close, not a protocol error (§5.5.1, §7.4.1, IANA)",
		"valid code 4999":           "a Close, not a protocol error (§5.5.1, §7.4.2)",
		"valid code 3000":           "a Close, not a protocol error (§5.5.1, §7.4.2)",
		"1-byte body":               "nothing: §5.5.1 binds the sender",
		"126-byte body":             "nothing: §5.5 binds the sender",
		"code 999":                  "not the echo: a Close frame's code is one §7.4 defines (§5.5.1, §7.4.2)",
		"code 1004":                 "not the echo: §7.4.1 binds the sender, and so the reply",
		"code 1005":                 "not the echo: §7.4.1 binds the sender, and so the reply",
		"code 1100":                 "not the echo: a Close frame's code is one §7.4 defines (§5.5.1, §7.4.2)",
		"code 5000":                 "not the echo: a Close frame's code is one §7.4 defines (§5.5.1, §7.4.2)",
		"UTF-8: byte 0xff":          "fail the connection, not echo (§8.1)",
		"UTF-8: truncated sequence": "fail the connection, not echo (§8.1)",
		"TCP closed after 1000":     "a Close, then the server closes TCP (§7.1.1, should)",
	}
	seen := 0
	for _, c := range Cases() {
		want, ok := requires[c.Name]
		if !ok {
			continue
		}
		seen++
		if got := c.Requires(); got != want {
			t.Errorf("%s: Requires() = %q, want %q", c.Name, got, want)
		}
	}
	if seen != len(requires) {
		t.Errorf("%d of the %d cases this test names exist", seen, len(requires))
	}
}
