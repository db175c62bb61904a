package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	fastws "github.com/fasthttp/websocket"
	"github.com/gobwas/ws"
	gorillaws "github.com/gorilla/websocket"
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
	// start runs the server on 127.0.0.1 until the test ends and returns
	// its URL and its deploy: the stop that plan says.
	start func(t testing.TB, plan deployPlan) (url string, deploy func(context.Context) error)
}

// deployPlan is how a deploy stops a server: by the stack's own shutdown
// and the process's exit alone (the baseline), or with a drain.Group first
// that sends code and "deploy", spread over spread.
type deployPlan struct {
	drain  bool
	code   reasons.Reason
	spread time.Duration
}

var deployStacks = []deployStack{
	{name: "gorilla", stop: "http.Server.Shutdown", start: inProcess(startHTTP(serveGorillaDeploy))},
	{name: "coder", stop: "http.Server.Shutdown", start: inProcess(startHTTP(serveCoderDeploy))},
	{name: "gobwas", stop: "http.Server.Shutdown", start: inProcess(startHTTP(serveGobwasDeploy))},
	{name: "gws", stop: "http.Server.Shutdown", start: inProcess(startHTTP(serveGwsDeploy))},
	{name: "fasthttp", stop: "fasthttp.Server.ShutdownWithContext", start: inProcess(startFasthttpDeploy)},
	{name: "nbio", stop: "nbhttp.Engine.Shutdown", start: startNbioProcess},
}

// deployConns is what a deploy test keeps of a server's connections: the
// drain.Group the handlers add them to (nil for the baseline, which has
// none), and a way to drop each, as the kernel does when the process exits.
type deployConns struct {
	g *drain.Group

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

// inProcess runs a server in the test's process with start, whose
// shutdown is the stack's own stop: it closes the listener and returns,
// leaving the connections open. The deploy is that shutdown, then, with
// plan.drain, the group's drain, then the process's exit.
func inProcess(start func(testing.TB, *deployConns) (string, func(context.Context) error)) func(testing.TB, deployPlan) (string, func(context.Context) error) {
	return func(t testing.TB, plan deployPlan) (string, func(context.Context) error) {
		conns := &deployConns{}
		if plan.drain {
			conns.g = &drain.Group{Spread: plan.spread}
		}
		url, shutdown := start(t, conns)
		return url, func(ctx context.Context) error {
			defer conns.exit()
			err := shutdown(ctx)
			if conns.g != nil {
				err = errors.Join(err, conns.g.Shutdown(ctx, plan.code, "deploy"))
			}
			return err
		}
	}
}

// startHTTP runs a net/http server whose handler is serve.
func startHTTP(serve func(conns *deployConns, w http.ResponseWriter, r *http.Request)) func(testing.TB, *deployConns) (string, func(context.Context) error) {
	return func(t testing.TB, conns *deployConns) (string, func(context.Context) error) {
		ln := listenLoopback(t)
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(conns, w, r) })
		if conns.g != nil {
			h = conns.g.Handler(h) // a connection upgraded as the server stops is drained too
		}
		srv := &http.Server{Handler: h}
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
	c.SetReadDeadline(time.Now().Add(deployHold)) // before drop can set its own
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
		// fasthttp runs the WebSocket's handler after this one returns, so
		// the hold lasts until that one does.
		release := func() {}
		if conns.g != nil {
			release = conns.g.Hold()
		}
		err := u.Upgrade(ctx, func(c *fastws.Conn) {
			defer release()
			serveGorillaConn(conns, c)
		})
		if err != nil {
			release()
		}
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return "ws://" + ln.Addr().String(), srv.ShutdownWithContext
}

// startNbioProcess runs the nbioserver command (see its doc for why in a
// process of its own); the deploy sends it SIGTERM and waits for its exit.
func startNbioProcess(t testing.TB, plan deployPlan) (string, func(context.Context) error) {
	bin := buildOnce(t, "./nbioserver")
	args := []string{"-timeout", (2 * timeout).String()}
	if plan.drain {
		args = append(args, "-drain", "-code", strconv.Itoa(int(plan.code)), "-spread", plan.spread.String())
	}
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 2)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	var url string
	select {
	case line := <-lines:
		url, _ = strings.CutPrefix(line, "url ")
	case <-time.After(timeout):
	}
	if !strings.HasPrefix(url, "ws://") {
		t.Fatalf("nbioserver did not say its URL: %s", stderr.String())
	}
	return url, func(ctx context.Context) error {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			return err
		}
		select {
		case line := <-lines:
			if _, e, _ := strings.Cut(line, ": "); e != "<nil>" {
				return fmt.Errorf("nbioserver: %s", line)
			}
			return nil
		case <-ctx.Done():
			return fmt.Errorf("nbioserver had not stopped: %w", ctx.Err())
		}
	}
}

// builds holds the commands buildOnce built, for the whole test binary.
var builds struct {
	sync.Mutex
	dir  string
	bins map[string]string
}

// buildOnce builds the command in the package at path (in this module)
// the first time a test asks, into a directory that TestMain removes.
func buildOnce(t testing.TB, path string) string {
	builds.Lock()
	defer builds.Unlock()
	if bin, ok := builds.bins[path]; ok {
		return bin
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "reasons-interop-")
		if err != nil {
			t.Fatal(err)
		}
		builds.dir, builds.bins = dir, map[string]string{}
	}
	bin := filepath.Join(builds.dir, filepath.Base(path))
	if out, err := exec.Command("go", "build", "-o", bin, path).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", path, err, out)
	}
	builds.bins[path] = bin
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	os.Exit(code)
}
