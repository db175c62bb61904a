package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons/internal/rawserver"
	"github.com/wsreasons/reasons/internal/wsframe"
)

// These tests run the probe against servers built here from net/http and
// wsframe alone; interop/ runs it against the real libraries.

const testTimeout = 2 * time.Second

func wsServer(t *testing.T, tls bool, serve func(conn net.Conn, br *bufio.Reader)) string {
	t.Helper()
	return rawserver.Start(t, tls, serve)
}

// echoServer sends a text frame, then echoes the first two bytes of the
// client's Close frame, whatever they are, and closes the connection.
func echoServer(conn net.Conn, br *bufio.Reader) {
	conn.Write(wsframe.Append(nil, wsframe.OpText, []byte("hello first"), nil))
	p := rawserver.AwaitClose(br)
	if p == nil {
		return
	}
	conn.Write(wsframe.Append(nil, wsframe.OpClose, p[:min(len(p), 2)], nil))
}

func TestRunEchoServer(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		url := wsServer(t, tls, echoServer)
		rep, err := Run(context.Background(), url, Options{DialOptions: DialOptions{Timeout: testTimeout, Insecure: tls}})
		if err != nil {
			t.Fatal(err)
		}
		results := rep.Results
		if len(results) != len(Cases()) {
			t.Fatalf("%d results for %d cases", len(results), len(Cases()))
		}
		want := map[string]string{ // what an echoing server answers, its verdict and grade
			"empty body":            "text(11) then empty ok FAILED",
			"1000 alone":            "text(11) then 1000 ok FAILED",
			"1014 (IANA)":           "text(11) then 1014 ok FAILED",
			"1-byte body":           "text(11) then 1-byte body 0x61 wrong FAILED",
			"code 1004":             "text(11) then 1004 wrong WRONG CODE",
			"code 1005":             "text(11) then 1005 wrong WRONG CODE",
			"UTF-8: byte 0xff":      "text(11) then 1000 wrong WRONG CODE",
			"TCP closed after 1000": "text(11) then 1000 ok FAILED",
			"code 5000":             "text(11) then 5000 wrong INFORMATIONAL",
		}
		seen := 0
		for _, r := range results {
			w, ok := want[r.Case]
			if ok {
				seen++
			}
			if ok && fmt.Sprintf("%s %s %s", r.Got, r.Verdict, r.Grade) != w {
				t.Errorf("tls %v, %s: got %s %s %s, want %s", tls, r.Case, r.Got, r.Verdict, r.Grade, w)
			}
		}
		if seen != len(want) {
			t.Errorf("%d of the %d cases this test names exist", seen, len(want))
		}
		wrong := 0
		for _, r := range results {
			if r.Verdict == Wrong {
				wrong++
			}
		}
		// Wrong: the six bad UTF-8 cases and the 1-byte body, echoed, and
		// the twelve codes that may not be sent, echoed: 0, 999, 1004-1006,
		// 1015, 1016, 1100, 2000, 2999, 5000 and 65535.
		if wrong != 19 {
			t.Errorf("%d wrong, want 19 of %d", wrong, len(results))
		}
	}
}

// TestRunBadReplies runs every case against servers whose Close frame each
// break one rule on sending one: every row is wrong and names the rule.
func TestRunBadReplies(t *testing.T) {
	t.Parallel()
	for _, bad := range rawserver.BadReplies {
		t.Run(bad.Name, func(t *testing.T) {
			url := wsServer(t, false, rawserver.Answer(bad.Frame))
			rep, err := Run(context.Background(), url, Options{DialOptions: DialOptions{Timeout: testTimeout}, Parallel: 8})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rep.Results {
				if r.Verdict != Wrong || !strings.Contains(r.Rule, "§5") && !strings.Contains(r.Rule, "§7.4.1") {
					t.Errorf("%s: %s judged %s (%s), want wrong with its rule", r.Case, r.Got, r.Verdict, r.Rule)
				}
			}
		})
	}
}

