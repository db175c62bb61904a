package main

import (
	"bytes"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons/internal/rawserver"
)

// TestWatchClose1006: a server that sends a Close frame with 1006 is wrong
// in every lane, with the rule (written once), and wsreason watch exits 1.
func TestWatchClose1006(t *testing.T) {
	t.Parallel()
	url := rawserver.Start(t, false, rawserver.CloseAfter(50*time.Millisecond, "\x03\xee"))
	var stdout, stderr bytes.Buffer
	code := run([]string{"watch", "-n", "1", "-for", "5s", url}, strings.NewReader(""), &stdout, &stderr)
	out := stdout.String()
	if code != exitInvalid || stderr.Len() > 0 || strings.Count(out, "with a Close frame 1006 (03 ee): the client sees 1006 AbnormalClose [wrong]") != 3 ||
		strings.Count(out, "sent code 1006, which must not be set in a Close frame (§7.4.1)") != 1 || strings.Count(out, "[wrong] (rule above)") != 2 ||
		!strings.Contains(out, "3 events wrong") {
		t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr.String(), out)
	}
}

// TestWatchIdleJSON: behind a 300 ms idle timeout, -json gives one object
// per end and a summary whose idle lane names the timeout and whose ping
// lane stayed open; nothing is wrong, so the exit is 0.
func TestWatchIdleJSON(t *testing.T) {
	t.Parallel()
	url := rawserver.Start(t, false, rawserver.IdleCutter(300*time.Millisecond))
	var stdout, stderr bytes.Buffer
	code := run([]string{"watch", "-json", "-n", "1", "-ping", "50ms", "-send", "50ms", "-for", "1s", url}, strings.NewReader(""), &stdout, &stderr)
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if code != exitOK || stderr.Len() > 0 || len(lines) != 4 {
		t.Fatalf("exit %d, stderr %q, stdout:\n%s", code, stderr.String(), stdout.String())
	}
	var idle struct {
		Event, Lane, How string
		Sees             int     `json:"client_sees"`
		Lived            float64 `json:"lived_s"`
	}
	for _, l := range lines[:3] {
		if err := json.Unmarshal([]byte(l), &idle); err == nil && idle.Lane == "idle" {
			break
		}
	}
	if idle.Event != "end" || idle.How != "drop" || idle.Sees != 1006 || idle.Lived < 0.25 {
		t.Errorf("idle end %+v from %s", idle, stdout.String())
	}
	var sum struct {
		Event string
		Lanes []struct{ Lane, Summary string }
		Wrong int
	}
	if err := json.Unmarshal([]byte(lines[3]), &sum); err != nil || sum.Event != "summary" || len(sum.Lanes) != 3 || sum.Wrong != 0 ||
		!strings.Contains(sum.Lanes[0].Summary, "something on the path has an idle timeout of about 0.3 s") ||
		!strings.HasSuffix(sum.Lanes[1].Summary, "Pings keep them open") {
		t.Errorf("%v: summary %+v", err, sum)
	}
}

// TestWatchArgs: bad arguments and a failed first handshake say what is
// wrong on stderr and exit 2.
func TestWatchArgs(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{}, "wsreason watch: no URL given (see wsreason watch -h)\n"},
		{[]string{"ws://a/", "ws://b/"}, "wsreason watch: one URL at a time, got 2: [\"ws://a/\" \"ws://b/\"]\n"},
		{[]string{"-n", "0", "ws://a/"}, "wsreason watch: -n 0: must be from 1 to 32\n"},
		{[]string{"-n", "33", "ws://a/"}, "wsreason watch: -n 33: must be from 1 to 32\n"},
		{[]string{"-ping", "5ms", "ws://a/"}, "wsreason watch: -ping 5ms: must be at least 10ms\n"},
		{[]string{"-send", "0s", "ws://a/"}, "wsreason watch: -send 0s: must be at least 10ms\n"},
		{[]string{"-for", "-1s", "ws://a/"}, "wsreason watch: -for -1s: must not be negative\n"},
		{[]string{"-ping", "20", "ws://a/"}, "wsreason watch: invalid value \"20\" for flag -ping: 20 has no unit: write 20s or 20ms (see wsreason watch -h)\n"},
		{[]string{"ftp://a/"}, "wsreason watch: "},
		{[]string{"-timeout", "1s", gone}, "wsreason watch: handshake with " + gone + ": dial tcp "},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"watch"}, c.args...), strings.NewReader(""), &stdout, &stderr)
		if code != exitUsage || !strings.HasPrefix(stderr.String(), c.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr.String(), c.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"watch", "-h"}, strings.NewReader(""), &stdout, &stderr); code != exitOK || !strings.HasPrefix(stdout.String(), "wsreason watch measures") {
		t.Errorf("-h: exit %d, %q", code, stdout.String())
	}
}
