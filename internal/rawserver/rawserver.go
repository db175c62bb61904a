// Package rawserver runs servers for tests that must send bytes no library
// would, each upgraded by hand ([wsframe.Upgrade]). Among
// them are ones whose Close frame breaks one rule each, for testing the
// tools that judge them.
package rawserver

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsreasons/reasons/internal/wsframe"
)

// Lifetime bounds how long a connection of a Start server lives.
const Lifetime = 10 * time.Second

// Start runs a server on 127.0.0.1, over TLS when tls is set, that upgrades
// every request and hands the connection to serve; the server stops when
// the test ends. It returns the server's ws:// or wss:// URL, ending in /.
func Start(tb testing.TB, tls bool, serve func(conn net.Conn, br *bufio.Reader)) string {
	tb.Helper()
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(Handler(serve))
	} else {
		srv = httptest.NewServer(Handler(serve))
	}
	tb.Cleanup(srv.Close)
	return URL(srv)
}

// URL is the ws:// or wss:// URL of srv, ending in /.
func URL(srv *httptest.Server) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
}

// Handler upgrades every request by hand and hands the connection to serve.
func Handler(serve func(conn net.Conn, br *bufio.Reader)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, br, err := wsframe.Upgrade(w, r)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(Lifetime))
		serve(conn, br)
	})
}

// AwaitClose reads frames until a Close frame and returns its payload, or
// nil when the connection ends first.
func AwaitClose(br *bufio.Reader) []byte {
	for {
		h, p, err := wsframe.Read(br, 1<<20)
		if err != nil {
			return nil
		}
		if h.Opcode == wsframe.OpClose {
			return p
		}
	}
}

// Answer is a serve function that waits for the client's Close frame,
// writes reply as it is, and closes the connection.
func Answer(reply []byte) func(net.Conn, *bufio.Reader) {
	return func(conn net.Conn, br *bufio.Reader) {
		AwaitClose(br)
		conn.Write(reply)
	}
}

func closeFrame(h wsframe.Header, payload string) []byte {
	h.Opcode = wsframe.OpClose
	return wsframe.AppendFrame(nil, h, []byte(payload))
}

// BadReplies are Close frames that each break one rule RFC 6455 sets for
// the sender of a Close frame, by name.
var BadReplies = []struct {
	Name  string
	Frame []byte
}{
	{"code 1005", closeFrame(wsframe.Header{Fin: true}, "\x03\xed")},
	{"code 1006", closeFrame(wsframe.Header{Fin: true}, "\x03\xee")},
	{"code 1015", closeFrame(wsframe.Header{Fin: true}, "\x03\xf7")},
	{"1-byte body", closeFrame(wsframe.Header{Fin: true}, "\x03")},
	{"200-byte body", closeFrame(wsframe.Header{Fin: true}, "\x03\xe8"+strings.Repeat("x", 198))},
	{"masked", closeFrame(wsframe.Header{Fin: true, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, "\x03\xe8")},
	{"fragmented", closeFrame(wsframe.Header{}, "\x03\xe8")},
	{"RSV1 set", closeFrame(wsframe.Header{Fin: true, Rsv: 4}, "\x03\xe8")},
	{"reason not UTF-8", closeFrame(wsframe.Header{Fin: true}, "\x03\xe8ok\xff")},
	{"64-bit length with its top bit set", []byte{0x88, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 2, 0x03, 0xe8}},
}

// Stopping runs a server on 127.0.0.1 whose connections, once upgraded,
// wait until stop is called and are then handed to onStop; it returns the
// server's ws:// URL and stop. stop, a shutdown function in the shape
// reasonstest.CheckShutdown takes, returns once every onStop has returned
// and its connection is closed, or ctx has ended, as a server's shutdown
// does. The server itself stops when the test ends.
func Stopping(tb testing.TB, onStop func(conn net.Conn, br *bufio.Reader)) (url string, stop func(context.Context) error) {
	tb.Helper()
	stopping := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1) // before the handshake's answer, so before stop can be called
		defer wg.Done()
		conn, br, err := wsframe.Upgrade(w, r)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(Lifetime))
		select {
		case <-stopping:
			onStop(conn, br)
		case <-time.After(Lifetime):
		}
	}))
	tb.Cleanup(srv.Close)
	stop = func(ctx context.Context) error {
		once.Do(func() { close(stopping) })
		ended := make(chan struct{})
		go func() { wg.Wait(); close(ended) }()
		select {
		case <-ended:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return URL(srv), stop
}

// IdleCutter is a raw server that does what a proxy with an idle timeout
// does: it answers Pings and echoes messages, and cuts TCP, with no Close
// frame, once nothing has come from the client for idle.
func IdleCutter(idle time.Duration) func(net.Conn, *bufio.Reader) {
	return func(conn net.Conn, br *bufio.Reader) {
		for {
			conn.SetReadDeadline(time.Now().Add(idle))
			h, payload, err := wsframe.Read(br, 1<<16)
			if err != nil {
				return // the handler closes TCP
			}
			switch h.Opcode {
			case wsframe.OpPing:
				conn.Write(wsframe.Append(nil, wsframe.OpPong, payload, nil))
			case wsframe.OpText:
				conn.Write(wsframe.Append(nil, wsframe.OpText, payload, nil))
			case wsframe.OpClose:
				conn.Write(wsframe.Append(nil, wsframe.OpClose, payload[:min(len(payload), 2)], nil))
				return
			}
		}
	}
}

// CloseAfter is a raw server that sends body in a Close frame after d and
// waits for the echo.
func CloseAfter(d time.Duration, body string) func(net.Conn, *bufio.Reader) {
	return func(conn net.Conn, br *bufio.Reader) {
		time.Sleep(d)
		conn.Write(wsframe.Append(nil, wsframe.OpClose, []byte(body), nil))
		AwaitClose(br)
	}
}