func TestRunCaseReplies(t *testing.T) {
	c := Case{Name: "after close", Payload: []byte{0x03, 0xe8}, AfterClose: true}
	tests := []struct {
		name  string
		serve func(net.Conn, *bufio.Reader)
		want  string
	}{
		{"hangs", func(conn net.Conn, br *bufio.Reader) { br.ReadByte(); time.Sleep(testTimeout + time.Second) }, "timed out"},
		{"drops", func(net.Conn, *bufio.Reader) {}, "dropped"},
		{"keeps TCP open", func(conn net.Conn, br *bufio.Reader) {
			echoServer(conn, br)
			time.Sleep(testTimeout + time.Second)
		}, "text(11) then 1000, TCP kept open"},
		{"skips a frame too large to keep", func(conn net.Conn, br *bufio.Reader) {
			conn.Write(wsframe.Append(nil, wsframe.OpBinary, make([]byte, maxFrame+1), nil))
			echoServer(conn, br)
		}, "binary(65537) text(11) then 1000"},
		{"a Ping and a Pong before the Close", func(conn net.Conn, br *bufio.Reader) {
			rawserver.AwaitClose(br)
			conn.Write(wsframe.Append(nil, wsframe.OpPing, []byte("p"), nil))
			conn.Write(wsframe.Append(nil, wsframe.OpPong, nil, nil))
			conn.Write(wsframe.Append(nil, wsframe.OpClose, []byte{0x03, 0xe8}, nil))
		}, "ping(1) pong(0) then 1000"},
		{"TCP reset after the Close", func(conn net.Conn, br *bufio.Reader) {
			rawserver.AwaitClose(br)
			conn.Write(wsframe.Append(nil, wsframe.OpClose, []byte{0x03, 0xe8}, nil))
			conn.(*net.TCPConn).SetLinger(0) // Close sends RST
		}, "1000"},
		{"a masked Close", func(conn net.Conn, br *bufio.Reader) {
			rawserver.AwaitClose(br)
			conn.Write(wsframe.Append(nil, wsframe.OpClose, []byte{0x03, 0xe8}, &[4]byte{1, 2, 3, 4}))
		}, "1000, masked"},
		{"a Close of 70000 bytes", func(conn net.Conn, br *bufio.Reader) {
			rawserver.AwaitClose(br)
			conn.Write(wsframe.Append(nil, wsframe.OpClose, make([]byte, 70000), nil))
		}, "bad frame: a 0x8 (Close) frame of 70000 bytes: a control frame carries at most 125 (§5.5)"},
	}
	for _, tc := range tests {
		url := wsServer(t, false, tc.serve)
		start := time.Now()
		got, err := RunCase(context.Background(), url, c, DialOptions{Timeout: 300 * time.Millisecond})
		if err != nil || got.String() != tc.want {
			t.Errorf("%s: %v, %v; want %s", tc.name, got, err, tc.want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v with a 300ms timeout", tc.name, d)
		}
	}
}

// TestRunCaseStreaming: a server that streams data frames and never sends
// a Close ends the case within its timeout, as timed out, with the frames
// counted and only the first few kept, and the heap stays under 64 MiB
// while hundreds of megabytes stream in.
func TestRunCaseStreaming(t *testing.T) {
	url := wsServer(t, false, func(conn net.Conn, br *bufio.Reader) {
		frame := wsframe.Append(nil, wsframe.OpBinary, make([]byte, 60<<10), nil)
		for end := time.Now().Add(testTimeout); time.Now().Before(end); {
			if _, err := conn.Write(frame); err != nil {
				return
			}
		}
	})
	var peak uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // samples the heap while the case runs
		defer close(sampled)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	got, err := RunCase(context.Background(), url, Cases()[0], DialOptions{Timeout: time.Second})
	close(stop)
	<-sampled
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v with a 1s timeout", d)
	}
	if peak > 64<<20 {
		t.Errorf("the heap reached %d MiB", peak>>20)
	}
	if err != nil || !got.TimedOut || len(got.Events) != MaxEvents || got.Frames <= MaxEvents {
		t.Errorf("%v, %v: want timed out after more than %d frames", got, err, MaxEvents)
	}
	if j := Cases()[0].Judge(got); j.Verdict != Wrong || !strings.Contains(j.Rule, "timeout") {
		t.Errorf("judged %+v", j)
	}
}

