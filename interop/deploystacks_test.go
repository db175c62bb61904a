package interop

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	fastws "github.com/fasthttp/websocket"
	"github.com/gobwas/ws"
	gorillaws "github.com/gorilla/websocket"
	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	nbws "github.com/lesismal/nbio/nbhttp/websocket"
	"github.com/lxzan/gws"
	"github.com/valyala/fasthttp"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/drain"
)

// deployHold bounds how long a deploy test's server keeps a connection
// that nobody closes.
const deployHold = time.Minute

// deployStack is a WebSocket server on one Go stack, written as its users
// write one, that a deploy stops.
type deployStack struct {
	name string
	stop string // the stack's own stop, as the table names it
	// start runs the server on 127.0.0.1 until the test ends; its handler
	// registers every connection with conns. shutdown is the stack's own
	// stop: it closes the listener and returns, or, with closesConns, also
	// closes every connection without a Close frame.
	start       func(t testing.TB, conns *deployConns) (url string, shutdown func(context.Context) error)
	closesConns bool
}

var deployStacks = []deployStack{
	{name: "gorilla", stop: "http.Server.Shutdown", start: startHTTP(serveGorillaDeploy)},
	{name: "coder", stop: "http.Server.Shutdown", start: startHTTP(serveCoderDeploy)},
	{name: "gobwas", stop: "http.Server.Shutdown", start: startHTTP(serveGobwasDeploy)},
	{name: "gws", stop: "http.Server.Shutdown", start: startHTTP(serveGwsDeploy)},
	{name: "fasthttp", stop: "fasthttp.Server.ShutdownWithContext", start: startFasthttpDeploy},
	{name: "nbio", stop: "nbhttp.Engine.Shutdown", start: startNbioDeploy, closesConns: true},
}

// deployConns is what a deploy test keeps of a server's connections: the
// drain.Group the handlers add them to (nil for the baseline, which has
// none), and a way to drop each, as the kernel does when the process exits.
type deployConns struct {
	g      *drain.Group
	opened atomic.Int64 // connections the handlers have registered

	mu     sync.Mutex
	next   int
	drops  map[int]func()
	exited bool // a connection registered after the exit is dropped at once
}

// add registers a connection: close sends its Close frame, drop ends it at
// once. done unregisters it; the handler calls it when it returns.
func (d *deployConns) add(close drain.CloseFunc, drop func()) (done func()) {
	var drained func()
	if d.g != nil {
		drained = d.g.Add(close)
	}
	d.opened.Add(1)
	d.mu.Lock()
	if d.exited {
		d.mu.Unlock()
		drop()
		return func() {
			if drained != nil {
				drained()
			}
		}
	}
	if d.drops == nil {
		d.drops = map[int]func(){}
	}
	id := d.next
	d.next++
	d.drops[id] = drop
	d.mu.Unlock()
	return func() {
		d.mu.Lock()
		delete(d.drops, id)
		d.mu.Unlock()
		if drained != nil {
			drained()
		}
	}
}

// exit drops every connection still registered, and any registered later:
// what is left when the process exits after its stop.
func (d *deployConns) exit() {
	d.mu.Lock()
	d.exited = true
	drops := make([]func(), 0, len(d.drops))
	for _, f := range d.drops {
		drops = append(drops, f)
	}
	d.mu.Unlock()
	for _, f := range drops {
		f()
	}
}

// deploy is the whole stop of a server on st: the stack's own shutdown,
// then, when conns has a group, its drain with code and "deploy" (before
// the shutdown on a stack whose shutdown closes connections), then the
// process's exit.
func (st deployStack) deploy(conns *deployConns, shutdown func(context.Context) error, code reasons.Reason) func(context.Context) error {
	return func(ctx context.Context) error {
		defer conns.exit()
		switch {
		case conns.g == nil:
			return shutdown(ctx)
		case st.closesConns:
			return errors.Join(conns.g.Shutdown(ctx, code, "deploy"), shutdown(ctx))
		default:
			return errors.Join(shutdown(ctx), conns.g.Shutdown(ctx, code, "deploy"))
		}
	}
}

// startHTTP runs a net/http server whose handler is serve.
func startHTTP(serve func(conns *deployConns, w http.ResponseWriter, r *http.Request)) func(testing.TB, *deployConns) (string, func(context.Context) error) {
	return func(t testing.TB, conns *deployConns) (string, func(context.Context) error) {
		ln := listenLoopback(t)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(conns, w, r) })}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		return "ws://" + ln.Addr().String(), srv.Shutdown
	}
}

