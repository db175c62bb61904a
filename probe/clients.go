package probe

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
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

// ConnEvent is what happened on one connection to a Handler. Path and
// GotText are cut to 256 and 125 bytes, GotBytes to 125, the cut shown.
type ConnEvent struct {
	Seq    int       `json:"seq"`  // its number, from 1, in the order events were recorded
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
	Note     string   `json:"note,omitempty"`   // for a script step, its number and code
	Client   string   `json:"client,omitempty"` // for a script step, the client it counts for

	stopped bool // the server stopped with the connection open
	waiting bool // the after= wait ended early
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
//	/status/CODE?retry-after=SECONDS   refuses the handshake with HTTP status CODE
//	                                   (400-599) and that Retry-After, a step of the
//	                                   client's script (see [Handler.Reconnects])
//	/                                  a WebSocket: a member of the fleet (see [Fleet]),
//	                                   or the next step of the script (see [Script]);
//	                                   otherwise the page that runs the close cases
//	                                   in a browser, whose table /report shows
//
// Every connection ends in a [ConnEvent]. The Handler keeps the last
// DefaultKeepEvents of them (see [KeepEvents]), each with its reason and path
// cut to a stated length; it answers only requests whose Host is a
// loopback name or one [AllowHost] adds, opens WebSockets only for pages
// of its own origin or those [AllowOrigin] adds (and for clients that
// send no Origin, which are not browsers), and takes POSTs only from its
// own page. Serve it with [Handler.HTTPServer] on a [LimitListener], which
// bound the rest; [Handler.Close] ends it.
type Handler struct {
	script    []reasons.Reason
	onEvent   func(ConnEvent)
	timeout   time.Duration
	maxEvents int
	hosts     []string // allowed besides the loopback names
	origins   []string // allowed besides the Handler's own
	fleet     *fleet   // with Fleet

	mu      sync.Mutex
	events  []ConnEvent // a ring of at most maxEvents, events[next] the oldest once full
	next    int
	seen    int                  // events recorded in all
	clients map[string]*client   // the script's steps, by client
	order   []string             // the clients in the order they came
	rows    [][]string           // the page's table, as a browser posted it
	open    map[*Conn]*ConnEvent // the connections being served
	closed  bool
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
}

// NewHandler returns a Handler with opts.
func NewHandler(opts ...HandlerOption) *Handler {
	h := &Handler{timeout: DefaultTimeout, maxEvents: DefaultKeepEvents, open: map[*Conn]*ConnEvent{}, clients: map[string]*client{}, done: make(chan struct{})}
	for _, o := range opts {
		o(h)
	}
	return h
}

// KeepEvents sets how many events the Handler keeps (DefaultKeepEvents
// without it): the oldest go first.
func KeepEvents(n int) HandlerOption {
	return func(h *Handler) {
		if n > 0 {
			h.maxEvents = n
		}
	}
}

// Events returns the events kept so far, oldest first.
func (h *Handler) Events() []ConnEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append(append([]ConnEvent(nil), h.events[h.next:]...), h.events[:h.next]...)
}

// record keeps e, numbered, in the ring, and hands it to OnEvent.
func (h *Handler) record(e ConnEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen++
	e.Seq = h.seen
	if len(h.events) < h.maxEvents {
		h.events = append(h.events, e)
	} else {
		h.events[h.next] = e
		h.next = (h.next + 1) % h.maxEvents
	}
	if h.onEvent != nil {
		h.onEvent(e)
	}
}