func TestDialErrors(t *testing.T) {
	status := func(code int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, body, code)
		}))
		t.Cleanup(srv.Close)
		return "ws" + strings.TrimPrefix(srv.URL, "http")
	}
	badAccept := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Upgrade", "websocket")
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Sec-WebSocket-Accept", "bm90IHRoZSByaWdodCBrZXk=")
		w.WriteHeader(http.StatusSwitchingProtocols)
	}))
	t.Cleanup(badAccept.Close)
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() { // accepts and says nothing
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "ws://" + closed.Addr().String()
	closed.Close()
	selfSigned := httptest.NewUnstartedServer(http.NotFoundHandler())
	selfSigned.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused certificate is expected
	selfSigned.StartTLS()
	t.Cleanup(selfSigned.Close)

	redirect := httptest.NewServer(http.RedirectHandler("ws://127.0.0.1:1/elsewhere", http.StatusFound))
	t.Cleanup(redirect.Close)
	bigHeader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 200 {
			w.Header().Set(fmt.Sprintf("X-Filler-%d", i), strings.Repeat("f", 4000))
		}
		w.WriteHeader(http.StatusSwitchingProtocols)
	}))
	t.Cleanup(bigHeader.Close)

	htmlPage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<!doctype html>\n<html><head><title>502</title></head>\n<body>\n<h1>Bad gateway: upstream down</h1></body></html>\n")
	}))
	t.Cleanup(htmlPage.Close)
	otherUpgrade := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Upgrade", "h2c")
		w.Header().Set("Connection", "Upgrade")
		w.WriteHeader(http.StatusSwitchingProtocols)
	}))
	t.Cleanup(otherUpgrade.Close)
	tlsPort := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsPort.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsPort.StartTLS()
	t.Cleanup(tlsPort.Close)

	tests := []struct {
		name, url string
		want      []string
	}{
		{"no scheme", "127.0.0.1:8080/ws", []string{`URL "127.0.0.1:8080/ws" has no ws:// or wss:// scheme: try ws://127.0.0.1:8080/ws`}},
		{"HTML error page", "ws" + strings.TrimPrefix(htmlPage.URL, "http"), []string{`502 Bad Gateway`, `(body: "502")`}},
		{"101 with another Upgrade", "ws" + strings.TrimPrefix(otherUpgrade.URL, "http"), []string{`101 without Upgrade: websocket (Upgrade: "h2c")`}},
		{"ws:// to a TLS port", "ws" + strings.TrimPrefix(tlsPort.URL, "https"), []string{"400 Bad Request", "use wss://"}},
		{"redirect", "ws" + strings.TrimPrefix(redirect.URL, "http"), []string{"302 Found", `redirect to "ws://127.0.0.1:1/elsewhere"`}},
		{"800 kB of headers", "ws" + strings.TrimPrefix(bigHeader.URL, "http"), []string{"headers exceeded"}},
		{"403", status(403, "no token"), []string{"403 Forbidden", `"no token"`}},
		{"not WebSocket", status(200, "hello, world"), []string{"200 OK, not 101", "hello, world"}},
		{"bad accept key", "ws" + strings.TrimPrefix(badAccept.URL, "http"), []string{"bad Sec-WebSocket-Accept", "§4.2.2"}},
		{"silent", "ws://" + silent.Addr().String(), []string{"timeout"}},
		{"refused", refused, []string{"connection refused"}},
		{"self-signed TLS", "wss" + strings.TrimPrefix(selfSigned.URL, "https"), []string{"certificate", "add -insecure"}},
		{"ftp scheme", "ftp://127.0.0.1:1/", []string{"ws:// or wss://", "http://"}},
		// httptest's http:// URL is taken as ws://: the dial gets as far
		// as the port.
		{"http scheme", "http" + strings.TrimPrefix(refused, "ws"), []string{"connection refused"}},
	}
	for _, tc := range tests {
		start := time.Now()
		_, err := Dial(context.Background(), tc.url, DialOptions{Timeout: 500 * time.Millisecond})
		var he *HandshakeError
		if !errors.As(err, &he) {
			t.Errorf("%s: %v, want a *HandshakeError", tc.name, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", tc.name, err, w)
			}
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v with a 500ms timeout", tc.name, d)
		}
	}
}

