package drain_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/drain"
)

// fakeConn is a connection whose handler ends once it has been sent a
// Close, as a handler does when the client echoes it.
type fakeConn struct {
	mu    sync.Mutex
	got   []string // the Closes it was sent
	at    time.Time
	done  func()
	ready chan struct{} // closed once done is set
}

func (c *fakeConn) close(r reasons.Reason, text string) error {
	c.mu.Lock()
	c.got = append(c.got, r.String()+" "+text)
	c.at = time.Now()
	c.mu.Unlock()
	go func() { <-c.ready; c.done() }()
	return nil
}

func (c *fakeConn) closes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got
}

func addFake(g *drain.Group) *fakeConn {
	c := &fakeConn{ready: make(chan struct{})}
	c.done = g.Add(c.close)
	close(c.ready)
	return c
}

func TestShutdown(t *testing.T) {
	var g drain.Group
	if err := g.Shutdown(context.Background(), reasons.ServiceRestart, "deploy"); err != nil {
		t.Fatalf("an empty group: %v", err)
	}

	var g2 drain.Group
	conns := make([]*fakeConn, 100)
	for i := range conns {
		conns[i] = addFake(&g2)
	}
	if s := g2.Stats(); s != (drain.Stats{Open: 100}) {
		t.Errorf("before Shutdown: %+v", s)
	}
	if err := g2.Shutdown(context.Background(), reasons.ServiceRestart, "deploy"); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		if got := c.closes(); len(got) != 1 || got[0] != "ServiceRestart deploy" {
			t.Errorf("connection %d was sent %q, want one ServiceRestart deploy", i, got)
		}
	}
	if s := g2.Stats(); s != (drain.Stats{Open: 0, Sent: 100, Ended: 100}) {
		t.Errorf("after Shutdown: %+v", s)
	}
	// A second Shutdown sends nothing new and returns at once.
	if err := g2.Shutdown(context.Background(), reasons.GoingAway, ""); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		if got := c.closes(); len(got) != 1 {
			t.Errorf("connection %d was sent %q after a second Shutdown", i, got)
		}
	}
	// Connections that arrive after it get the Close at once.
	late := addFake(&g2)
	for deadline := time.Now().Add(5 * time.Second); g2.Stats().Open > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if got := late.closes(); len(got) != 1 || got[0] != "ServiceRestart deploy" {
		t.Errorf("a connection added after Shutdown was sent %q", got)
	}
}

// done counts once, however often it is called, and a connection that
// ended before Shutdown is not sent anything.
func TestDone(t *testing.T) {
	var g drain.Group
	left := addFake(&g)
	stays := addFake(&g)
	left.done()
	left.done()
	if s := g.Stats(); s.Open != 1 {
		t.Errorf("after done twice on one of two: %d open, want 1", s.Open)
	}
	if err := g.Shutdown(context.Background(), reasons.GoingAway, ""); err != nil {
		t.Fatal(err)
	}
	if got := left.closes(); len(got) != 0 {
		t.Errorf("a connection that had ended was sent %q", got)
	}
	if got := stays.closes(); len(got) != 1 || got[0] != "GoingAway " {
		t.Errorf("the open one was sent %q", got)
	}
	if s := g.Stats(); s != (drain.Stats{Sent: 1, Ended: 1}) {
		t.Errorf("stats %+v", s)
	}
}

// A connection that never ends makes Shutdown return an error when ctx
// ends, wrapping ctx's error and counting the open connections.
func TestShutdownDeadline(t *testing.T) {
	var g drain.Group
	addFake(&g)
	var stuck atomic.Int32
	g.Add(func(reasons.Reason, string) error { stuck.Add(1); return nil })
	g.Add(func(reasons.Reason, string) error { return errors.New("broken pipe") })
	g.Add(nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := g.Shutdown(ctx, reasons.ServiceRestart, "")
	var open *drain.OpenError
	if !errors.As(err, &open) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want an *OpenError wrapping context.DeadlineExceeded", err)
	}
	if open.Open != 3 || open.Total != 4 || err.Error() != "drain: 3 of 4 connections still open: context deadline exceeded" {
		t.Errorf("error %q (%d of %d), want 3 of 4 open", err, open.Open, open.Total)
	}
	if stuck.Load() != 1 {
		t.Errorf("the connection that does not end was sent %d Closes, want 1", stuck.Load())
	}
	if s := g.Stats(); s != (drain.Stats{Open: 3, Sent: 2, Failed: 2, Ended: 1}) {
		t.Errorf("stats %+v, want 3 open, 2 sent, 2 failed (an error and a nil CloseFunc), 1 ended", s)
	}
}

// Bad input is an error naming it, before anything is sent.
func TestShutdownBadInput(t *testing.T) {
	for _, c := range []struct {
		r    reasons.Reason
		text string
		want string
	}{
		{reasons.AbnormalClose, "", "1006"},
		{reasons.NoStatus, "", "1005"},
		{999, "", "999"},
		{reasons.GoingAway, strings.Repeat("x", reasons.MaxTextLen+1), "124"},
		{reasons.GoingAway, "\xff", "UTF-8"},
	} {
		var g drain.Group
		conn := addFake(&g)
		err := g.Shutdown(context.Background(), c.r, c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "drain: ") {
			t.Errorf("Shutdown(%d, %.10q): error %v, want one naming %s", c.r, c.text, err, c.want)
		}
		if got := conn.closes(); len(got) != 0 {
			t.Errorf("Shutdown(%d, %.10q) sent %q", c.r, c.text, got)
		}
	}
}

