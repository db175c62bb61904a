package probe

import (
	"strings"
	"testing"

	"github.com/wsreasons/reasons"
)

// caseByID is the case with Autobahn id id.
func caseByID(t *testing.T, id string) Case {
	t.Helper()
	for _, c := range Cases() {
		if c.Autobahn == id {
			return c
		}
	}
	t.Fatalf("no case %s", id)
	return Case{}
}

// TestGradesAtTheEdges: Autobahn's grades (case.py's order: events, then
// the close) for answers at the edges of each check.
func TestGradesAtTheEdges(t *testing.T) {
	if !GradeUnclean.Fails() || !GradeWrongCode.Fails() || !GradeFailed.Fails() || GradeNonStrict.Fails() || GradeOK.Fails() || GradeInformational.Fails() {
		t.Error("Fails: FAILED, WRONG CODE and UNCLEAN fail, the others do not")
	}
	c711 := caseByID(t, "7.1.1")
	echo := c711.Expect.OK
	for _, c := range []struct {
		name string
		c    Case
		got  Reply
		want Grade
		why  string // a part of the reason, or ""
	}{
		{"7.1.1 answered 1001 after the echo", c711, Reply{Events: echo, Body: []byte{0x03, 0xe9}}, GradeWrongCode, "not 1001"},
		{"7.1.1 answered 1000 after the echo", c711, Reply{Events: echo, Body: []byte{0x03, 0xe8}}, GradeOK, ""},
		{"7.3.3 with an empty Close and TCP kept open", caseByID(t, "7.3.3"), Reply{Body: []byte{}, KeptOpen: true}, GradeUnclean, "had not closed TCP"},
		{"7.7.1 with a 200-byte Close", caseByID(t, "7.7.1"), Reply{Body: append([]byte{0x03, 0xe8}, strings.Repeat("x", 198)...)}, GradeUnclean, "requires a clean close"},
		{"7.7.1 with a reason that is not UTF-8", caseByID(t, "7.7.1"), Reply{Body: []byte{0x03, 0xe8, 0xff}}, GradeUnclean, "requires a clean close"},
		{"7.7.1 after a frame that breaks a rule", caseByID(t, "7.7.1"), Reply{Body: []byte{0x03, 0xe8}, FrameRule: "a ping frame before the Close: masked"}, GradeUnclean, "requires a clean close"},
	} {
		g, why := c.c.GradeWhy(c.got)
		if g != c.want || !strings.Contains(why, c.why) || c.why == "" && why != "" {
			t.Errorf("%s: %s %q, want %s with %q", c.name, g, why, c.want, c.why)
		}
	}
}

// TestCaseForAndFrames: CaseFor's expectations, and the frames each 7.1.x
// case sends around its Close, in order, from Autobahn's case files
// (autobahntestsuite/case/case7_1_*.py, onOpen); "…" marks FIN clear.
func TestCaseForAndFrames(t *testing.T) {
	if c := CaseFor("empty", []byte{}); c.Expect.Like != "7.3.1" {
		t.Errorf("an empty body is like %q, want 7.3.1", c.Expect.Like)
	}
	bad := CaseFor("bad reason", []byte{0x03, 0xe8, 0xff})
	if bad.Expect.Like != "7.5.1" || !slicesContain(bad.Expect.Codes, reasons.InconsistentData) {
		t.Errorf("a reason that is not UTF-8: like %q, codes %v; want 7.5.1 taking 1007", bad.Expect.Like, bad.Expect.Codes)
	}
	c3000 := CaseFor("3000", []byte{0x0b, 0xb8})
	if g := c3000.Grade(Reply{Dropped: true}); g != GradeUnclean {
		t.Errorf("3000 answered by a drop: %s, want UNCLEAN", g)
	}
	for id, want := range map[string]string{
		"7.1.1": "text close",
		"7.1.2": "close close",
		"7.1.3": "close ping",
		"7.1.4": "close text",
		"7.1.5": "text… close continuation", // a first fragment, FIN clear (case7_1_5.py)
		"7.1.6": "text text close ping",     // 256 KiB, "Hello World!" (case7_1_6.py)
	} {
		var ops []string
		for _, f := range caseByID(t, id).Frames() {
			op := map[byte]string{0x0: "continuation", 0x1: "text", 0x2: "binary", 0x8: "close", 0x9: "ping"}[byte(f.Op)]
			if f.More {
				op += "…"
			}
			ops = append(ops, op)
		}
		if got := strings.Join(ops, " "); got != want {
			t.Errorf("%s sends %s, want %s", id, got, want)
		}
	}
}

func slicesContain(codes []reasons.Reason, r reasons.Reason) bool {
	for _, c := range codes {
		if c == r {
			return true
		}
	}
	return false
}

// TestJudgeGradeNote: a result graded WRONG CODE says what Autobahn takes.
func TestJudgeGradeNote(t *testing.T) {
	r := Judge(caseByID(t, "7.7.1"), Reply{Body: []byte{0x03, 0xe9}})
	if r.Grade != GradeWrongCode || r.GradeNote != "Autobahn takes 1000 or an empty Close, not 1001" {
		t.Errorf("7.7.1 answered 1001: %s %q", r.Grade, r.GradeNote)
	}
}

// TestAutobahnAccepts: what the tables say Autobahn takes, from its case
// files' expectedClose: the codes, an empty Close, and a drop or no answer
// where it does not require a clean close.
func TestAutobahnAccepts(t *testing.T) {
	for id, want := range map[string]string{
		"7.1.1":  "the echo, then 1000, empty",
		"7.3.2":  "1002, empty, dropped, no answer",
		"7.5.1":  "1002, 1007, empty, dropped, no answer",
		"7.7.2":  "1000, 1001, empty",
		"7.7.1":  "1000, empty",
		"7.13.1": "anything (informational)",
	} {
		if got := caseByID(t, id).AutobahnAccepts(); got != want {
			t.Errorf("%s: Autobahn takes %q, want %q", id, got, want)
		}
	}
}
