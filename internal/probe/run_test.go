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
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons/internal/wsframe"
)

// These tests run the probe against servers built here from net/http and
// wsframe alone; interop/ runs it against the real libraries.

const testTimeout = 2 * time.Second

// wsServer upgrades every request by hand and hands the connection to
// serve, which runs until it returns or the test ends.
func wsServer(t *testing.T, tls bool, serve func(conn net.Conn, br *bufio.Reader)) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			AcceptKey(r.Header.Get("Sec-WebSocket-Key")))
		conn.SetDeadline(time.Now().Add(2 * testTimeout))
		serve(conn, brw.Reader)
	})
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
}

// echoServer sends a text frame, then echoes the first two bytes of the
// client's Close frame, whatever they are, and closes the connection.
func echoServer(conn net.Conn, br *bufio.Reader) {
	conn.Write(wsframe.Append(nil, wsframe.OpText, []byte("hello first"), nil))
	h, p, err := wsframe.Read(br, 1<<16)
	if err != nil || h.Opcode != wsframe.OpClose {
		return
	}
	conn.Write(wsframe.Append(nil, wsframe.OpClose, p[:min(len(p), 2)], nil))
}

func TestRunEchoServer(t *testing.T) {
	for _, tls := range []bool{false, true} {
		url := wsServer(t, tls, echoServer)
		results, err := Run(context.Background(), url, DialOptions{Timeout: testTimeout, Insecure: tls})
		if err != nil {
			t.Fatal(err)
		}
		if len(results) != len(Cases()) {
			t.Fatalf("%d results for %d cases", len(results), len(Cases()))
		}
		want := map[string]string{ // what an echoing server answers, and its verdict
			"empty body":            "empty ok",
			"1000 alone":            "1000 ok",
			"1014 (IANA)":           "1014 ok",
			"1-byte body":           "1-byte body 0x3 tolerated",
			"code 1005":             "1005 tolerated",
			"UTF-8: byte 0xff":      "1000 wrong",
			"TCP closed after 1000": "1000 ok",
		}
		for _, r := range results {
			if w, ok := want[r.Case.Name]; ok && fmt.Sprintf("%s %s", r.Got, r.Verdict) != w {
				t.Errorf("tls %v, %s: got %s %s, want %s", tls, r.Case.Name, r.Got, r.Verdict, w)
			}
		}
		s := Summarize(results)
		if s.OK+s.Tolerated+s.Wrong != len(results) || s.Wrong != 6 {
			t.Errorf("summary %+v, want 6 wrong (the bad UTF-8 cases) of %d", s, len(results))
		}
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
		}, "1000, TCP kept open"},
		{"skips a frame too large to keep", func(conn net.Conn, br *bufio.Reader) {
			conn.Write(wsframe.Append(nil, wsframe.OpBinary, make([]byte, maxFrame+1), nil))
			echoServer(conn, br)
		}, "1000"},
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

	tests := []struct {
		name, url string
		want      []string
	}{
		{"403", status(403, "no token"), []string{"403 Forbidden", `"no token"`}},
		{"not WebSocket", status(200, "hello, world"), []string{"200 OK, not 101", "hello, world"}},
		{"bad accept key", "ws" + strings.TrimPrefix(badAccept.URL, "http"), []string{"bad Sec-WebSocket-Accept", "§4.2.2"}},
		{"silent", "ws://" + silent.Addr().String(), []string{"timeout"}},
		{"refused", refused, []string{"connection refused"}},
		{"self-signed TLS", "wss" + strings.TrimPrefix(selfSigned.URL, "https"), []string{"certificate"}},
		{"http scheme", "http://127.0.0.1:1/", []string{"ws:// or wss://"}},
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

// TestAcceptKey checks the example of RFC 6455 §1.3.
func TestAcceptKey(t *testing.T) {
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("AcceptKey = %q", got)
	}
}