func listenLoopback(t testing.TB) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serveGorillaConn reads c until it ends; gorilla's default close handler
// answers a Close frame. fasthttp/websocket, gorilla's fork, shares it.
func serveGorillaConn(conns *deployConns, c gorillaConn) {
	defer c.Close()
	done := conns.add(func(r reasons.Reason, text string) error {
		body, err := reasons.Format(r, text)
		if err != nil {
			return err
		}
		return c.WriteControl(gorillaws.CloseMessage, body, time.Now().Add(time.Second))
	}, func() {
		// fasthttp closes a hijacked connection only when its handler
		// returns, so the read is ended first.
		c.SetReadDeadline(time.Now())
		c.Close()
	})
	defer done()
	c.SetReadDeadline(time.Now().Add(deployHold))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}

func serveGorillaDeploy(conns *deployConns, w http.ResponseWriter, r *http.Request) {
	u := gorillaws.Upgrader{HandshakeTimeout: timeout}
	c, err := u.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	serveGorillaConn(conns, c)
}

func serveCoderDeploy(conns *deployConns, w http.ResponseWriter, r *http.Request) {
	c, err := coderws.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	done := conns.add(func(r reasons.Reason, text string) error {
		return c.Close(coderws.StatusCode(r), text)
	}, func() { c.CloseNow() })
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), deployHold)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			return
		}
	}
}

// serveGobwasDeploy reads frames with gobwas's low-level API, as its users
// do, and answers a Close frame unless it sent one first.
func serveGobwasDeploy(conns *deployConns, w http.ResponseWriter, r *http.Request) {
	conn, rw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	defer conn.Close()
	var mu sync.Mutex
	sent := false
	write := func(body []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if sent {
			return nil
		}
		sent = true
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		return ws.WriteFrame(conn, ws.NewCloseFrame(body))
	}
	done := conns.add(func(r reasons.Reason, text string) error {
		body, err := reasons.Format(r, text)
		if err != nil {
			return err
		}
		return write(body)
	}, func() { conn.Close() })
	defer done()
	conn.SetReadDeadline(time.Now().Add(deployHold))
	for {
		h, err := ws.ReadHeader(rw)
		if err != nil || h.Length > 125 && h.OpCode.IsControl() {
			return
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(rw, payload); err != nil {
			return
		}
		if h.OpCode == ws.OpClose {
			ws.Cipher(payload, h.Mask, 0)
			write(payload[:min(len(payload), 2)])
			return
		}
	}
}

func serveGwsDeploy(conns *deployConns, w http.ResponseWriter, r *http.Request) {
	c, err := gws.NewUpgrader(gws.BuiltinEventHandler{}, nil).Upgrade(w, r)
	if err != nil {
		return
	}
	done := conns.add(func(r reasons.Reason, text string) error {
		return c.WriteClose(uint16(r), []byte(text))
	}, func() { c.NetConn().Close() })
	defer done()
	c.SetReadDeadline(time.Now().Add(deployHold))
	c.ReadLoop()
}

func startFasthttpDeploy(t testing.TB, conns *deployConns) (string, func(context.Context) error) {
	ln := listenLoopback(t)
	u := fastws.FastHTTPUpgrader{HandshakeTimeout: timeout}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		u.Upgrade(ctx, func(c *fastws.Conn) { serveGorillaConn(conns, c) })
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return "ws://" + ln.Addr().String(), srv.ShutdownWithContext
}

func startNbioDeploy(t testing.TB, conns *deployConns) (string, func(context.Context) error) {
	logging.SetLevel(logging.LevelNone)
	ln := listenLoopback(t)
	u := nbws.NewUpgrader()
	u.OnClose(func(c *nbws.Conn, _ error) {
		if done, ok := c.Session().(func()); ok {
			done()
		}
	})
	engine := nbhttp.NewEngine(nbhttp.Config{
		Network: "tcp",
		Addrs:   []string{ln.Addr().String()},
		Listen:  func(string, string) (net.Listener, error) { return ln, nil },
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := u.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			c.SetSession(conns.add(func(r reasons.Reason, text string) error {
				return c.WriteClose(int(r), text)
			}, func() { c.Close() }))
		}),
	})
	if err := engine.Start(); err != nil {
		t.Fatal(err)
	}
	// A second Shutdown panics (nbio v1.6.8), so the test's cleanup stops
	// the engine only when the deploy has not.
	var once sync.Once
	shutdown := func(ctx context.Context) (err error) {
		once.Do(func() { err = engine.Shutdown(ctx) })
		return err
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		shutdown(ctx)
	})
	return "ws://" + ln.Addr().String(), shutdown
}

// closeBody is the code and text of a Close frame's body, for a client
// that reads frames itself.
func closeBody(b []byte) (int, string) {
	if len(b) < 2 {
		return 1005, ""
	}
	return int(binary.BigEndian.Uint16(b)), string(b[2:])
}