// TestDialHeaders checks that -H headers reach the server, Host included.
func TestDialHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	gotHost := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header
		gotHost <- r.Host
		w.WriteHeader(http.StatusForbidden)
	}))
	defer srv.Close()
	h := http.Header{"Authorization": {"Bearer t0ken"}, "Origin": {"https://example.test"}, "Host": {"example.test"}}
	Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), DialOptions{Header: h, Timeout: testTimeout})
	hdr, host := <-got, <-gotHost
	if hdr.Get("Authorization") != "Bearer t0ken" || hdr.Get("Origin") != "https://example.test" || host != "example.test" {
		t.Errorf("server saw %v, Host %q", hdr, host)
	}
	if hdr.Get("Sec-WebSocket-Version") != "13" || hdr.Get("Upgrade") != "websocket" {
		t.Errorf("handshake headers missing: %v", hdr)
	}
}

// TestDialUpgradeAnyCase: RFC 9110 tokens are case-insensitive, so a 101
// with "Upgrade: WebSocket" is accepted.
func TestDialUpgradeAnyCase(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			wsframe.AcceptKey(r.Header.Get("Sec-WebSocket-Key")))
	}))
	defer srv.Close()
	c, err := Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), DialOptions{Timeout: testTimeout})
	if err != nil {
		t.Fatalf("Upgrade: WebSocket refused: %v", err)
	}
	c.Close()
}

// TestAutobahnSequence plays 7.1.1 against servers that each check what
// came and when: Autobahn's case file sends the text alone, and its
// finishWhenDone sends Close 1000 only once the echo is back, all within
// killAfter(1).
func TestAutobahnSequence(t *testing.T) {
	t.Parallel()
	var c711 Case
	for _, c := range Cases() {
		if c.Autobahn == "7.1.1" {
			c711 = c
		}
	}
	// nothingMore reports whether the client sent nothing more within d.
	nothingMore := func(conn net.Conn, br *bufio.Reader, d time.Duration) bool {
		conn.SetReadDeadline(time.Now().Add(d))
		_, err := br.Peek(1)
		conn.SetReadDeadline(time.Time{})
		return errors.Is(err, os.ErrDeadlineExceeded)
	}
	early := make(chan bool, 1)
	tests := []struct {
		name    string
		serve   func(net.Conn, *bufio.Reader)
		got     string
		verdict Verdict
		grade   Grade
	}{
		{"echoes, then answers the Close", func(conn net.Conn, br *bufio.Reader) {
			h, p, err := wsframe.Read(br, 1<<10)
			if err != nil || h.Opcode != wsframe.OpText {
				return
			}
			early <- !nothingMore(conn, br, 200*time.Millisecond) // the Close must wait for the echo
			conn.Write(wsframe.Append(nil, wsframe.OpText, p, nil))
			if b := rawserver.AwaitClose(br); b != nil {
				conn.Write(wsframe.Append(nil, wsframe.OpClose, b[:2], nil))
			}
		}, "text(12) then 1000", OK, GradeOK},
		{"never echoes", func(conn net.Conn, br *bufio.Reader) {
			if b := rawserver.AwaitClose(br); b != nil {
				conn.Write(wsframe.Append(nil, wsframe.OpClose, b[:2], nil))
			}
		}, "1000", OK, GradeFailed},
		{"answers the text with a Close", func(conn net.Conn, br *bufio.Reader) {
			wsframe.Read(br, 1<<10)
			conn.Write(wsframe.Append(nil, wsframe.OpClose, []byte{0x03, 0xe8}, nil))
			nothingMore(conn, br, 300*time.Millisecond)
		}, "1000", Tolerated, GradeFailed},
		{"echoes after the kill bound", func(conn net.Conn, br *bufio.Reader) {
			_, p, _ := wsframe.Read(br, 1<<10)
			time.Sleep(KillAfter + 100*time.Millisecond)
			conn.Write(wsframe.Append(nil, wsframe.OpText, p, nil))
			if b := rawserver.AwaitClose(br); b != nil {
				conn.Write(wsframe.Append(nil, wsframe.OpClose, b[:2], nil))
			}
		}, "text(12) then 1000", OK, GradeFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := wsServer(t, false, tc.serve)
			start := time.Now()
			got, err := RunCase(context.Background(), url, c711, DialOptions{Timeout: testTimeout})
			if err != nil {
				t.Fatal(err)
			}
			r := Judge(c711, got)
			if r.Got != tc.got || r.Verdict != tc.verdict || r.Grade != tc.grade {
				t.Errorf("got %s, %s, %s (%s; %s); want %s, %s, %s", r.Got, r.Verdict, r.Grade, r.Rule, r.GradeNote, tc.got, tc.verdict, tc.grade)
			}
			if d := time.Since(start); tc.grade == GradeOK && d > KillAfter {
				t.Errorf("took %v: the case ends when its close does, not at the kill bound", d)
			}
		})
	}
	select {
	case e := <-early:
		if e {
			t.Error("the Close frame came before the echo was sent")
		}
	default:
		t.Error("the echoing server saw no text")
	}
}

