package probe

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/rawserver"
	"github.com/wsreasons/reasons/internal/wsframe"
)

// TestWatchIdleTimeout: behind a 300 ms idle timeout, the idle lane is cut
// with no Close frame after about 300 ms (reported as the 1006 the client
// sees, tolerated), and the lanes that send every 50 ms stay open until
// the watch ends; the summary says so.
func TestWatchIdleTimeout(t *testing.T) {
	t.Parallel()
	url := rawserver.Start(t, false, rawserver.IdleCutter(300*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var events atomic.Int32
	rep, err := Watch(ctx, url, WatchOptions{Conns: 2, Ping: 50 * time.Millisecond, Send: 50 * time.Millisecond,
		OnEvent: func(WatchEvent) { events.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	if int(events.Load()) != len(rep.Events) || len(rep.Events) != 6 {
		t.Errorf("%d events handed on, %d kept; want 6 of each", events.Load(), len(rep.Events))
	}
	for _, e := range rep.Events {
		switch {
		case e.Lane == LaneIdle && (e.How != EndDrop || e.Sees != reasons.AbnormalClose || e.Verdict != Tolerated):
			t.Errorf("idle lane: %s, sees %d, %s; want a drop, 1006, tolerated", e.How, e.Sees, e.Verdict)
		case e.Lane == LaneIdle && (e.Lived < 250*time.Millisecond || e.SinceSent < 250*time.Millisecond):
			// The server's 300 ms start as it answers the handshake, a moment
			// before the watch has the answer.
			t.Errorf("idle lane: cut after %v, %v after its last frame; the server waits 300ms", e.Lived, e.SinceSent)
		case e.Lane != LaneIdle && (e.How != EndOpen || e.Verdict != OK):
			t.Errorf("%s lane: %s %s (%s), want still open at the end, ok", e.Lane, e.How, e.Verdict, e.Rule)
		}
	}
	if rep.Wrong() != 0 {
		t.Errorf("%d wrong, want 0", rep.Wrong())
	}
	idle := rep.Lanes[0]
	if idle.Lane != LaneIdle || !idle.Same || idle.Ended != 2 || idle.Low < 250*time.Millisecond ||
		!strings.Contains(idle.Words, "with no Close frame: something on the path has an idle timeout of about") {
		t.Errorf("idle summary %+v", idle)
	}
	if w := rep.Lanes[1].Words; !strings.HasPrefix(w, "connections sending a Ping every 50ms were still open after") || !strings.HasSuffix(w, ": Pings keep them open") {
		t.Errorf("ping summary %q", w)
	}
	if w := rep.Lanes[2].Words; !strings.HasSuffix(w, ": messages keep them open") {
		t.Errorf("data summary %q", w)
	}
}

// TestWatchClose1006: a server that sends a Close frame with 1006, which
// §7.4.1 forbids on the wire, is wrong; one that sends 1012 and a reason is
// ok, and the summary says every lane ended in the same moment.
func TestWatchClose1006(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body  string
		want  Verdict
		rule  string
		words string
	}{
		{"\x03\xee", Wrong, "sent code 1006, which must not be set in a Close frame (§7.4.1)", "with Close 1006 AbnormalClose"},
		{"\x03\xf4deploy", OK, "", `with Close 1012 ServiceRestart "deploy", in the same moment as the other lanes`},
		{"", OK, "", "with an empty Close frame"},
	} {
		url := rawserver.Start(t, false, rawserver.CloseAfter(100*time.Millisecond, c.body))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		rep, err := Watch(ctx, url, WatchOptions{Conns: 1, Ping: 20 * time.Millisecond, Send: 20 * time.Millisecond})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range rep.Events {
			if e.How != EndClose || e.Verdict != c.want || e.Rule != c.rule || string(e.Got.Body) != c.body {
				t.Errorf("%q: %s %q %s %q, want a close with it, %s %q", c.body, e.How, e.Got.Body, e.Verdict, e.Rule, c.want, c.rule)
			}
		}
		if len(rep.Events) != 3 || !strings.Contains(rep.Lanes[0].Words, c.words) {
			t.Errorf("%q: %d events, summary %q; want 3 and %q", c.body, len(rep.Events), rep.Lanes[0].Words, c.words)
		}
	}
}

// TestWatchLanesThatSentNothing: lanes cut before their first Ping or
// message were idle too; the summary says so and still names the idle
// timeout, rather than a cut of everything.
func TestWatchLanesThatSentNothing(t *testing.T) {
	t.Parallel()
	url := rawserver.Start(t, false, rawserver.IdleCutter(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rep, err := Watch(ctx, url, WatchOptions{Conns: 1})
	if err != nil {
		t.Fatal(err)
	}
	if w := rep.Lanes[0].Words; !strings.Contains(w, "something on the path has an idle timeout of about 0.2 s") {
		t.Errorf("idle summary %q", w)
	}
	for _, l := range rep.Lanes[1:] {
		if !strings.Contains(l.Words, "before they sent anything: idle until then") {
			t.Errorf("%s summary %q", l.Lane, l.Words)
		}
	}
}

// TestWatchReconnect: with Reconnect, each lane comes back after a server
// closes it with 1001, after the back-off, and the returns are events.
func TestWatchReconnect(t *testing.T) {
	t.Parallel()
	url := rawserver.Start(t, false, rawserver.CloseAfter(50*time.Millisecond, "\x03\xe9"))
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	rep, err := Watch(ctx, url, WatchOptions{Conns: 1, Reconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	backs := map[Lane]int{}
	var last = map[Lane]WatchEvent{}
	for _, e := range rep.Events {
		if e.How == EventBack {
			backs[e.Lane]++
			if prev := last[e.Lane]; prev.How != EndClose || e.Elapsed-prev.Elapsed < watchBackoff {
				t.Errorf("%s: back %v after %s, want after a close and the %v back-off", e.Lane, e.Elapsed-prev.Elapsed, prev.How, watchBackoff)
			}
		}
		last[e.Lane] = e
	}
	for _, lane := range Lanes {
		if backs[lane] == 0 {
			t.Errorf("%s lane never came back: %d events", lane, len(rep.Events))
		}
	}
}

// TestWatchBounds: bad options and a failed first handshake are errors
// that name the value, and nothing is watched.
func TestWatchBounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		opts WatchOptions
		want string
	}{
		{WatchOptions{Conns: MaxWatchConns + 1}, "probe: 33 connections per lane: give 1 to 32"},
		{WatchOptions{Conns: -1}, "probe: -1 connections per lane: give 1 to 32"},
		{WatchOptions{Ping: time.Millisecond}, "probe: an interval of 1ms: give at least 10ms"},
		{WatchOptions{Send: time.Nanosecond}, "probe: an interval of 1ns: give at least 10ms"},
	} {
		if _, err := Watch(ctx, "ws://127.0.0.1:1/", c.opts); err == nil || err.Error() != c.want {
			t.Errorf("%+v: %v, want %q", c.opts, err, c.want)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	var he *HandshakeError
	if rep, err := Watch(ctx, url, WatchOptions{}); rep != nil || !errors.As(err, &he) {
		t.Errorf("a refused first handshake: %v, %v; want a HandshakeError", rep, err)
	}
}

// TestWatchKeepsEventsBounded: past MaxWatchEvents, events are counted,
// not kept.
func TestWatchKeepsEventsBounded(t *testing.T) {
	w := &watcher{rep: &WatchReport{}, began: time.Now()}
	for range MaxWatchEvents + 5 {
		w.emit(WatchEvent{How: EndDrop})
	}
	if len(w.rep.Events) != MaxWatchEvents || w.rep.Unkept != 5 {
		t.Errorf("%d kept, %d counted; want %d and 5", len(w.rep.Events), w.rep.Unkept, MaxWatchEvents)
	}
}

// TestWatchLargeFrames: a message past the watch's 64 KiB frame bound is
// skipped, not kept, and the Close after it is read; a Ping of 200 bytes,
// past the 125 a control frame may carry, gets no Pong and makes the end
// wrong, with the rule.
func TestWatchLargeFrames(t *testing.T) {
	t.Parallel()
	big := wsframe.Append(nil, wsframe.OpBinary, make([]byte, watchFrame+1000), nil)
	for _, c := range []struct {
		before []byte
		how    string
		want   Verdict
	}{
		{big, EndClose, OK},
		{wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpPing}, make([]byte, 200)), EndClose, Wrong},
	} {
		url := rawserver.Start(t, false, func(conn net.Conn, br *bufio.Reader) {
			conn.Write(c.before)
			conn.Write(wsframe.Append(nil, wsframe.OpClose, []byte{0x03, 0xe8}, nil))
			rawserver.AwaitClose(br)
		})
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		rep, err := Watch(ctx, url, WatchOptions{Conns: 1})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range rep.Events {
			if e.How != c.how || e.Verdict != c.want || c.want == Wrong && !strings.Contains(e.Rule, "a control frame carries at most 125 bytes (§5.5)") {
				t.Errorf("%s: %s %s (%s), want %s %s", e.Lane, e.How, e.Verdict, e.Rule, c.how, c.want)
			}
		}
	}
}

// TestWatchRefused: a server that takes the first connection and answers
// the others' handshakes with 503 is wrong for each refusal; when it
// refuses a reconnect, the refusal is tolerated: the lane backs off.
func TestWatchRefused(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	serve := rawserver.Handler(rawserver.CloseAfter(100*time.Millisecond, "\x03\xe9"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		serve.ServeHTTP(w, r)
	}))
	defer srv.Close()
	for _, reconnect := range []bool{false, true} {
		n.Store(0)
		ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
		rep, err := Watch(ctx, rawserver.URL(srv), WatchOptions{Conns: 1, Reconnect: reconnect})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		refused := map[Verdict]int{}
		for _, e := range rep.Events {
			if e.How == EndRefused {
				refused[e.Verdict]++
				if !strings.Contains(e.Handshake, "503 Service Unavailable") {
					t.Errorf("refusal %q, want the 503 named", e.Handshake)
				}
			}
		}
		// The ping and data lanes are refused at once: wrong. With
		// Reconnect, the idle lane, closed with 1001, is refused on its
		// return: tolerated.
		if refused[Wrong] != 2 || reconnect && refused[Tolerated] == 0 || !reconnect && refused[Tolerated] != 0 {
			t.Errorf("reconnect %v: refusals %v in %d events", reconnect, refused, len(rep.Events))
		}
	}
}
