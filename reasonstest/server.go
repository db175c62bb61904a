package reasonstest

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/probe"
)

// Server is a WebSocket server on 127.0.0.1 that closes its clients'
// connections in the ways a test asks for and records how each client
// answers: the client-side mirror of [CheckServer], shaped like
// httptest.Server. Its paths are those of [probe.Handler].
type Server struct {
	URL string // ws://127.0.0.1:PORT
	*probe.Handler
	srv *httptest.Server
}

// Event is what happened on one connection; see [probe.ConnEvent].
type Event = probe.ConnEvent

// ServerOption changes how a Server behaves.
type ServerOption = probe.HandlerOption

// NewServer starts a Server on a free port of 127.0.0.1, with the bounds
// of [probe.Handler.HTTPServer] and [probe.LimitListener]. Close it when
// done.
func NewServer(opts ...ServerOption) *Server {
	h := probe.NewHandler(opts...)
	srv := httptest.NewUnstartedServer(h)
	bounded := h.HTTPServer()
	srv.Config.ReadHeaderTimeout, srv.Config.ReadTimeout = bounded.ReadHeaderTimeout, bounded.ReadTimeout
	srv.Config.IdleTimeout, srv.Config.MaxHeaderBytes = bounded.IdleTimeout, bounded.MaxHeaderBytes
	srv.Listener = probe.LimitListener(srv.Listener, 0)
	srv.Start()
	return &Server{URL: "ws" + strings.TrimPrefix(srv.URL, "http"), Handler: h, srv: srv}
}

// Close stops the server: it ends every connection it holds, each recorded
// as open when the server stopped, and waits for every handler, as
// httptest.Server.Close waits for requests, so that Events and Reconnects
// are complete once it returns.
func (s *Server) Close() {
	s.Handler.Close()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Script makes every new WebSocket connection on / get the next step of
// codes; see [probe.Script].
func Script(codes ...reasons.Reason) ServerOption { return probe.Script(codes...) }

// OnEvent calls f with each event as it happens, one call at a time.
func OnEvent(f func(Event)) ServerOption { return probe.OnEvent(f) }

// ClientTimeout bounds how long the server waits for a client's answer
// (5 s without it).
func ClientTimeout(d time.Duration) ServerOption { return probe.ClientTimeout(d) }

// Fleet makes the server hold the first n connections on / until all are
// open, close them together with the script's first code (1012 without a
// script), and judge how they came back; see [probe.Fleet].
func Fleet(n int) ServerOption { return probe.Fleet(n) }

// Check reports on t what the server saw so far: an error for each wrong
// event, each wrong row of the reconnect report ([probe.Handler.Reconnects])
// and a wrong fleet ([probe.Handler.Fleet]); a log line for each tolerated
// event and row.
func (s *Server) Check(t testing.TB) {
	t.Helper()
	for _, e := range s.Events() {
		switch e.Verdict {
		case probe.Wrong:
			t.Errorf("wrong: %s: sent %s, got %s: %s", e.Path, e.Sent, e.Got, e.Rule)
		case probe.Tolerated:
			t.Logf("tolerated, not a failure: %s: sent %s, got %s: %s", e.Path, e.Sent, e.Got, e.Rule)
		}
	}
	if f := s.Handler.Fleet(); f != nil && f.Verdict == probe.Wrong {
		t.Errorf("wrong: %s", f)
	}
	for _, r := range s.Reconnects() {
		switch r.Verdict {
		case probe.Wrong:
			t.Errorf("wrong: step %d, %d %v: %s", r.Step, uint16(r.Code), r.Code, r.Rule)
		case probe.Tolerated:
			t.Logf("tolerated, not a failure: step %d, %d %v: %s", r.Step, uint16(r.Code), r.Code, r.Rule)
		}
	}
}