// TestRunLighttpd: lighttpd answers every Close frame with the text "1000"
// as its body, code 12592, which Autobahn's client refuses. Autobahn
// reports UNCLEAN where a clean close is required (case.py checks that
// before the code), and WRONG CODE where it is not.
func TestRunLighttpd(t *testing.T) {
	url := wsServer(t, false, rawserver.Answer(wsframe.Append(nil, wsframe.OpClose, []byte("1000"), nil)))
	rep, err := Run(context.Background(), url, Options{DialOptions: DialOptions{Timeout: testTimeout}, Parallel: 8})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rep.Results {
		c := Cases()[i]
		want := GradeWrongCode
		switch {
		case c.Expect.Informational:
			want = GradeInformational
		case c.Autobahn == "7.1.1": // no echo: the events fail first
			want = GradeFailed
		case c.Expect.RequireClean:
			want = GradeUnclean
		}
		if r.Grade != want || r.Verdict != Wrong {
			t.Errorf("%s: got %s, %s, %s; want wrong (code 12592 is not defined), %s", c.Name, r.Got, r.Verdict, r.Grade, want)
		}
	}
}

// TestRunKeptOpenWait: after its Close, the runner gives a server KillAfter
// (1 s, as Autobahn's client does) to close TCP on most rows, and the
// whole timeout on "TCP closed after 1000", the row that asks. A server
// that closes TCP 2.5 s after its Close kept it open on the first, not on
// the second.
func TestRunKeptOpenWait(t *testing.T) {
	t.Parallel()
	url := rawserver.Start(t, false, func(conn net.Conn, br *bufio.Reader) {
		rawserver.AwaitClose(br)
		conn.Write(wsframe.Append(nil, wsframe.OpClose, []byte{0x03, 0xe8}, nil))
		time.Sleep(2500 * time.Millisecond)
	})
	for name, want := range map[string]bool{"1000 alone": true, "TCP closed after 1000": false} {
		var c Case
		for _, k := range Cases() {
			if k.Name == name {
				c = k
			}
		}
		got, err := RunCase(t.Context(), url, c, DialOptions{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if got.KeptOpen != want {
			t.Errorf("%s: KeptOpen %v, want %v", name, got.KeptOpen, want)
		}
	}
}
