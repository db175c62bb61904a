package probe

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsreasons/reasons"
)

// TestHandlerRequestEdges: the client-side server's answers to requests at
// the edges of what its doc allows, each a status a small change would
// alter.
func TestHandlerRequestEdges(t *testing.T) {
	t.Parallel()
	h := NewHandler()
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	ws := func(method, path, upgrade string, body []byte) int {
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		if upgrade != "" {
			req.Header.Set("Upgrade", upgrade)
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		name, method, path, upgrade string
		body                        []byte
		want                        int
	}{
		{"a negative after=", "GET", "/close/1000?after=-1s", "websocket", nil, http.StatusBadRequest},
		{"a code past 65535", "GET", "/close/65536", "websocket", nil, http.StatusBadRequest},
		{"no such case", "GET", "/raw/7.99.99", "websocket", nil, http.StatusNotFound},
		{"page results by GET", "GET", "/page-results", "", nil, http.StatusMethodNotAllowed},
		// An empty table, valid JSON, padded past the bound: refused for its size alone.
		{"page results past 1 MiB", "POST", "/page-results", "", append(append([]byte("["), bytes.Repeat([]byte(" "), maxPageResults)...), ']'), http.StatusBadRequest},
		// Upgrade's value is a token, compared without case (RFC 9110 §7.8).
		{"Upgrade in capitals", "GET", "/close/1000", "WEBSOCKET", nil, http.StatusSwitchingProtocols},
	} {
		if got := ws(c.method, c.path, c.upgrade, c.body); got != c.want {
			t.Errorf("%s: %s %s: %d, want %d", c.name, c.method, c.path, got, c.want)
		}
	}
}

// TestEventJSONKeys: the JSON keys of an event and a reconnect row that
// serve's -json and /events promise.
func TestEventJSONKeys(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(ConnEvent{GotText: "bye", Grade: GradeOK}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"got_text":"bye"`, `"autobahn_grade":`} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("an event's JSON %s lacks %s", b.String(), key)
		}
	}
	b.Reset()
	if err := json.NewEncoder(&b).Encode(Reconnect{Code: 1012, Advice: reasons.AdviceReconnectLater}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"back_after":`) {
		t.Errorf("a reconnect row's JSON %s lacks back_after", b.String())
	}
}
