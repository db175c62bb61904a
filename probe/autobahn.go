package probe

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wsreasons/reasons"
)

// Grade is the grade Autobahn TestSuite gives an answer, as its report
// writes it.
type Grade string

// The grades of Autobahn TestSuite's close cases.
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
func (g Grade) Fails() bool {
	return g == GradeFailed || g == GradeWrongCode || g == GradeUnclean
}

// Expectation is what an Autobahn case expects, as its case file writes it
// (autobahntestsuite/case/case7_*.py): the events before the close for OK
// and for NON-STRICT, the close codes it accepts from the server, and
// whether the close must be clean.
type Expectation struct {
	// Like is, for a row beyond Autobahn, the Autobahn case whose
	// expectation it borrows, such as "7.7.x".
	Like string
	// OK lists the messages, pings and pongs expected before the server's
	// Close frame (none when empty); NonStrict, when not nil, another list
	// that gets NON-STRICT.
	OK, NonStrict []Event
	// Codes are the codes accepted in the server's Close frame. A Close
	// frame without a code, and no Close frame at all, pass this check.
	Codes []reasons.Reason
	// RequireClean asks for a clean close: a Close frame Autobahn accepts,
	// then TCP closed by the server within a second.
	RequireClean bool
	// Informational marks a case whose outcome the RFC leaves open; it is
	// graded INFORMATIONAL whatever happens.
	Informational bool
}

// Grade is the grade Autobahn TestSuite's grader (autobahntestsuite/case/
// case.py and the case's own file) gives got as the answer to c. Autobahn
// grades the events and the close apart. The events are OK when they are
// exactly c.Expect.OK, NON-STRICT when they are exactly c.Expect.NonStrict,
// else FAILED; events that came after KillAfter (Reply.LateClose) do not
// count. The close is checked in case.py's order, the first that applies
// deciding: FAILED when the wrong endpoint started the close
// (Reply.EndedFirst), UNCLEAN when a clean close is required and it was not
// clean, WRONG CODE when the server's code is not among c.Expect.Codes,
// else OK. (case.py's last check, FAILED BY CLIENT for a server that left
// TCP for Autobahn's client to close, is a note Autobahn does not count as
// a failure; it is not a grade here.) Then the case file's own override:
// every §7 case turns a WRONG CODE close into a FAILED case; Grade names
// that cause instead. So the grade is WRONG CODE when the close is, else
// FAILED when the events are, else the close's FAILED or UNCLEAN, else the
// events' grade.
//
// The close is seen as the client of autobahn 0.10.9, the version the
// TestSuite pins, sees it. A frame it refuses fails the connection, which
// makes the close unclean: any frame rule, a 1-byte body, more than 125
// bytes, a reason that is not UTF-8, or a code outside 1000-1003, 1007-1011
// and 3000-4999. A refused frame leaves the close unclean before its code
// is compared, so UNCLEAN comes first where both apply.
func (c Case) Grade(got Reply) Grade {
	g, _ := c.GradeWhy(got)
	return g
}

// GradeWhy is Grade with the reason for a grade that fails: what Autobahn
// expected and what came instead; "" for the others.
func (c Case) GradeWhy(got Reply) (Grade, string) {
	e := c.Expect
	if e.Informational {
		return GradeInformational, ""
	}
	events := GradeFailed
	switch {
	case got.LateClose:
	case slices.Equal(got.Events, e.OK):
		events = GradeOK
	case e.NonStrict != nil && slices.Equal(got.Events, e.NonStrict):
		events = GradeNonStrict
	}
	close, closeWhy := c.closeGrade(got)
	switch {
	case close == GradeWrongCode:
		return GradeWrongCode, closeWhy
	case events == GradeFailed && got.LateClose:
		return GradeFailed, fmt.Sprintf("Autobahn expects the echo %s within %v, then closes; it fails the connection there", eventList(e.OK), KillAfter)
	case events == GradeFailed && len(e.OK) > 0:
		return GradeFailed, fmt.Sprintf("Autobahn expects the echo %s before the Close", eventList(e.OK))
	case events == GradeFailed:
		return GradeFailed, fmt.Sprintf("Autobahn expects no message before the Close, got %s", eventList(got.Events))
	case close != GradeOK:
		return close, closeWhy
	}
	return events, ""
}

