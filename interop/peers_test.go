package interop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"
	fastws "github.com/fasthttp/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorillaws "github.com/gorilla/websocket"
	"github.com/lxzan/gws"
	"github.com/valyala/fasthttp"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/wsframe"
)

// timeout bounds every read, write and handshake in these tests.
const timeout = 5 * time.Second

// endpoint is one side of an open WebSocket connection, on some library.
type endpoint interface {
	// closeWith sends a Close frame for r and text the way an application on
	// this library would, then waits for the peer's reply or the end of the
	// connection. Its error says whether the library saw a clean close.
	closeWith(r reasons.Reason, text string) error
	// awaitClose reads until the peer's Close frame and returns the code and
	// text the library reports to its caller, or the error it reports instead.
	// The library sends its own reply, as it would in production.
	awaitClose() (code int, text string, err error)
	// drop ends the connection at once.
	drop()
}

// libraryEndpoint is an endpoint on a WebSocket library, whose errors
// reasons.FromError is checked on.
type libraryEndpoint interface {
	endpoint
	// readErr reads until the library's read fails, within d, and returns
	// the library's error as it is.
	readErr(d time.Duration) error
	// closeOf reads a close code and text out of err with the library's own
	// API, as an application on it would without package reasons.
	closeOf(err error) (code int, text string, ok bool)
}

// awaitClose is endpoint.awaitClose for a library endpoint.
func awaitClose(e libraryEndpoint) (int, string, error) {
	err := e.readErr(timeout)
	if code, text, ok := e.closeOf(err); ok {
		return code, text, nil
	}
	return 0, "", err
}

// awaitEcho waits for the peer's reply to a Close frame with r and checks
// that it echoes r.
func awaitEcho(e endpoint, r reasons.Reason) error {
	code, _, err := e.awaitClose()
	if err == nil && code != int(r) {
		err = fmt.Errorf("peer replied with %d", code)
	}
	return err
}

// library opens endpoints on one WebSocket library. A server runs on
// net/http with accept, or on its own server with serve. A library outside
// Go has only answering: it starts a server that answers Close frames by
// itself, and returns its URL.
type library struct {
	name      string
	accept    func(w http.ResponseWriter, r *http.Request) (endpoint, error)
	serve     func(t testing.TB, handle func(endpoint)) (url string)
	dial      func(ctx context.Context, url string) (libraryEndpoint, error)
	answering func(t testing.TB) (url string)
}

var libraries = []library{
	{name: "gorilla", accept: acceptGorilla, dial: dialGorilla},
	{name: "coder", accept: acceptCoder, dial: dialCoder},
	{name: "gobwas", accept: acceptGobwas, dial: dialGobwas},
	{name: "gws", accept: acceptGws, dial: dialGws},
	{name: "fasthttp", serve: serveFasthttp, dial: dialFasthttp},
}

// --- gorilla/websocket and its fork fasthttp/websocket ----------------------

// gorillaConn is the part of a connection's API that gorilla/websocket and
// fasthttp/websocket share.
type gorillaConn interface {
	WriteControl(messageType int, data []byte, deadline time.Time) error
	SetReadDeadline(t time.Time) error
	ReadMessage() (messageType int, p []byte, err error)
	Close() error
}

type gorillaEndpoint struct {
	c         gorillaConn
	closeErrs func(err error) (code int, text string, ok bool) // the library's CloseError
}

func (e *gorillaEndpoint) closeOf(err error) (int, string, bool) { return e.closeErrs(err) }

func gorillaCloseOf(err error) (int, string, bool) {
	var ce *gorillaws.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text, true
	}
	return 0, "", false
}

func acceptGorilla(w http.ResponseWriter, r *http.Request) (endpoint, error) {
	u := gorillaws.Upgrader{HandshakeTimeout: timeout}
	c, err := u.Upgrade(w, r, nil)
	return &gorillaEndpoint{c, gorillaCloseOf}, err
}

func dialGorilla(ctx context.Context, url string) (libraryEndpoint, error) {
	d := gorillaws.Dialer{HandshakeTimeout: timeout}
	c, _, err := d.DialContext(ctx, url, nil)
	return &gorillaEndpoint{c, gorillaCloseOf}, err
}

func fasthttpCloseOf(err error) (int, string, bool) {
	var ce *fastws.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text, true
	}
	return 0, "", false
}

// serveFasthttp runs a fasthttp server on 127.0.0.1 that upgrades with
// fasthttp/websocket's FastHTTPUpgrader, and stops it when the test ends.
func serveFasthttp(t testing.TB, handle func(endpoint)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := fastws.FastHTTPUpgrader{HandshakeTimeout: timeout}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		err := u.Upgrade(ctx, func(c *fastws.Conn) { handle(&gorillaEndpoint{c, fasthttpCloseOf}) })
		if err != nil {
			t.Errorf("fasthttp upgrade: %v", err)
		}
	}}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		srv.ShutdownWithContext(ctx)
	})
	return "ws://" + ln.Addr().String()
}

