package probe

import (
	"encoding/hex"
	"fmt"
	"time"
)

// Result is the outcome of one case of a run, as the probe's JSON and the
// tables write it.
type Result struct {
	Index int    `json:"-"`    // the case's place in Cases, from 0
	Case  string `json:"case"` // the case's name, such as "code 1005"
	// Autobahn is the Autobahn TestSuite case id, such as "7.9.4", or ""
	// for a case beyond Autobahn; AutobahnLike then names the Autobahn case
	// whose expectation grades it.
	Autobahn        string   `json:"autobahn"`
	AutobahnLike    string   `json:"autobahn_like"`
	Sent            HexBytes `json:"sent"`     // the body of the Close frame sent
	Requires        string   `json:"requires"` // what RFC 6455 or the IANA registry requires of the answer
	Want            string   `json:"want"`     // the answer judged ok: package reasons' own
	AutobahnAccepts string   `json:"autobahn_accepts"`
	// Got is what came back: the events, then the Close frame's code,
	// "empty", "dropped" or "timed out" (see [Reply.String]). GotText is its
	// reason as text, GotBytes the Close frame's whole body, which shows a
	// reason that is not UTF-8 as it came.
	Got      string   `json:"got"`
	GotText  string   `json:"got_text,omitempty"`
	GotBytes HexBytes `json:"got_bytes,omitempty"`
	Verdict  Verdict  `json:"verdict"`
	// Rule is the rule a wrong answer breaks, with its section, or what a
	// tolerated one does instead; "" for ok.
	Rule      string `json:"rule,omitempty"`
	Grade     Grade  `json:"autobahn_grade"`          // Autobahn's grade
	GradeNote string `json:"autobahn_note,omitempty"` // for a failing grade, what Autobahn expected instead
}

// HexBytes are bytes that JSON and text write in hex.
type HexBytes []byte

// MarshalText writes b in lower-case hex.
func (b HexBytes) MarshalText() ([]byte, error) { return hex.AppendEncode(nil, b), nil }

// UnmarshalText reads b from hex.
func (b *HexBytes) UnmarshalText(text []byte) error {
	d, err := hex.DecodeString(string(text))
	if err != nil {
		return fmt.Errorf("probe: %q is not hex: %w", text, err)
	}
	*b = d
	return nil
}

// FailsAutobahn reports whether r fails an Autobahn TestSuite case: it is
// one (Autobahn is set) and its grade is FAILED, WRONG CODE or UNCLEAN. A
// case beyond Autobahn is graded by the expectation it borrows, for
// information only: Autobahn's client, for one, refuses a 1012, 1013 or
// 1014 Close frame, so an echo of those codes, which RFC 6455 and the IANA
// registry ask for, grades UNCLEAN there.
func (r Result) FailsAutobahn() bool { return r.Autobahn != "" && r.Grade.Fails() }

// Judge is the Result of got as the answer to c.
func Judge(c Case, got Reply) Result {
	g, why := c.GradeWhy(got)
	j := c.Judge(got)
	r := Result{
		Case: c.Name, Autobahn: c.Autobahn, AutobahnLike: c.Expect.Like,
		Sent: c.Payload, Requires: c.Requires(), Want: c.Want().String(), AutobahnAccepts: c.AutobahnAccepts(),
		Got: got.String(), GotText: got.Text(),
		Verdict: j.Verdict, Rule: j.Rule, Grade: g, GradeNote: why,
	}
	if got.closed() {
		r.GotBytes = got.Body
	}
	return r
}

// Report is the outcome of a run, one Result per case in a fixed order.
type Report struct {
	URL     string
	Timeout time.Duration // the bound on each case
	Results []Result
}

// Summary counts a report's results.
type Summary struct {
	OK            int `json:"ok"`
	Tolerated     int `json:"tolerated"`
	Wrong         int `json:"wrong"`
	AutobahnFails int `json:"autobahn_fails"` // results that fail an Autobahn case (see Result.FailsAutobahn)
}

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
