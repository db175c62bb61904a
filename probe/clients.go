package probe

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/wsframe"
)

// HandlerOption changes how a Handler behaves.
type HandlerOption func(*Handler)

// Script makes every new WebSocket connection on / get the next step:
// a Close frame with that code, an empty Close frame for 1005, or TCP cut
// with no Close frame for 1006. After the last step, each further
// connection gets the last step again. [Handler.Reconnects] judges, step by
// step, when the client came back against the code's [reasons.Advice].
func Script(codes ...reasons.Reason) HandlerOption {
	return func(h *Handler) { h.script = codes }
}

// OnEvent calls f with each event as it happens, one call at a time.
func OnEvent(f func(ConnEvent)) HandlerOption { return func(h *Handler) { h.onEvent = f } }

// ClientTimeout bounds how long the server waits for a client's answer
// (5 s without it).
func ClientTimeout(d time.Duration) HandlerOption { return func(h *Handler) { h.timeout = d } }

// ConnEvent is what happened on one connection to a Handler.
type ConnEvent struct {
	Time   time.Time `json:"time"` // when the server acted
	Remote string    `json:"remote"`
	Path   string    `json:"path"`
	// Sent is what the server did: the Close frame it sent, "TCP cut", or
	// a probe case.
	Sent string `json:"sent"`
	// Got is the client's answer, as the probe writes a reply: its Close
	// frame's code, "empty", "dropped", "timed out", and more.
	Got      string   `json:"got"`
	GotText  string   `json:"got_text,omitempty"`
	GotBytes HexBytes `json:"got_bytes,omitempty"` // the body of the client's Close frame
	Verdict  Verdict  `json:"verdict,omitempty"`
	Rule     string   `json:"rule,omitempty"`
	Autobahn string   `json:"autobahn,omitempty"` // the Autobahn case id of a /raw case
	Grade    Grade    `json:"autobahn_grade,omitempty"`
	Note     string   `json:"note,omitempty"` // for a script step, its number and code
}

// Handler is an http.Handler that closes its clients' connections in the
// ways a request asks for and judges how each client answers: the
// client-side mirror of [Run]. wsreason serve mounts it on a server, and
// reasonstest.NewServer on an httptest server. Its paths:
//
//	/close/CODE?reason=TEXT&after=DUR  completes the handshake, waits DUR (default 0),
//	                                   sends a Close frame with CODE (any 0..65535,
//	                                   sent as it is) and TEXT, and judges the answer
//	/drop?after=DUR                    cuts TCP with no Close frame
//	/raw/ID                            plays one of the probe's cases (by Autobahn id,
//	                                   such as 7.9.1, or by name) as Run does, and judges
//	                                   the answer with the same rules and grades
//	/silent                            never answers the client's Close frame, to see
//	                                   whether the client closes TCP by itself
//	/echo                              waits for the client's Close frame, judges it by
//	                                   the rules on sending one, and answers it as package
//	                                   reasons does (1002 for a code that may not be sent)
//	/                                  a WebSocket: the next step of the script (see
//	                                   [Script]); otherwise the page that runs the
//	                                   close cases in a browser, whose table
//	                                   /report shows
//
// Every connection ends in a [ConnEvent].
type Handler struct {
	script  []reasons.Reason
	onEvent func(ConnEvent)
	timeout time.Duration

	mu     sync.Mutex
	events []ConnEvent
	steps  []step     // the script's steps so far
	rows   [][]string // the page's table, as a browser posted it
}

// step is one scripted connection: when it arrived and when the server
// closed it.
type step struct {
	code            reasons.Reason
	arrived, closed time.Time
}

// NewHandler returns a Handler with opts.
func NewHandler(opts ...HandlerOption) *Handler {
	h := &Handler{timeout: DefaultTimeout}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Events returns what happened so far, in order.
func (h *Handler) Events() []ConnEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]ConnEvent(nil), h.events...)
}

func (h *Handler) record(e ConnEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
	if h.onEvent != nil {
		h.onEvent(e)
	}
}

//go:embed page.html
var page []byte