func dialFasthttp(ctx context.Context, url string) (libraryEndpoint, error) {
	d := fastws.Dialer{HandshakeTimeout: timeout}
	c, _, err := d.DialContext(ctx, url, nil)
	return &gorillaEndpoint{c, fasthttpCloseOf}, err
}

func (e *gorillaEndpoint) closeWith(r reasons.Reason, text string) error {
	body, err := reasons.Format(r, text)
	if err != nil {
		return err
	}
	if err := e.c.WriteControl(gorillaws.CloseMessage, body, time.Now().Add(timeout)); err != nil {
		return err
	}
	return awaitEcho(e, r)
}

func (e *gorillaEndpoint) awaitClose() (int, string, error) { return awaitClose(e) }

func (e *gorillaEndpoint) readErr(d time.Duration) error {
	e.c.SetReadDeadline(time.Now().Add(d))
	for {
		if _, _, err := e.c.ReadMessage(); err != nil {
			return err
		}
	}
}

func (e *gorillaEndpoint) drop() { e.c.Close() }

// --- coder/websocket -------------------------------------------------------

type coderEndpoint struct{ c *coderws.Conn }

func acceptCoder(w http.ResponseWriter, r *http.Request) (endpoint, error) {
	c, err := coderws.Accept(w, r, nil)
	return coderEndpoint{c}, err
}

func dialCoder(ctx context.Context, url string) (libraryEndpoint, error) {
	c, _, err := coderws.Dial(ctx, url, nil)
	return coderEndpoint{c}, err
}

// closeWith uses coder's own Close, fed the Reason as its StatusCode.
func (e coderEndpoint) closeWith(r reasons.Reason, text string) error {
	return e.c.Close(coderws.StatusCode(r), text)
}

func (e coderEndpoint) awaitClose() (int, string, error) { return awaitClose(e) }

func (e coderEndpoint) readErr(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		if _, _, err := e.c.Read(ctx); err != nil {
			return err
		}
	}
}

func (coderEndpoint) closeOf(err error) (int, string, bool) {
	var ce coderws.CloseError
	if errors.As(err, &ce) {
		return int(ce.Code), ce.Reason, true
	}
	return 0, "", false
}

func (e coderEndpoint) drop() { e.c.CloseNow() }

// --- gobwas/ws -------------------------------------------------------------

// gobwasEndpoint is a connection upgraded by gobwas/ws, read through wsutil
// as an application on gobwas usually does.
type gobwasEndpoint struct {
	conn  net.Conn
	rw    io.ReadWriter // reads what the handshake left buffered first
	state ws.State
}

type readWriter struct {
	io.Reader
	io.Writer
}

func acceptGobwas(w http.ResponseWriter, r *http.Request) (endpoint, error) {
	conn, buf, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return nil, err
	}
	return &gobwasEndpoint{conn, readWriter{buf, conn}, ws.StateServerSide}, nil
}

func dialGobwas(ctx context.Context, url string) (libraryEndpoint, error) {
	conn, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn)
	}
	return &gobwasEndpoint{conn, readWriter{r, conn}, ws.StateClientSide}, nil
}

// closeWith builds the body with reasons.Append and writes it with gobwas's
// frame API.
func (e *gobwasEndpoint) closeWith(r reasons.Reason, text string) error {
	body, err := reasons.Append(make([]byte, 0, reasons.MaxPayloadLen), r, text)
	if err != nil {
		return err
	}
	if err := e.writeFrame(ws.NewCloseFrame(body)); err != nil {
		return err
	}
	return awaitEcho(e, r)
}

func (e *gobwasEndpoint) writeFrame(f ws.Frame) error {
	if e.state.ClientSide() {
		f = ws.MaskFrameInPlace(f)
	}
	e.conn.SetWriteDeadline(time.Now().Add(timeout))
	return ws.WriteFrame(e.conn, f)
}

func (e *gobwasEndpoint) awaitClose() (int, string, error) { return awaitClose(e) }

func (e *gobwasEndpoint) readErr(d time.Duration) error {
	e.conn.SetReadDeadline(time.Now().Add(d))
	for {
		if _, _, err := wsutil.ReadData(e.rw, e.state); err != nil {
			return err
		}
	}
}

func (*gobwasEndpoint) closeOf(err error) (int, string, bool) {
	var ce wsutil.ClosedError
	if errors.As(err, &ce) {
		return int(ce.Code), ce.Reason, true
	}
	return 0, "", false
}

func (e *gobwasEndpoint) drop() { e.conn.Close() }

// --- lxzan/gws -------------------------------------------------------------

// gwsEndpoint is a gws connection with its read loop running, as gws
// applications run it; the loop hands its final error to OnClose.
type gwsEndpoint struct {
	c      *gws.Conn
	closed chan error
}

