package interop

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/probe"
)

// body builds a Close frame body by hand, without package reasons.
func body(code int, text string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), text...)
}

// rawCases are the Close frames of TestRawCloseFrames, the browser test and
// wsreason probe: one list, in probe, with the rules that judge each
// answer.
var rawCases = probe.Cases()

// rawServers are the servers the raw frames go to. want holds, written out
// by hand, what each library's server actually replies where that differs
// from the reply of package reasons (probe's Case.Want), and the verdict
// that reply earns, as "REPLY VERDICT"; every other case must get the reply
// of package reasons, which is ok.
var rawServers = []struct {
	lib  library
	want map[string]string
}{
	// Our reference endpoint echoes text messages sent in one frame.
	{library{name: "reasons", accept: acceptReference}, map[string]string{
		"text, then Close":     "text(12) then 1000 ok",
		"256 KiB, Close, ping": "text(262144) text(12) then 1000 ok",
	}},
	{libraries[0], onBadUTF8("1002 tolerated", map[string]string{ // gorilla
		"1014 (IANA)": "1002 wrong",      // not in its list of valid codes
		"1-byte body": "empty tolerated", // taken as a Close frame with no code
	})},
	// coder does not check the reason's UTF-8; it echoes the code. Its
	// read limit (32 KiB) makes it close with 1009 on the 256 KiB message.
	{libraries[1], onBadUTF8("1000 wrong", map[string]string{
		"256 KiB, Close, ping": "1009 tolerated",
	})},
	{libraries[2], onBadUTF8("1002 tolerated", map[string]string{ // gobwas, through wsutil
		"1012 (IANA)":   "1002 wrong", // 1012-1014 are unknown to it
		"1013 (IANA)":   "1002 wrong",
		"1014 (IANA)":   "1002 wrong",
		"126-byte body": "dropped tolerated", // fails the connection without a Close frame (allowed by §7.1.7)
		"code 5000":     "5000 wrong",        // codes from 5000 up pass its checks, and it echoes them (§5.5.1)
		"code 65535":    "65535 wrong",
	})},
	// gws, with its default options: it does not check the reason's UTF-8
	// (CheckUtf8Enabled is off) and replies 1000 to every valid code below
	// 1016.
	{libraries[3], onBadUTF8("1000 wrong", map[string]string{
		"valid code 1001": "1000 tolerated",
		"valid code 1002": "1000 tolerated",
		"valid code 1003": "1000 tolerated",
		"valid code 1007": "1000 tolerated",
		"valid code 1008": "1000 tolerated",
		"valid code 1009": "1000 tolerated",
		"valid code 1010": "1000 tolerated",
		"valid code 1011": "1000 tolerated",
		"1012 (IANA)":     "1000 tolerated",
		"1013 (IANA)":     "1000 tolerated",
		"1014 (IANA)":     "1002 wrong", // reported to the application, but answered as an error
	})},
	{libraries[4], onBadUTF8("1002 tolerated", map[string]string{ // fasthttp: gorilla's code
		"1014 (IANA)": "1002 wrong",
		"1-byte body": "empty tolerated",
	})},
	{nodeWS.library(), map[string]string{}},
	{pythonWebsockets.library(), map[string]string{}},
}

// onBadUTF8 adds answer to m for every case whose reason is not UTF-8.
func onBadUTF8(answer string, m map[string]string) map[string]string {
	for _, c := range rawCases {
		if _, _, err := reasons.Parse(c.Payload); errors.Is(err, reasons.ErrInvalidUTF8) {
			m[c.Name] = answer
		}
	}
	return m
}

// expected is what a table expects of a case: the reply written in its
// deviation map with its verdict, or else the reply of package reasons,
// which is ok.
func expected(t *testing.T, want map[string]string, c probe.Case) (reply string, verdict probe.Verdict, deviates bool) {
	t.Helper()
	s, deviates := want[c.Name]
	if !deviates {
		return c.Want().String(), probe.OK, false
	}
	i := strings.LastIndexByte(s, ' ')
	reply, verdict = s[:i], probe.Verdict(s[i+1:])
	switch verdict {
	case probe.OK, probe.Tolerated, probe.Wrong:
	default:
		t.Fatalf("%s: the table's answer %q ends in no verdict", c.Name, s)
	}
	return reply, verdict, true
}

// TestTablesNameCases fails when a deviation map names a case that does
// not exist, as it would after a case is renamed.
func TestTablesNameCases(t *testing.T) {
	t.Parallel()
	names := map[string]bool{}
	for _, c := range rawCases {
		names[c.Name] = true
	}
	maps := map[string]map[string]string{}
	for _, s := range rawServers {
		maps["server "+s.lib.name] = s.want
	}
	for _, cl := range clientsUnderTest {
		maps["client "+cl.name] = cl.want
	}
	for _, b := range browsers {
		m := map[string]string{}
		for k := range b.raw {
			m[k] = ""
		}
		maps["browser "+b.name] = m
	}
	for table, m := range maps {
		for name := range m {
			if !names[name] {
				t.Errorf("%s's table names %q, which is no case", table, name)
			}
		}
	}
}

// TestRawCloseFrames runs wsreason's probe (probe) against a server
// on each library and on our reference endpoint, each answering as an
// application would, and checks every reply the probe saw against the
// table above; the probe's verdict on our reference endpoint must be ok on
// every row. (The verdicts are Case.Judge of those replies, whose rules
// TestJudge in probe states case by case; TestProbeCommand checks
// the verdicts the command prints.)
func TestRawCloseFrames(t *testing.T) {
	t.Parallel()
	for _, s := range rawServers {
		t.Run(s.lib.name, func(t *testing.T) {
			url := startAnswering(t, s.lib)
			rep, err := probe.Run(context.Background(), url, probe.Options{DialOptions: probe.DialOptions{Timeout: timeout}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rep.Results {
				t.Run(r.Case, func(t *testing.T) {
					c := probe.Cases()[r.Index]
					want, verdict, deviates := expected(t, s.want, c)
					if r.Got != want {
						t.Errorf("% x: %s replied %s, want %s (reasons: %s)", c.Payload, s.lib.name, r.Got, want, c.Want())
					}
					if r.Verdict != verdict {
						t.Errorf("the probe's verdict is %s (%s); the table says %s", r.Verdict, r.Rule, verdict)
					}
					if deviates && want == c.Want().String() {
						t.Errorf("deviation table lists the reply of package reasons, %s", want)
					}
					if g := c.Grade(parseReplyTo(t, c, want)); r.Grade != g {
						t.Errorf("Autobahn grade %s, but %s for the reply in the table", r.Grade, g)
					}
				})
			}
		})
	}
}
