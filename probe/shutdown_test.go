package probe

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons/internal/rawserver"
	"github.com/wsreasons/reasons/internal/wsframe"
)

// closeOnStop writes a Close frame with body on shutdown, waits for the
// client's answer, and closes TCP, as a drained server does.
func closeOnStop(body string) func(net.Conn, *bufio.Reader) {
	return func(conn net.Conn, br *bufio.Reader) {
		conn.Write(wsframe.Append(nil, wsframe.OpClose, []byte(body), nil))
		rawserver.AwaitClose(br)
	}
}

// Each rule of JudgeShutdown against a raw server that keeps it or breaks
// it in one way.
func TestRunShutdown(t *testing.T) {
	cases := []struct {
		name    string
		onStop  func(net.Conn, *bufio.Reader)
		class   string
		verdict Verdict
		rule    string // a part of the rule
	}{
		{"1012", closeOnStop("\x03\xf4deploy"), "1012_ServiceRestart", OK, ""},
		{"1001", closeOnStop("\x03\xe9"), "1001_GoingAway", OK, ""},
		{"1000", closeOnStop("\x03\xe8bye"), "1000_Normal", Wrong, "1000 says the connection's purpose is fulfilled (RFC 6455 §7.4.1)"},
		{"drop", func(net.Conn, *bufio.Reader) {}, "no_Close_frame", Wrong, "the client reports 1006"},
		{"1011", closeOnStop("\x03\xf3"), "1011_UnexpectedCondition", Tolerated, `"reconnect"`},
		{"empty", closeOnStop(""), "empty_Close", Tolerated, "reports 1005"},
		{"1006 on the wire", closeOnStop("\x03\xee"), "broken", Wrong, "sent code 1006, which must not be set in a Close frame (§7.4.1)"},
		{"masked", func(conn net.Conn, br *bufio.Reader) {
			conn.Write(wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpClose, Masked: true}, []byte("\x03\xf4")))
			rawserver.AwaitClose(br)
		}, "broken", Wrong, "a server must not mask its frames (§5.1)"},
		{"1012, TCP kept open", func(conn net.Conn, br *bufio.Reader) {
			conn.Write(wsframe.Append(nil, wsframe.OpClose, []byte("\x03\xf4"), nil))
			rawserver.AwaitClose(br)
			time.Sleep(KillAfter + 200*time.Millisecond)
		}, "1012_ServiceRestart", Tolerated, "kept TCP open after the closing handshake"},
		{"still open", func(net.Conn, *bufio.Reader) { time.Sleep(testTimeout + KillAfter + time.Second) }, "still_open", Wrong, "neither closed nor dropped by the deadline"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			url, stop := rawserver.Stopping(t, c.onStop)
			rep, err := RunShutdown(context.Background(), url, stop, ShutdownOptions{Conns: 3, DialOptions: DialOptions{Timeout: testTimeout}})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Ends) != 3 {
				t.Fatalf("%d ends for 3 connections", len(rep.Ends))
			}
			for _, e := range rep.Ends {
				if e.Class() != c.class || e.Verdict != c.verdict || !strings.Contains(e.Rule, c.rule) {
					t.Errorf("got %s %s %q, want %s %s with %q", e.Class(), e.Verdict, e.Rule, c.class, c.verdict, c.rule)
				}
			}
		})
	}
}

// The shutdown function's error and its context's deadline reach the
// report.
func TestRunShutdownFunction(t *testing.T) {
	url, stop := rawserver.Stopping(t, closeOnStop("\x03\xf4"))
	var deadline time.Duration
	rep, err := RunShutdown(context.Background(), url, func(ctx context.Context) error {
		d, _ := ctx.Deadline()
		deadline = time.Until(d)
		stop(ctx)
		return errors.New("listener already closed")
	}, ShutdownOptions{Conns: 2, DialOptions: DialOptions{Timeout: testTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err == nil || rep.Err.Error() != "listener already closed" {
		t.Errorf("report's error %v, want the shutdown function's", rep.Err)
	}
	if deadline <= 0 || deadline > testTimeout {
		t.Errorf("the shutdown function's context ends in %v, want within the timeout %v", deadline, testTimeout)
	}

	// A shutdown function that ignores its context is given up on KillAfter
	// past the timeout.
	url, _ = rawserver.Stopping(t, closeOnStop("\x03\xf4"))
	hang := make(chan struct{})
	defer close(hang)
	rep, err = RunShutdown(context.Background(), url, func(context.Context) error { <-hang; return nil },
		ShutdownOptions{Conns: 1, DialOptions: DialOptions{Timeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err == nil || !strings.Contains(rep.Err.Error(), "had not returned") {
		t.Errorf("report's error %v, want one saying the function had not returned", rep.Err)
	}
	if e := rep.Ends[0]; e.Class() != "still_open" || e.Verdict != Wrong {
		t.Errorf("an untouched connection: %s %s, want still_open wrong", e.Class(), e.Verdict)
	}
}

// The count of connections is bounded; a bad URL and a refused handshake
// are errors before anything is shut down.
func TestRunShutdownBounds(t *testing.T) {
	t.Parallel()
	called := false
	shutdown := func(context.Context) error { called = true; return nil }
	url, _ := rawserver.Stopping(t, closeOnStop("\x03\xf4"))
	for _, n := range []int{-1, MaxShutdownConns + 1} {
		_, err := RunShutdown(context.Background(), url, shutdown, ShutdownOptions{Conns: n})
		if err == nil || !strings.Contains(err.Error(), strconv.Itoa(n)) {
			t.Errorf("Conns %d: error %v, want one naming %d", n, err, n)
		}
	}
	// MaxShutdownConns itself is taken.
	rep, err := RunShutdown(context.Background(), url, func(ctx context.Context) error { return nil },
		ShutdownOptions{Conns: MaxShutdownConns, DialOptions: DialOptions{Timeout: 200 * time.Millisecond}})
	if err != nil || len(rep.Ends) != MaxShutdownConns {
		t.Errorf("Conns %d: %d ends, error %v", MaxShutdownConns, len(rep.Ends), err)
	}
	if _, err := RunShutdown(context.Background(), "http://127.0.0.1:1/", shutdown, ShutdownOptions{DialOptions: DialOptions{Timeout: testTimeout}}); err == nil {
		t.Error("no error for a server that refuses connections")
	}
	if called {
		t.Error("the shutdown function was called after a failed handshake or a bad count")
	}
}
