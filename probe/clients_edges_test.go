package probe

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
		// The row about TCP after the close is the probe's alone: a client cannot be asked it.
		{"the TCP row", "GET", "/raw/TCP%20closed%20after%201000", "websocket", nil, http.StatusNotFound},
		{"a case by its id", "GET", "/raw/7.3.3", "websocket", nil, http.StatusSwitchingProtocols},
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

// TestEchoAnswers: /echo answers a client's Close as package reasons does:
// the code alone, without the reason, for a code that may be sent, and
// 1002 for one that may not (§7.4.1 keeps 1005 off the wire).
func TestEchoAnswers(t *testing.T) {
	t.Parallel()
	h := NewHandler()
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/echo"
	for _, c := range []struct {
		sent, want string
	}{
		{"\x03\xe9bye", "\x03\xe9"},
		{"\x03\xed", "\x03\xea"},
	} {
		conn, err := Dial(t.Context(), url, DialOptions{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		conn.WriteClose([]byte(c.sent))
		got := conn.ReadReply()
		conn.Close()
		if string(got.Body) != c.want {
			t.Errorf("a Close % x: /echo answered % x, want % x", c.sent, got.Body, c.want)
		}
	}
}

// TestReportEscapes: /report writes the page's cells as text, escaped in
// the cell and in the verdict column's class attribute, which carries the
// verdict for the style.
func TestReportEscapes(t *testing.T) {
	t.Parallel()
	h := NewHandler()
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	rows := `[["<b>case</b>","a&b","saw","wrong\" onmouseover=\"x","rule"],["c2","b","s","ok","r"]]`
	resp, err := http.Post(srv.URL+"/page-results", "application/json", strings.NewReader(rows))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /page-results: %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/report")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	resp.Body.Close()
	page := b.String()
	for _, want := range []string{"<td>&lt;b&gt;case&lt;/b&gt;</td>", "<td>a&amp;b</td>", `<td class="wrong&#34; onmouseover=&#34;x">`, `<td class="ok">ok</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("/report lacks %s", want)
		}
	}
	for _, bad := range []string{"<b>case</b>", `onmouseover="x"`, `<td class="s">`} {
		if strings.Contains(page, bad) {
			t.Errorf("/report holds %s", bad)
		}
	}
}
