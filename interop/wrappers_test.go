package interop

//lint:file-ignore SA1019 nhooyr.io/websocket is deprecated, and it is what this file tests

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	fiberws "github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/olahol/melody"
	nhooyr "nhooyr.io/websocket"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/rawserver"
	"github.com/wsreasons/reasons/internal/wsframe"
	"github.com/wsreasons/reasons/probe"
)

// TestFromErrorOtherStacks holds FromError to the errors of stacks beyond
// the five, over real connections: nhooyr.io/websocket (coder's former
// import path, with its own CloseError type), and two wrappers whose errors
// are their base library's: olahol/melody (gorilla) and gofiber's
// contrib/websocket (fasthttp/websocket).
func TestFromErrorOtherStacks(t *testing.T) {
	t.Parallel()
	t.Run("nhooyr", func(t *testing.T) {
		for _, tc := range []struct {
			serve func(net.Conn, *bufio.Reader)
			r     reasons.Reason
			text  string
		}{
			{func(conn net.Conn, br *bufio.Reader) {
				conn.Write(wsframe.Append(nil, wsframe.OpClose, []byte("\x0f\xa1bye"), nil))
				rawserver.AwaitClose(br)
			}, 4001, "bye"},
			{func(net.Conn, *bufio.Reader) {}, reasons.AbnormalClose, ""}, // TCP cut
		} {
			url := rawserver.Start(t, false, tc.serve)
			c, _, err := nhooyr.Dial(context.Background(), url, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			_, _, err = c.Read(ctx)
			cancel()
			c.CloseNow()
			if r, text, ok := reasons.FromError(err); r != tc.r || text != tc.text || !ok {
				t.Errorf("nhooyr read error %T %v: FromError %d %q %v, want %d %q", err, err, r, text, ok, tc.r, tc.text)
			}
		}
	})

	// sendClose dials url with the raw client and sends a Close frame.
	sendClose := func(t *testing.T, url string, body string) {
		c, err := probe.Dial(context.Background(), url, probe.DialOptions{Timeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.WriteClose([]byte(body))
		c.ReadReply()
	}
	await := func(t *testing.T, errs <-chan error) error {
		select {
		case err := <-errs:
			return err
		case <-time.After(timeout):
			t.Fatal("the server reported no error")
			return nil
		}
	}

	t.Run("melody", func(t *testing.T) {
		m := melody.New()
		errs := make(chan error, 1)
		m.HandleError(func(_ *melody.Session, err error) { errs <- err })
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.HandleRequest(w, r) }))
		defer srv.Close()
		defer m.Close()
		sendClose(t, "ws"+strings.TrimPrefix(srv.URL, "http"), "\x03\xe9bye")
		err := await(t, errs)
		if r, text, ok := reasons.FromError(err); r != reasons.GoingAway || text != "bye" || !ok {
			t.Errorf("melody's HandleError got %T %v: FromError %d %q %v, want 1001 \"bye\"", err, err, r, text, ok)
		}
	})

	t.Run("fiber", func(t *testing.T) {
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		errs := make(chan error, 1)
		app.Get("/ws", fiberws.New(func(c *fiberws.Conn) {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					errs <- err
					return
				}
			}
		}))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go app.Listener(ln)
		defer app.Shutdown()
		sendClose(t, "ws://"+ln.Addr().String()+"/ws", "\x03\xf0policy")
		err = await(t, errs)
		if r, text, ok := reasons.FromError(err); r != reasons.PolicyViolation || text != "policy" || !ok {
			t.Errorf("fiber's websocket read got %T %v: FromError %d %q %v, want 1008 \"policy\"", err, err, r, text, ok)
		}
	})
}
