package interop

import (
	"bufio"
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
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorillaws "github.com/gorilla/websocket"

	"github.com/wsreasons/reasons"
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

// library opens endpoints on one WebSocket library.
type library struct {
	name   string
	accept func(w http.ResponseWriter, r *http.Request) (endpoint, error)
	dial   func(ctx context.Context, url string) (endpoint, error)
}

var libraries = []library{
	{"gorilla", acceptGorilla, dialGorilla},
	{"coder", acceptCoder, dialCoder},
	{"gobwas", acceptGobwas, dialGobwas},
}

// --- gorilla/websocket -----------------------------------------------------

type gorillaEndpoint struct{ c *gorillaws.Conn }

func acceptGorilla(w http.ResponseWriter, r *http.Request) (endpoint, error) {
	u := gorillaws.Upgrader{HandshakeTimeout: timeout}
	c, err := u.Upgrade(w, r, nil)
	return gorillaEndpoint{c}, err
}

func dialGorilla(ctx context.Context, url string) (endpoint, error) {
	d := gorillaws.Dialer{HandshakeTimeout: timeout}
	c, _, err := d.DialContext(ctx, url, nil)
	return gorillaEndpoint{c}, err
}

func (e gorillaEndpoint) closeWith(r reasons.Reason, text string) error {
	body, err := reasons.Format(r, text)
	if err != nil {
		return err
	}
	if err := e.c.WriteControl(gorillaws.CloseMessage, body, time.Now().Add(timeout)); err != nil {
		return err
	}
	return awaitEcho(e, r)
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

func (e gorillaEndpoint) awaitClose() (int, string, error) {
	e.c.SetReadDeadline(time.Now().Add(timeout))
	for {
		_, _, err := e.c.ReadMessage()
		var ce *gorillaws.CloseError
		switch {
		case errors.As(err, &ce):
			return ce.Code, ce.Text, nil
		case err != nil:
			return 0, "", err
		}
	}
}

func (e gorillaEndpoint) drop() { e.c.Close() }

// --- coder/websocket -------------------------------------------------------

type coderEndpoint struct{ c *coderws.Conn }

func acceptCoder(w http.ResponseWriter, r *http.Request) (endpoint, error) {
	c, err := coderws.Accept(w, r, nil)
	return coderEndpoint{c}, err
}

func dialCoder(ctx context.Context, url string) (endpoint, error) {
	c, _, err := coderws.Dial(ctx, url, nil)
	return coderEndpoint{c}, err
}

// closeWith uses coder's own Close, fed the Reason as its StatusCode.
func (e coderEndpoint) closeWith(r reasons.Reason, text string) error {
	return e.c.Close(coderws.StatusCode(r), text)
}

func (e coderEndpoint) awaitClose() (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		_, _, err := e.c.Read(ctx)
		var ce coderws.CloseError
		switch {
		case errors.As(err, &ce):
			return int(ce.Code), ce.Reason, nil
		case err != nil:
			return 0, "", err
		}
	}
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

func dialGobwas(ctx context.Context, url string) (endpoint, error) {
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

func (e *gobwasEndpoint) awaitClose() (int, string, error) {
	e.conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		_, _, err := wsutil.ReadData(e.rw, e.state)
		var ce wsutil.ClosedError
		switch {
		case errors.As(err, &ce):
			return int(ce.Code), ce.Reason, nil
		case err != nil:
			return 0, "", err
		}
	}
}

func (e *gobwasEndpoint) drop() { e.conn.Close() }

// --- servers ---------------------------------------------------------------

// server accepts WebSocket connections with one library on 127.0.0.1 and
// hands each endpoint to the test. The handler stays in place until the
// test is done with the endpoint, since some libraries tie the connection to
// it.
type server struct {
	*httptest.Server
	accepted chan endpoint
	release  chan struct{}
}

func startServer(t testing.TB, accept func(http.ResponseWriter, *http.Request) (endpoint, error)) *server {
	s := &server{accepted: make(chan endpoint), release: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep, err := accept(w, r)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
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
	}))
	t.Cleanup(func() {
		close(s.release)
		s.Close()
	})
	return s
}

func (s *server) wsURL() string {
	return "ws" + strings.TrimPrefix(s.URL, "http")
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
	clientEnd, err = client.dial(ctx, s.wsURL())
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

// rawConn is a client connection on which the test writes frames byte by
// byte, including frames no library would send.
type rawConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(ctx context.Context, url string) (*rawConn, error) {
	conn, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	var r io.Reader = conn
	if br != nil {
		r = io.MultiReader(br, conn) // what the handshake read ahead comes first
	}
	return &rawConn{conn, bufio.NewReader(r)}, nil
}

// writeClose writes a masked Close frame carrying payload as it is, even a
// payload that breaks the rules.
func (c *rawConn) writeClose(payload []byte) error {
	f := ws.MaskFrameInPlace(ws.NewCloseFrame(append([]byte(nil), payload...)))
	c.conn.SetWriteDeadline(time.Now().Add(timeout))
	return ws.WriteFrame(c.conn, f)
}

// readReply reads frames until a Close frame arrives and returns its body,
// or an error when the connection ended without one.
func (c *rawConn) readReply() ([]byte, error) {
	c.conn.SetReadDeadline(time.Now().Add(timeout))
	return nextClose(c.r)
}

// maxFrame bounds what the tests read of any one frame.
const maxFrame = 1 << 16

// nextClose reads frames from r until a Close frame and returns its body,
// unmasked.
func nextClose(r io.Reader) ([]byte, error) {
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			return nil, err
		}
		if h.Length > maxFrame {
			return nil, errors.New("frame too large for the test")
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(r, payload); err != nil {
			return nil, err
		}
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		if h.OpCode == ws.OpClose {
			return payload, nil
		}
	}
}
