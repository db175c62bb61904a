package interop

import (
	"fmt"
	"net/http"
	"net/http/httptest"
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

// TestReasonstest puts the README's three lines into the test of a server
// on gorilla/websocket, which fails once, on 1014, and into the test of one
// on Node's ws, which passes.
func TestReasonstest(t *testing.T) {
	t.Run("gorilla", func(t *testing.T) {
		rec := &failRecorder{TB: t}
		handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ep, err := acceptGorilla(w, r); err == nil { // gorilla's Upgrader
				ep.awaitClose()
				ep.drop()
			}
		})

		srv := httptest.NewServer(handler)
		defer srv.Close()
		reasonstest.CheckServer(rec, "ws"+strings.TrimPrefix(srv.URL, "http"))

		want := "reasonstest: 1014 (IANA): sent Close 03f6, got 1002: a valid code taken for a protocol error (§7.4, IANA registry)"
		if len(rec.errors) != 1 || rec.errors[0] != want {
			t.Errorf("CheckServer reported %q, want only %q", rec.errors, want)
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