// Close ends every connection the Handler is serving, records each as open
// when the server stopped, and waits until every handler has returned, so
// that Events is complete after it. Handshakes that come after Close are
// refused with 503.
func (h *Handler) Close() {
	h.mu.Lock()
	if !h.closed {
		close(h.done)
	}
	h.closed = true
	for c, e := range h.open {
		e.stopped = true
		c.Close()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// begin counts a handshake in, before its 101 goes out, so that Close
// waits for it; false once Close has begun.
func (h *Handler) begin() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.wg.Add(1)
	return true
}

// serve runs one WebSocket connection to its event, which it records; a
// connection that Close ends is recorded as open when the server stopped.
// begin came first.
func (h *Handler) serve(c *Conn, e *ConnEvent, run func()) {
	defer h.wg.Done()
	h.mu.Lock()
	h.open[c] = e
	if h.closed { // Close began between the handshake and now
		e.stopped = true
		c.Close()
	}
	h.mu.Unlock()
	run()
	h.mu.Lock()
	delete(h.open, c)
	if e.stopped {
		e.Got, e.GotText, e.GotBytes, e.Verdict, e.Rule, e.Grade = "still open when the server stopped", "", nil, "", "", ""
		if e.waiting {
			e.Sent = "nothing yet: it was waiting for after="
		}
	}
	h.mu.Unlock()
	h.record(*e)
}

//go:embed page.html
var page []byte

// maxAfter bounds the after= wait.
const maxAfter = time.Minute

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, arrived := r.URL.Path, time.Now()
	upgrade := strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
	if h.guard(w, r, upgrade) {
		return
	}
	if !upgrade {
		switch path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(bytes.Replace(page, []byte("/* style */"), []byte(pageStyle), 1))
		case "/cases":
			h.serveCases(w)
		case "/events":
			h.serveEvents(w, r)
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
	if strings.HasPrefix(path, "/status/") {
		h.refuseHandshake(w, r, arrived)
		return
	}
	after, err := parseAfter(r.URL.Query().Get("after"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var run func(c *Conn, e *ConnEvent)
	switch {
	case path == "/" && h.fleet != nil:
		run = func(c *Conn, e *ConnEvent) { h.fleetStep(c, e, arrived) }
	case path == "/" && len(h.script) > 0:
		who := clientKey(r)
		run = func(c *Conn, e *ConnEvent) { h.scriptStep(c, e, who, arrived) }
	case strings.HasPrefix(path, "/close/"):
		code, err := strconv.Atoi(strings.TrimPrefix(path, "/close/"))
		if err != nil || code < 0 || code > 65535 {
			http.Error(w, fmt.Sprintf("%q: the code after /close/ is a number from 0 to 65535", strings.TrimPrefix(path, "/close/")), http.StatusBadRequest)
			return
		}
		text := r.URL.Query().Get("reason")
		if len(text) > maxReasonParam {
			http.Error(w, fmt.Sprintf("reason= has %d bytes: at most %d here (a Close frame carries at most 123, §5.5)", len(text), maxReasonParam), http.StatusBadRequest)
			return
		}
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
	if !h.begin() {
		http.Error(w, "the server is stopping", http.StatusServiceUnavailable)
		return
	}
	conn, br, err := wsframe.Upgrade(w, r)
	if err != nil {
		h.wg.Done()
		return
	}
	defer conn.Close()
	c := ServerConn(conn, br, h.timeout)
	e := ConnEvent{Remote: r.RemoteAddr, Path: cut(r.URL.RequestURI(), maxPathKept)}
	h.serve(c, &e, func() {
		if after > 0 && !awaitClient(conn, br, after) {
			e.waiting = true
			e.Time, e.Sent, e.Got = time.Now(), "nothing: the client left during after="+after.String(), "dropped"
			return
		}
		e.Time = time.Now()
		run(c, &e)
	})
}

// awaitClient waits d for the client of conn to do nothing, and reports
// whether it is still there: a connection the client closes, or the
// server's Close, ends the wait. What the client sends stays in br.
func awaitClient(conn net.Conn, br *bufio.Reader, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	_, err := br.Peek(1)
	conn.SetReadDeadline(time.Time{})
	return err == nil || errors.Is(err, os.ErrDeadlineExceeded)
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
	e.Got, e.GotText, e.GotBytes = res.Got, cut(res.GotText, maxTextKept), cutBytes(res.GotBytes)
	e.Verdict, e.Rule = res.Verdict, res.Rule
	if c.Autobahn != "" { // the grade of a case Autobahn has
		e.Autobahn, e.Grade = c.Autobahn, res.Grade
	}
}

// cutBytes keeps the first maxTextKept bytes of b: a Close body longer
// than that breaks §5.5, and its length is in Got.
func cutBytes(b []byte) HexBytes { return HexBytes(bytes.Clone(b[:min(len(b), maxTextKept)])) }

func sentOf(c Case) string {
	s := "Close " + strings.TrimSpace(fmt.Sprintf("% x", c.Payload[:min(len(c.Payload), 64)]))
	if len(c.Payload) > 64 {
		s += fmt.Sprintf(" … (%d bytes)", len(c.Payload))
	}
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
	e.Got, e.GotText, e.Verdict, e.Rule = got.String(), cut(got.Text(), maxTextKept), j.Verdict, j.Rule
	if got.closed() {
		e.GotBytes = cutBytes(got.Body)
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
	b.WriteString(`</style></head><body>`)
	if f := h.Fleet(); f != nil {
		b.WriteString(`<h1>How the fleet came back</h1><p>` + html.EscapeString(f.String()) + `</p>` + fleetSVG(f))
	}
	b.WriteString(`<h1>How the browser closed WebSockets</h1>`)
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

// maxEventsPage bounds the events one GET /events answers.
const maxEventsPage = 500

// serveEvents answers GET /events?after=SEQ&limit=N: the kept events with
// a Seq above SEQ (default 0), oldest first, at most N (default and most
// maxEventsPage); ask again with after= the last Seq for the next page.
func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, limit := 0, maxEventsPage
	for name, p := range map[string]*int{"after": &after, "limit": &limit} {
		if s := q.Get(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				http.Error(w, fmt.Sprintf("%s=%q: a number from 0 up", name, cut(s, 20)), http.StatusBadRequest)
				return
			}
			*p = n
		}
	}
	limit = min(limit, maxEventsPage)
	page := []ConnEvent{}
	for _, e := range h.Events() {
		if e.Seq > after && len(page) < limit {
			page = append(page, e)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(page)
}