// Spread sends the Closes evenly over its span: the last of n goes out no
// sooner than (n-1)/n of it after the first.
func TestSpread(t *testing.T) {
	g := drain.Group{Spread: 300 * time.Millisecond}
	conns := make([]*fakeConn, 10)
	for i := range conns {
		conns[i] = addFake(&g)
	}
	start := time.Now()
	if err := g.Shutdown(context.Background(), reasons.ServiceRestart, ""); err != nil {
		t.Fatal(err)
	}
	var first, last time.Time
	for _, c := range conns {
		c.mu.Lock()
		at := c.at
		c.mu.Unlock()
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
	}
	if span := last.Sub(first); span < 270*time.Millisecond {
		t.Errorf("the Closes went out over %v, want at least 9/10 of the 300ms spread", span)
	}
	if took := time.Since(start); took < 270*time.Millisecond {
		t.Errorf("Shutdown returned after %v, before its spread", took)
	}

	// When ctx ends during the spread, the rest go out at once.
	g2 := drain.Group{Spread: time.Hour}
	conns = conns[:0]
	for range 10 {
		conns = append(conns, addFake(&g2))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	g2.Shutdown(ctx, reasons.ServiceRestart, "")
	for deadline := time.Now().Add(5 * time.Second); g2.Stats().Open > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	for i, c := range conns {
		if len(c.closes()) != 1 {
			t.Errorf("connection %d of an hour's spread cut short: sent %q", i, c.closes())
		}
	}
}

// Connections arrive and leave while a drain is under way (go test -race).
func TestShutdownConcurrent(t *testing.T) {
	g := drain.Group{Spread: 20 * time.Millisecond}
	for range 50 {
		addFake(&g)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				c := addFake(&g)
				if (i+j)%3 == 0 {
					c.done()
				}
				g.Stats()
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := g.Shutdown(ctx, reasons.GoingAway, "")
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Shutdown(ctx, reasons.GoingAway, ""); err != nil {
		t.Fatalf("waiting again for the late ones: %v", err)
	}
	if s := g.Stats(); s.Open != 0 || s.Sent+s.Ended < 450 {
		t.Errorf("stats %+v, want none open", s)
	}
}

// CloseFuncs that wait for their peer do not wait one after another: 64
// of them are in flight at once, though each waits until 64 are.
func TestShutdownSlowCloses(t *testing.T) {
	const n = 64
	var g drain.Group
	var inFlight atomic.Int32
	var together atomic.Int32 // closes that saw all n in flight
	all := make(chan struct{})
	for range n {
		var done func()
		ready := make(chan struct{})
		done = g.Add(func(reasons.Reason, string) error {
			if inFlight.Add(1) == n {
				close(all)
			}
			select {
			case <-all:
				together.Add(1)
			case <-time.After(time.Second):
			}
			go func() { <-ready; done() }()
			return nil
		})
		close(ready)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := g.Shutdown(ctx, reasons.ServiceRestart, ""); err != nil {
		t.Error(err)
	}
	if got := together.Load(); got != n {
		t.Errorf("%d of %d Closes were in flight together, want all: a slow Close holds up the others", got, n)
	}
}

// TestHold: a handler held but not yet added when Shutdown begins keeps
// Shutdown waiting; its Add, after the start, gets the Close at once, and
// Shutdown returns once its connection ended and its hold was released. A
// hold never released makes Shutdown's error say so.
func TestHold(t *testing.T) {
	var g drain.Group
	release := g.Hold()
	if s := g.Stats(); s.Held != 1 {
		t.Errorf("Held %d after Hold, want 1", s.Held)
	}
	returned := make(chan error, 1)
	go func() { returned <- g.Shutdown(context.Background(), reasons.ServiceRestart, "deploy") }()
	select {
	case err := <-returned:
		t.Fatalf("Shutdown returned %v with a handler held", err)
	case <-time.After(50 * time.Millisecond):
	}
	// The handler finishes its upgrade and adds its connection now.
	c := addFake(&g)
	deadline := time.Now().Add(5 * time.Second)
	for len(c.closes()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := c.closes(); len(got) != 1 || got[0] != "ServiceRestart deploy" {
		t.Errorf("the late connection was sent %q, want one Close", got)
	}
	select {
	case err := <-returned:
		t.Fatalf("Shutdown returned %v before the hold was released", err)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	release() // a second call does nothing
	if err := <-returned; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if s := g.Stats(); s.Held != 0 || s.Open != 0 {
		t.Errorf("after: %+v", s)
	}

	var g2 drain.Group
	g2.Hold()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := g2.Shutdown(ctx, reasons.GoingAway, "")
	var oe *drain.OpenError
	if !errors.As(err, &oe) || oe.Held != 1 || err.Error() != "drain: 0 of 0 connections still open, 1 handlers still held: context deadline exceeded" {
		t.Errorf("a hold never released: %v", err)
	}
}

// TestHandler: a request through Handler is held while it runs, and no
// longer once it returns.
func TestHandler(t *testing.T) {
	var g drain.Group
	var during drain.Stats
	h := g.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { during = g.Stats() }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if during.Held != 1 || g.Stats().Held != 0 {
		t.Errorf("held %d during the request and %d after, want 1 and 0", during.Held, g.Stats().Held)
	}
}
