package interop

import (
	"encoding/binary"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/wsframe"
	"github.com/wsreasons/reasons/probe"
)

var update = flag.Bool("update", false, "rewrite the generated tables in README.md")

// checkReadmeSection compares the part of README.md between the markers
// <!-- BEGIN name --> and <!-- END name --> with content, the table a test
// built from what it observed. With -update it rewrites that part instead.
func checkReadmeSection(t *testing.T, name, content string) {
	t.Helper()
	checkSection(t, "README.md", name, content)
}

// readmeMu serializes checkSection's reading and rewriting of a file:
// tests run in parallel, and two rewriting one file at once would lose a
// section.
var readmeMu sync.Mutex

// checkSection is checkReadmeSection for the file at path.
func checkSection(t *testing.T, path, name, content string) {
	t.Helper()
	readmeMu.Lock()
	defer readmeMu.Unlock()
	begin, end := "<!-- BEGIN "+name+" -->\n", "<!-- END "+name+" -->"
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(readme), begin)
	current, after, ok2 := strings.Cut(rest, end)
	if !ok1 || !ok2 {
		t.Fatalf("%s lacks the markers %q and %q", path, begin, end)
	}
	if current == content {
		return
	}
	if !*update {
		t.Errorf("%s's %q section differs from what the test observed; if the change is intended, rerun with -update.\nobserved:\n%s", path, name, content)
		return
	}
	if err := os.WriteFile(path, []byte(before+begin+content+end+after), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReadmeTables writes the interop tables from the expectation tables
// that TestPairs, TestRawCloseFrames and TestBrowserCloseCodes assert
// against real connections, so the README says exactly what those tests
// check.
func TestReadmeTables(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("| receiving library | valid codes it refuses (fails the connection with 1002) | valid codes it reports but answers with another code |\n|---|---|---|\n")
	names := []string{}
	for _, lib := range pairServers() {
		names = append(names, lib.name)
	}
	for _, sp := range scriptedPeers {
		names = append(names, sp.name)
	}
	for _, name := range names {
		lib := library{name: name}
		var codes []string
		for _, r := range refusedOnReceipt[lib.name] {
			codes = append(codes, fmt.Sprintf("%d %v", r, r))
		}
		if codes == nil {
			codes = []string{"none"}
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", lib.name, strings.Join(codes, ", "), answers(otherReply[lib.name]))
	}
	checkReadmeSection(t, "pairs", b.String())

	b.Reset()
	b.WriteString("| Autobahn | case | RFC 6455 / IANA requires | reasons replies | Autobahn grades OK |")
	for _, s := range rawServers {
		b.WriteString(" " + s.lib.name + " |")
	}
	for _, br := range browsers {
		b.WriteString(" " + br.name + " | " + br.name + " CloseEvent.code |")
	}
	b.WriteString("\n|---|---|---|---|---|" + strings.Repeat("---|", len(rawServers)+2*len(browsers)) + "\n")
	// mark puts a reply in bold when the table says it breaks a
	// requirement and in italics when it only differs from the reply of
	// package reasons; the verdict the probe gives that reply must agree.
	mark := func(c probe.Case, got string, verdict probe.Verdict, r probe.Reply) string {
		if j := c.Judge(r); j.Verdict != verdict {
			t.Errorf("%s: the table says %s is %s; the probe judges it %s (%s)", c.Name, got, verdict, j.Verdict, j.Rule)
		}
		switch verdict {
		case probe.Wrong:
			return "**" + got + "**"
		case probe.Tolerated:
			return "*" + got + "*"
		case probe.OK:
		}
		return got
	}
	for _, c := range rawCases {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |", caseID(c), c.Name, c.Requires(), c.Want(), c.AutobahnAccepts())
		for _, s := range rawServers {
			got, verdict, _ := expected(t, s.want, c)
			r := parseReplyTo(t, c, got)
			b.WriteString(" " + mark(c, got, verdict, r) + " · " + string(c.Grade(r)) + " |")
		}
		for _, br := range browsers {
			got, ok := br.raw[c.Name]
			switch {
			case c.AfterClose:
				b.WriteString(" n/a: a client | n/a |") // only a server is asked to close TCP
			case len(c.Before)+len(c.After) > 0:
				b.WriteString(" not sent | n/a |") // the browser server sends the Close frame alone
			case !ok:
				t.Errorf("%s's raw table has no entry for %q", br.name, c.Name)
			default:
				fmt.Fprintf(&b, " %s | %d |", mark(c, got.reply, got.verdict, parseReply(t, got.reply)), got.event)
			}
		}
		b.WriteString("\n")
	}
	checkReadmeSection(t, "raw", b.String())

	b.Reset()
	b.WriteString("| Autobahn | case sent by the server | reasons answers |")
	for _, cl := range clientsUnderTest {
		b.WriteString(" " + cl.name + " |")
	}
	b.WriteString("\n|---|---|---|" + strings.Repeat("---|", len(clientsUnderTest)) + "\n")
	for _, c := range rawCases {
		if c.AfterClose {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s |", caseID(c), c.Name, c.Want())
		for _, cl := range clientsUnderTest {
			got, verdict, _ := expected(t, cl.want, c)
			r := clientReply(t, c, got)
			b.WriteString(" " + mark(c, got, verdict, r) + " · " + string(c.Grade(r)) + " |")
		}
		b.WriteString("\n")
	}
	checkReadmeSection(t, "clientraw", b.String())

	b.Reset()
	b.WriteString("| step | server closes with | advice |")
	for _, rc := range reconnecters {
		b.WriteString(" " + rc.name + " |")
	}
	b.WriteString("\n|---|---|---|" + strings.Repeat("---|", len(reconnecters)) + "\n")
	for i, code := range reconnectScript {
		fmt.Fprintf(&b, "| %d | %d %v | %v |", i+1, uint16(code), code, code.Advice())
		for _, rc := range reconnecters {
			v := string(rc.want[i])
			if rc.want[i] == probe.Wrong {
				v = "**" + v + "**"
			}
			b.WriteString(" " + v + " |")
		}
		b.WriteString("\n")
	}
	checkReadmeSection(t, "reconnect", b.String())

	b.Reset()
	b.WriteString("| peer | its close call | departs from that rule |\n|---|---|---|\n")
	for _, br := range browsers {
		fmt.Fprintf(&b, "| %s | `WebSocket.close(code, reason)` in a page | %s |\n", br.name, departures(br.refuses))
	}
	for _, sp := range scriptedPeers {
		fmt.Fprintf(&b, "| %s | `%s` | %s |\n", sp.name, sp.closeCall, departures(sp.closeRefuses))
	}
	checkReadmeSection(t, "refusals", b.String())
}

// departures writes a refuses map: "none", or each call and what the peer
// does with it.
func departures(m map[string]string) string {
	if len(m) == 0 {
		return "none"
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("close(%s): %s", k, m[k]))
	}
	return strings.Join(out, "; ")
}

// answers writes a library's otherReply entry as "1001-1003, 1007-1013 →
// 1000; 1014 → 1002": runs of consecutive codes, grouped by the answer.
func answers(m map[reasons.Reason]reasons.Reason) string {
	if len(m) == 0 {
		return "none"
	}
	byAnswer := map[reasons.Reason][]reasons.Reason{}
	for r, a := range m {
		byAnswer[a] = append(byAnswer[a], r)
	}
	var groups []string
	for _, a := range slices.Sorted(maps.Keys(byAnswer)) {
		codes := slices.Sorted(slices.Values(byAnswer[a]))
		var runs []string
		for i := 0; i < len(codes); {
			j := i
			for j+1 < len(codes) && codes[j+1] == codes[j]+1 {
				j++
			}
			if i == j {
				runs = append(runs, fmt.Sprint(int(codes[i])))
			} else {
				runs = append(runs, fmt.Sprintf("%d-%d", codes[i], codes[j]))
			}
			i = j + 1
		}
		groups = append(groups, fmt.Sprintf("%s → %d", strings.Join(runs, ", "), a))
	}
	return strings.Join(groups, "; ")
}

// parseReply reads a reply as the expectation tables write it (see
// probe.Reply.String): a code, "empty", "dropped" or "timed out", with
// ", TCP kept open" after a code or "empty", and before it the messages
// that came first, such as "text(12) then ".
func parseReply(t *testing.T, s string) probe.Reply {
	events, rest, ok := strings.Cut(s, " then ")
	if !ok {
		events, rest = "", s
	}
	base, kept := strings.CutSuffix(rest, ", TCP kept open")
	var r probe.Reply
	switch base {
	case "dropped":
		r = probe.Dropped
	case "timed out":
		r = probe.TimedOut
	case "empty":
		r = probe.Close([]byte{})
	default:
		code, err := strconv.ParseUint(base, 10, 16)
		if err != nil {
			t.Fatalf("expectation table has the reply %q, which is not a code, empty, dropped or timed out", s)
		}
		r = probe.Close(binary.BigEndian.AppendUint16(nil, uint16(code)))
	}
	r.KeptOpen = kept
	for _, e := range strings.Fields(events) {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(e, "text("), ")"))
		if err != nil || !strings.HasPrefix(e, "text(") {
			t.Fatalf("expectation table has the reply %q, whose %q is not text(N)", s, e)
		}
		r.Events = append(r.Events, probe.Event{Op: wsframe.OpText, Len: n})
		r.Frames++
	}
	return r
}

// parseReplyTo is parseReply for the answer to c: a text message in it is
// the echo of the text frame c sent with that length.
func parseReplyTo(t *testing.T, c probe.Case, s string) probe.Reply {
	r := parseReply(t, s)
	for i, e := range r.Events {
		for _, f := range c.Before {
			if f.Op == wsframe.OpText && len(f.Payload) == e.Len {
				r.Events[i].Data = string(f.Payload[:min(len(f.Payload), 125)])
			}
		}
	}
	return r
}

// clientReply reads a client's answer as the client table writes it: as
// parseReplyTo does, masked as a client's frame must be, or "unmasked".
func clientReply(t *testing.T, c probe.Case, s string) probe.Reply {
	if s == unmasked {
		r := probe.Close([]byte{0x12, 0x34}) // any code
		r.FromClient = true
		return r
	}
	r := parseReplyTo(t, c, s)
	r.FromClient, r.Masked = true, true
	return r
}

// caseID names a case in the tables' first column: its Autobahn id, or the
// Autobahn case it is graded like.
func caseID(c probe.Case) string {
	if c.Autobahn != "" {
		return c.Autobahn
	}
	return "(like " + c.Expect.Like + ")"
}
