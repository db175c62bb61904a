package drain_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/drain"
	"github.com/wsreasons/reasons/internal/wsframe"
)

// benchConns is the size of the drains measured.
const benchConns = 10_000

// handLoop is the registry a team writes by hand when its stack has no
// graceful shutdown: a map under a mutex, a WaitGroup for the handlers,
// and a loop that sends each connection its Close in turn.
type handLoop struct {
	mu    sync.Mutex
	conns map[*benchConn]struct{}
	wg    sync.WaitGroup
}

func (h *handLoop) add(c *benchConn) {
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	h.wg.Add(1)
}

func (h *handLoop) remove(c *benchConn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.wg.Done()
}

func (h *handLoop) shutdown(r reasons.Reason, text string) {
	h.mu.Lock()
	list := make([]*benchConn, 0, len(h.conns))
	for c := range h.conns {
		list = append(list, c)
	}
	h.mu.Unlock()
	for _, c := range list {
		c.close(r, text)
	}
	h.wg.Wait()
}

// benchConn is a connection whose Close is sent as a stack sends one: the
// frame is built and written; with an echo peer, the call then waits for
// the peer's answer, as coder/websocket's Close does. Its handler ends
// once the Close is through.
type benchConn struct {
	echo chan<- chan struct{} // the peer, or nil
	done func()
}

func (c *benchConn) close(r reasons.Reason, text string) error {
	body, err := reasons.Format(r, text)
	if err != nil {
		return err
	}
	var buf [2 + reasons.MaxPayloadLen]byte
	io.Discard.Write(wsframe.Append(buf[:0], wsframe.OpClose, body, nil))
	if c.echo != nil {
		answered := make(chan struct{})
		c.echo <- answered
		<-answered
	}
	c.done()
	return nil
}

// roundTrip is how long the echo peers take to answer a Close: about a
// round trip within a data centre.
const roundTrip = 100 * time.Microsecond

// echoPeers answers every Close sent to the channel it returns roundTrip
// later, until stop is closed.
func echoPeers(stop <-chan struct{}) chan<- chan struct{} {
	ch := make(chan chan struct{})
	go func() {
		for {
			select {
			case a := <-ch:
				time.AfterFunc(roundTrip, func() { close(a) })
			case <-stop:
				return
			}
		}
	}()
	return ch
}

// BenchmarkDrain measures one shutdown of 10,000 open connections, without
// Spread: drain.Group against the hand-written loop, for a Close that is a
// write (gorilla's WriteControl) and for one that waits roundTrip for the
// peer's answer (coder's Close). Registering the connections is not timed.
func BenchmarkDrain(b *testing.B) {
	for _, mode := range []string{"write", "echo"} {
		stop := make(chan struct{})
		defer close(stop)
		var echo chan<- chan struct{}
		if mode == "echo" {
			echo = echoPeers(stop)
		}
		b.Run("close="+mode+"/impl=drain", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				var g drain.Group
				for range benchConns {
					c := &benchConn{echo: echo}
					c.done = g.Add(c.close)
				}
				b.StartTimer()
				if err := g.Shutdown(context.Background(), reasons.ServiceRestart, "deploy"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("close="+mode+"/impl=handloop", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				h := &handLoop{conns: map[*benchConn]struct{}{}}
				for range benchConns {
					c := &benchConn{echo: echo}
					c.done = func() { h.remove(c) }
					h.add(c)
				}
				b.StartTimer()
				h.shutdown(reasons.ServiceRestart, "deploy")
			}
		})
	}
}

// BenchmarkAddDone measures registering a connection and its end, with
// 10,000 others open.
func BenchmarkAddDone(b *testing.B) {
	var g drain.Group
	for range benchConns {
		g.Add(func(reasons.Reason, string) error { return nil })
	}
	b.Run("impl=drain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			done := g.Add(func(reasons.Reason, string) error { return nil })
			done()
		}
	})
	h := &handLoop{conns: map[*benchConn]struct{}{}}
	for range benchConns {
		h.add(&benchConn{})
	}
	b.Run("impl=handloop", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := &benchConn{}
			h.add(c)
			h.remove(c)
		}
	})
}
