package interop

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/wsreasons/reasons/reasonstest"
)

// failRecorder is a testing.TB that keeps what reasonstest.CheckServer
// reports, so that a test can check that a server's test would fail.
type failRecorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *failRecorder) Helper()             {}
func (r *failRecorder) Logf(string, ...any) {}
func (r *failRecorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// TestReasonstest puts the README's lines into the test of a server on
// gorilla/websocket: without Allow it fails once, on 1014 (in a recorder);
// with Allow("1014") it passes, as a real test with its subtests. A server
// that accepts 1014 fails the allowed subtest (in a child test binary), and
// Node's ws passes with nothing allowed.
func TestReasonstest(t *testing.T) {
	t.Parallel()
	gorilla := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ep, err := acceptGorilla(w, r); err == nil { // gorilla's Upgrader
			ep.awaitClose()
			ep.drop()
		}
	})
	t.Run("gorilla", func(t *testing.T) {
		rec := &failRecorder{TB: t}
		srv := httptest.NewServer(gorilla)
		defer srv.Close()
		reasonstest.CheckServer(rec, srv.URL)

		// gorilla's Close carries its reason: "bad close code 1014".
		want := "1014_IANA: wrong: sent Close 03f6, got 1002 \"bad close code 1014\" (Close body 03ea62616420636c6f736520636f6465… (21 bytes))"
		if len(rec.errors) != 1 || !strings.HasPrefix(rec.errors[0], want) || !strings.HasSuffix(rec.errors[0], "a valid code taken for a protocol error (§7.4, IANA registry)") {
			t.Errorf("CheckServer reported %q, want only one starting %q", rec.errors, want)
		}
	})
	t.Run("gorilla with Allow", func(t *testing.T) {
		srv := httptest.NewServer(gorilla)
		defer srv.Close()
		reasonstest.CheckServer(t, srv.URL, reasonstest.Allow("1014"))
	})
	t.Run("Allow on a server that accepts 1014", func(t *testing.T) {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestHelperAllowed$", "-test.v")
		cmd.Env = append(os.Environ(), "INTEROP_HELPER=allowed")
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("the child test passed; want the allowed subtest to fail:\n%s", out)
		}
		for _, want := range []string{"--- FAIL: TestHelperAllowed/1014_IANA", "no longer deviates", "--- PASS: TestHelperAllowed/1013_IANA"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("the child test's output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("node-ws", func(t *testing.T) {
		rec := &failRecorder{TB: t}
		url := startAnswering(t, nodeWS.library())
		rep := reasonstest.CheckServer(rec, url)
		if len(rec.errors) != 0 || len(rep.Results) == 0 {
			t.Errorf("CheckServer reported %q on %d results, want nothing", rec.errors, len(rep.Results))
		}
	})
}

// TestHelperAllowed is the test of a server that accepts 1014, as package
// reasons does, kept with Allow("1014"): run by TestReasonstest in a child
// process, it must fail.
func TestHelperAllowed(t *testing.T) {
	t.Parallel()
	if os.Getenv("INTEROP_HELPER") != "allowed" {
		t.Skip("run by TestReasonstest")
	}
	url := startAnswering(t, library{name: "reasons", accept: acceptReference})
	reasonstest.CheckServer(t, url, reasonstest.Allow("1014"))
}