// maxAfter bounds the after= wait.
const maxAfter = time.Minute

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, arrived := r.URL.Path, time.Now()
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		switch path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(bytes.Replace(page, []byte("/* style */"), []byte(pageStyle), 1))
		case "/cases":
			h.serveCases(w)
		case "/events":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(h.Events())
		case "/plan":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(pagePlan())
		case "/page-results":
			h.pageResults(w, r)
		case "/report":
			h.report(w)
		default:
			http.Error(w, "not a WebSocket request: "+path+" wants Upgrade: websocket", http.StatusBadRequest)
		}
		return
	}
	after, err := parseAfter(r.URL.Query().Get("after"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var run func(c *Conn, e *ConnEvent)
	switch {
	case path == "/" && len(h.script) > 0:
		run = func(c *Conn, e *ConnEvent) { h.scriptStep(c, e, arrived) }
	case strings.HasPrefix(path, "/close/"):
		code, err := strconv.Atoi(strings.TrimPrefix(path, "/close/"))
		if err != nil || code < 0 || code > 65535 {
			http.Error(w, fmt.Sprintf("%q: the code after /close/ is a number from 0 to 65535", strings.TrimPrefix(path, "/close/")), http.StatusBadRequest)
			return
		}
		text := r.URL.Query().Get("reason")
		run = func(c *Conn, e *ConnEvent) {
			body := append(binary.BigEndian.AppendUint16(nil, uint16(code)), text...)
			h.closeWith(c, e, CaseFor("close "+strconv.Itoa(code), body))
		}
	case path == "/drop":
		run = func(c *Conn, e *ConnEvent) {
			e.Sent = "TCP cut, no Close frame"
			c.Close()
			e.Got = "n/a"
		}
	case strings.HasPrefix(path, "/raw/"):
		cs, ok := findCase(strings.TrimPrefix(path, "/raw/"))
		if !ok {
			http.Error(w, fmt.Sprintf("no probe case %q: GET /cases lists them", strings.TrimPrefix(path, "/raw/")), http.StatusNotFound)
			return
		}
		run = func(c *Conn, e *ConnEvent) { h.closeWith(c, e, cs) }
	case path == "/silent":
		run = h.silent
	case path == "/echo":
		run = h.echo
	default:
		http.Error(w, "no such path: "+path, http.StatusNotFound)
		return
	}
	conn, br, err := wsframe.Upgrade(w, r)
	if err != nil {
		return
	}
	defer conn.Close()
	c := ServerConn(conn, br, h.timeout)
	e := ConnEvent{Remote: r.RemoteAddr, Path: r.URL.RequestURI()}
	if after > 0 {
		time.Sleep(after)
	}
	e.Time = time.Now()
	run(c, &e)
	h.record(e)
}

func parseAfter(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d > maxAfter {
		return 0, fmt.Errorf("after=%q: a duration from 0 to %v, such as 500ms", s, maxAfter)
	}
	return d, nil
}

// closeWith plays c on the connection as the probe does ([Conn.Send]) and
// judges the client's answer.
func (h *Handler) closeWith(conn *Conn, e *ConnEvent, c Case) {
	e.Sent = sentOf(c)
	start, wait := time.Now(), h.timeout
	if c.CloseOnEcho {
		wait += KillAfter // the wait for the echo comes first
	}
	got := conn.Send(c, start, start.Add(wait))
	res := Judge(c, got)
	e.Got, e.GotText, e.GotBytes = res.Got, res.GotText, res.GotBytes
	e.Verdict, e.Rule = res.Verdict, res.Rule
	if c.Autobahn != "" { // the grade of a case Autobahn has
		e.Autobahn, e.Grade = c.Autobahn, res.Grade
	}
}

func sentOf(c Case) string {
	s := "Close " + strings.TrimSpace(fmt.Sprintf("% x", c.Payload))
	if len(c.Payload) == 0 {
		s = "empty Close"
	}
	if c.Autobahn != "" || len(c.Before)+len(c.After) > 0 {
		s = c.Name + ": " + s
	}
	return s
}

// silent reads until the client's Close frame and never answers it; the
// event says whether, and when, the client closed TCP by itself.
func (h *Handler) silent(c *Conn, e *ConnEvent) {
	e.Sent = "no answer to the client's Close"
	got := c.ReadReply() // the client's Close, when it sends one
	if !got.TimedOut && !got.Dropped {
		start := time.Now()
		if c.AwaitTCPClose() {
			e.Got = fmt.Sprintf("Close %s, then TCP closed after %v", got, time.Since(start).Round(time.Millisecond))
			e.Verdict = OK
			return
		}
		e.Got = fmt.Sprintf("Close %s, then TCP kept open for %v", got, h.timeout)
		e.Verdict = Tolerated
		e.Rule = "a client waits a while for the server to close TCP, then may close it (§7.1.1); it kept it open"
		return
	}
	e.Got = got.String()
}

// echo waits for the client to close, judges its Close frame by the rules
// on sending one, and answers it as package reasons does: the echo of a
// valid code, else the code [reasons.Parse] names, such as 1002 with no
// reason for a code that may not be sent.
func (h *Handler) echo(c *Conn, e *ConnEvent) {
	e.Sent = "waited for the client's Close"
	got := c.ReadReply()
	j := JudgeSent(got)
	e.Got, e.GotText, e.Verdict, e.Rule = got.String(), got.Text(), j.Verdict, j.Rule
	if got.closed() {
		e.GotBytes = got.Body
		c.WriteFrames([]Frame{{Op: wsframe.OpClose, Payload: CaseFor("", got.Body).Want().Body}})
	}
}

// findCase finds a probe case by Autobahn id or name.
func findCase(id string) (Case, bool) {
	if u, err := url.PathUnescape(id); err == nil {
		id = u
	}
	for _, c := range Cases() {
		if !c.AfterClose && (c.Autobahn == id || strings.EqualFold(c.Name, id)) {
			return c, true
		}
	}
	return Case{}, false
}

// serveCases lists the /raw cases as JSON.
func (h *Handler) serveCases(w http.ResponseWriter) {
	type row struct {
		ID       string `json:"id"` // the path after /raw/
		Autobahn string `json:"autobahn"`
		Name     string `json:"name"`
	}
	var rows []row
	for _, c := range Cases() {
		if c.AfterClose {
			continue // a question for servers
		}
		id := c.Autobahn
		if id == "" {
			id = url.PathEscape(c.Name)
		}
		rows = append(rows, row{id, c.Autobahn, c.Name})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rows)
}

// pagePlan is what the browser page runs: the codes the server closes
// with, and the codes the page passes to WebSocket.close(), with whether a
// browser may send each ([reasons.Reason.BrowserCloseable]).
func pagePlan() any {
	type closeCall struct {
		Code      reasons.Reason `json:"code"`
		Closeable bool           `json:"closeable"`
	}
	var plan struct {
		ServerCloses []reasons.Reason `json:"serverCloses"`
		CloseCalls   []closeCall      `json:"closeCalls"`
	}
	plan.ServerCloses = []reasons.Reason{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
		3000, 3003, 3008, 4000, 4999, 0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}
	for _, r := range []reasons.Reason{1000, 1001, 1005, 1011, 2999, 3000, 4001, 4999, 5000} {
		plan.CloseCalls = append(plan.CloseCalls, closeCall{r, r.BrowserCloseable()})
	}
	return plan
}

// maxPageResults bounds the body of a POST to /page-results.
const maxPageResults = 1 << 20

// pageResults keeps the table a browser page posts, read from its DOM.
func (h *Handler) pageResults(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST the page's table as JSON", http.StatusMethodNotAllowed)
		return
	}
	var rows [][]string
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxPageResults)).Decode(&rows); err != nil {
		http.Error(w, "the page's table: "+err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.rows = rows
	h.mu.Unlock()
}

// PageRows returns the table the browser page last posted: one row per
// case, each the text of its cells, as read back from the page's DOM.
func (h *Handler) PageRows() [][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]string(nil), h.rows...)
}

// report serves the table the page last posted as a page of its own, with
// no script: for a screenshot, or to look at later.
func (h *Handler) report(w http.ResponseWriter) {
	rows := h.PageRows()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>wsreason serve: report</title><style>`)
	b.WriteString(pageStyle)
	b.WriteString(`</style></head><body><h1>How the browser closed WebSockets</h1>`)
	if len(rows) == 0 {
		b.WriteString(`<p>No browser has run the page at / yet.</p>`)
	}
	b.WriteString(`<table><thead><tr><th>case</th><th>the browser</th><th>the server saw</th><th>verdict</th><th>rule</th></tr></thead><tbody>`)
	for _, r := range rows {
		b.WriteString("<tr>")
		for i, c := range r {
			class := ""
			if i == 3 {
				class = ` class="` + html.EscapeString(c) + `"`
			}
			b.WriteString("<td" + class + ">" + html.EscapeString(c) + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table></body></html>")
	io.WriteString(w, b.String())
}

// pageStyle is the style of the page and of its report.
const pageStyle = `body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.3em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.ok { background: #d9f2d9; }
td.tolerated { background: #fff3c4; }
td.wrong { background: #f8d0d0; font-weight: bold; }
#status { margin: 0.5em 0 1em; }
`
