package interop

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons/probe"
	"github.com/wsreasons/reasons/reasonstest"
)

// clientUnderTest is a client that connects to a URL and lets its library answer
// whatever the server sends, as an application that only reads would.
type clientUnderTest struct {
	name string
	// start readies the client for one test and returns its run, which
	// connects to url and returns once the connection has ended.
	start func(t *testing.T) (run func(url string))
	// want holds what the client answers where that differs from the
	// answer of package reasons (Case.Want), by case name.
	want map[string]string
}

func goClient(lib library, want map[string]string) clientUnderTest {
	return clientUnderTest{name: lib.name, want: want, start: func(t *testing.T) func(string) {
		return func(url string) {
			ep, err := lib.dial(context.Background(), url)
			if err != nil {
				t.Errorf("%s dial: %v", lib.name, err)
				return
			}
			ep.readErr(timeout)
			ep.drop()
		}
	}}
}

func scriptedClient(sp scriptedPeer, want map[string]string) clientUnderTest {
	return clientUnderTest{name: sp.name, want: want, start: func(t *testing.T) func(string) {
		proc := startScripted(t, sp) // one process for the test, killed at its end
		return func(url string) { proc.await(proc.command("recv", url, 0, "")) }
	}}
}

// clientsUnderTest are the clients the server-side frames go to: how each
// library's client answers a malformed Close frame from a server. Every
// client but gobwas's answers as the same library's server does
// (rawServers).
var clientsUnderTest = []clientUnderTest{
	goClient(libraries[0], serverAnswers("gorilla")),
	goClient(libraries[1], serverAnswers("coder")),
	// gobwas's client (wsutil) answers every Close frame it refuses with a
	// Close frame whose header lacks the mask bit, so the server reads a
	// scrambled code ("unmasked" stands for any code so sent); it drops
	// the connection on a 126-byte body, and echoes 5000 and up, which no
	// section of §7.4 defines (wrong, §5.5.1).
	goClient(libraries[2], onBadUTF8(unmasked+" wrong", map[string]string{
		"1-byte body": unmasked + " wrong",
		"code 0":      unmasked + " wrong", "code 999": unmasked + " wrong", "code 1004": unmasked + " wrong",
		"code 1005": unmasked + " wrong", "code 1006": unmasked + " wrong", "code 1016": unmasked + " wrong",
		"code 1100": unmasked + " wrong", "code 2000": unmasked + " wrong", "code 2999": unmasked + " wrong",
		"code 1015":   unmasked + " wrong",
		"1012 (IANA)": unmasked + " wrong", "1013 (IANA)": unmasked + " wrong", "1014 (IANA)": unmasked + " wrong",
		"126-byte body": "dropped tolerated",
		"code 5000":     "5000 wrong",
		"code 65535":    "65535 wrong",
	})),
	goClient(libraries[3], serverAnswers("gws")),
	goClient(libraries[4], serverAnswers("fasthttp")),
	scriptedClient(nodeWS, serverAnswers("node-ws")),
	scriptedClient(pythonWebsockets, serverAnswers("python-websockets")),
}

// unmasked stands, in a want map, for a Close frame sent without the mask
// bit, whatever code it seems to carry.
const unmasked = "unmasked"

// serverAnswers is the deviation map of the server on the same library.
func serverAnswers(name string) map[string]string {
	for _, s := range rawServers {
		if s.lib.name == name {
			return s.want
		}
	}
	panic("no raw server " + name)
}

// sameAnswer reports whether got, as the server wrote it, is want.
func sameAnswer(got, want string) bool {
	if want == unmasked {
		return strings.HasSuffix(got, ", unmasked")
	}
	return got == want
}

// clientCases lists the /raw cases of a reasonstest server: every probe
// case but the one that asks a server to close TCP.
func clientCases(t *testing.T, srv *reasonstest.Server) []struct{ ID, Autobahn, Name string } {
	resp, err := http.Get("http" + strings.TrimPrefix(srv.URL, "ws") + "/cases")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cases []struct{ ID, Autobahn, Name string }
	if err := json.NewDecoder(resp.Body).Decode(&cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestClientRawCloseFrames sends every probe case from a reasonstest
// server to each client and checks the client's answer, as the server
// judged it, against the table above.
func TestClientRawCloseFrames(t *testing.T) {
	t.Parallel()
	byName := map[string]probe.Case{}
	for _, c := range rawCases {
		byName[c.Name] = c
	}
	for _, cl := range clientsUnderTest {
		t.Run(cl.name, func(t *testing.T) {
			srv := reasonstest.NewServer(reasonstest.ClientTimeout(time.Second))
			defer srv.Close()
			run := cl.start(t)
			for _, rc := range clientCases(t, srv) {
				path := "/raw/" + rc.ID
				run(srv.URL + path)
				e, ok := awaitEvent(srv, path)
				if !ok {
					t.Errorf("%s: no event", rc.Name)
					continue
				}
				c := byName[rc.Name]
				want, verdict, _ := expected(t, cl.want, c)
				if !sameAnswer(e.Got, want) {
					t.Errorf("%s: %s answered %s, want %s (reasons: %s)", rc.Name, cl.name, e.Got, want, c.Want())
				}
				if string(e.Verdict) != string(verdict) {
					t.Errorf("%s: the server's verdict is %s (%s); the table says %s", rc.Name, e.Verdict, e.Rule, verdict)
				}
			}
		})
	}
}

// awaitEvent waits for the event of the connection on path.
func awaitEvent(srv *reasonstest.Server, path string) (reasonstest.Event, bool) {
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		for _, e := range srv.Events() {
			if p, _ := url.PathUnescape(e.Path); e.Path == path || p == path {
				return e, true
			}
		}
	}
	return reasonstest.Event{}, false
}