// closeGrade is case.py's grade of the close alone, its checks in its
// order, with why for a grade that fails.
func (c Case) closeGrade(got Reply) (Grade, string) {
	code, hasCode, clean := autobahnClose(got)
	switch {
	case got.EndedFirst:
		return GradeFailed, "Autobahn starts the close itself; the server ended the connection first"
	case c.Expect.RequireClean && !clean:
		return GradeUnclean, "Autobahn requires a clean close: " + uncleanWhy(got)
	case hasCode && !slices.Contains(c.Expect.Codes, code):
		return GradeWrongCode, fmt.Sprintf("Autobahn takes %s, not %d", codeList(c.Expect.Codes), code)
	}
	return GradeOK, ""
}

func codeList(codes []reasons.Reason) string {
	var s []string
	for _, c := range codes {
		s = append(s, strconv.Itoa(int(c)))
	}
	return strings.Join(s, " or ") + " or an empty Close"
}

func eventList(events []Event) string {
	var s []string
	for _, e := range events {
		s = append(s, e.String())
	}
	return strings.Join(s, " ")
}

// uncleanWhy says why Autobahn's client finds a close unclean.
func uncleanWhy(got Reply) string {
	switch {
	case got.TimedOut:
		return "nothing came back"
	case !got.closed():
		return "no Close frame"
	case got.AfterKill:
		return fmt.Sprintf("the Close came after %v, when it fails the connection", KillAfter)
	case got.KeptOpen:
		return fmt.Sprintf("the server had not closed TCP %v after the handshake", KillAfter)
	case len(got.Body) >= 2 && !autobahnAccepts(got.code()):
		return fmt.Sprintf("its client refuses code %d", got.code())
	}
	return "it refuses this Close frame"
}

// autobahnClose is the close as Autobahn's client sees it: the code of the
// server's Close frame, if it recorded one, and whether the close was clean.
func autobahnClose(got Reply) (code reasons.Reason, hasCode, clean bool) {
	if !got.closed() || got.AfterKill || got.FrameRule != "" || got.maskBroken() || got.RSV != 0 || got.FINClear {
		return 0, false, false
	}
	// Autobahn, as a server, drops TCP itself once the client has answered.
	kept := got.KeptOpen && !got.FromClient
	switch n := len(got.Body); {
	case n == 0:
		return 0, false, !kept
	case n == 1 || n > reasons.MaxPayloadLen:
		return 0, false, false
	}
	// Autobahn's client records the code before it checks the frame.
	code = got.code()
	return code, true, autobahnAccepts(code) && utf8.Valid(got.Body[2:]) && !kept
}

// autobahnAccepts reports whether Autobahn's client (autobahn 0.10.9) takes
// code in a Close frame: its CLOSE_STATUS_CODES_ALLOWED in 1000-2999, and
// 3000-4999.
func autobahnAccepts(code reasons.Reason) bool {
	switch {
	case code >= 3000 && code <= 4999:
		return true
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011:
		return true
	}
	return false
}

// AutobahnAccepts lists, for the tables, the answers to c that Autobahn
// grades OK.
func (c Case) AutobahnAccepts() string {
	e := c.Expect
	if e.Informational {
		return "anything (informational)"
	}
	var s string
	for _, code := range e.Codes {
		s += strconv.Itoa(int(code)) + ", "
	}
	s += "empty"
	if !e.RequireClean {
		s += ", dropped, no answer"
	}
	if len(e.OK) > 0 {
		s = "the echo, then " + s
	}
	return s
}