// gwsEvents receives the connection's events; it only keeps OnClose's error.
type gwsEvents struct {
	gws.BuiltinEventHandler
	closed chan error
}

func (h gwsEvents) OnClose(_ *gws.Conn, err error) { h.closed <- err }

func startGws(c *gws.Conn, h gwsEvents) *gwsEndpoint {
	c.SetReadDeadline(time.Now().Add(3 * timeout)) // the loop ends by itself
	go c.ReadLoop()
	return &gwsEndpoint{c, h.closed}
}

func acceptGws(w http.ResponseWriter, r *http.Request) (endpoint, error) {
	h := gwsEvents{closed: make(chan error, 1)}
	c, err := gws.NewUpgrader(h, nil).Upgrade(w, r)
	if err != nil {
		return nil, err
	}
	return startGws(c, h), nil
}

func dialGws(ctx context.Context, url string) (libraryEndpoint, error) {
	h := gwsEvents{closed: make(chan error, 1)}
	c, _, err := gws.NewClient(h, &gws.ClientOption{Addr: url, HandshakeTimeout: timeout})
	if err != nil {
		return nil, err
	}
	return startGws(c, h), nil
}

// closeWith uses gws's WriteClose, which closes the TCP connection right
// after the Close frame: gws never reads the peer's reply.
func (e *gwsEndpoint) closeWith(r reasons.Reason, text string) error {
	return e.c.WriteClose(uint16(r), []byte(text))
}

func (e *gwsEndpoint) awaitClose() (int, string, error) { return awaitClose(e) }

func (e *gwsEndpoint) readErr(d time.Duration) error {
	e.c.SetReadDeadline(time.Now().Add(d))
	select {
	case err := <-e.closed:
		return err
	case <-time.After(d + timeout):
		return errors.New("gws: OnClose was not called")
	}
}

func (*gwsEndpoint) closeOf(err error) (int, string, bool) {
	var ce *gws.CloseError
	if errors.As(err, &ce) {
		return int(ce.Code), string(ce.Reason), true
	}
	return 0, "", false
}

func (e *gwsEndpoint) drop() { e.c.NetConn().Close() }

// --- servers ---------------------------------------------------------------

// server accepts WebSocket connections with one library on 127.0.0.1 and
// hands each endpoint to the test. The handler stays in place until the
// test is done with the endpoint, since some libraries tie the connection to
// it.
type server struct {
	url      string // ws://127.0.0.1:port
	accepted chan endpoint
	release  chan struct{}
}

func startServer(t testing.TB, lib library) *server {
	s := &server{accepted: make(chan endpoint), release: make(chan struct{})}
	s.url = serve(t, lib, func(ep endpoint) {
		select {
		case s.accepted <- ep:
		case <-time.After(timeout):
			ep.drop()
			return
		}
		select {
		case <-s.release:
		case <-time.After(2 * timeout):
		}
	})
	t.Cleanup(func() { close(s.release) }) // runs first: cleanups run last in, first out
	return s
}

// startAnswering starts a server on lib that answers on its own, as an
// application would: it reads until the client's Close frame, lets the
// library reply, then closes the connection. It returns the server's URL.
func startAnswering(t testing.TB, lib library) string {
	if lib.answering != nil {
		return lib.answering(t)
	}
	return serve(t, lib, func(ep endpoint) {
		ep.awaitClose()
		ep.drop()
	})
}

// serve runs a server on lib on 127.0.0.1 that hands each connection to
// handle, and returns its ws:// URL. It stops when the test ends.
func serve(t testing.TB, lib library, handle func(endpoint)) string {
	if lib.serve != nil {
		return lib.serve(t, handle)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep, err := lib.accept(w, r)
		if err != nil {
			t.Errorf("%s accept: %v", lib.name, err)
			return
		}
		handle(ep)
	}))
	t.Cleanup(hs.Close)
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

// next waits for the endpoint of the connection the test just opened.
func (s *server) next() (endpoint, error) {
	select {
	case ep := <-s.accepted:
		return ep, nil
	case <-time.After(timeout):
		return nil, errors.New("no connection accepted")
	}
}

// connect opens one connection from client to s and returns both ends.
func connect(ctx context.Context, s *server, client library) (serverEnd, clientEnd endpoint, err error) {
	clientEnd, err = client.dial(ctx, s.url)
	if err != nil {
		return nil, nil, fmt.Errorf("%s dial: %w", client.name, err)
	}
	serverEnd, err = s.next()
	if err != nil {
		clientEnd.drop()
		return nil, nil, err
	}
	return serverEnd, clientEnd, nil
}

// writeServerClose writes an unmasked Close frame carrying body as it is.
func writeServerClose(conn net.Conn, body []byte) error {
	conn.SetWriteDeadline(time.Now().Add(timeout))
	_, err := conn.Write(wsframe.Append(nil, wsframe.OpClose, body, nil))
	return err
}
