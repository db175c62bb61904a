package closehandler_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	coderws "github.com/coder/websocket"
	fastws "github.com/fasthttp/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorillaws "github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/interop/examples/closehandler"
)

// closingServer serves /close/CODE, which closes the connection with CODE
// and the text "bye", and /drop, which drops it without a Close frame.
func closingServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&gorillaws.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/close/"))
		if err != nil { // /drop
			return
		}
		rc, err := reasons.Get(code)
		if err != nil {
			return
		}
		body, err := reasons.Format(rc, "bye")
		if err != nil {
			return
		}
		c.WriteControl(gorillaws.CloseMessage, body, time.Now().Add(time.Second))
		c.SetReadDeadline(time.Now().Add(time.Second))
		c.ReadMessage() // wait for the client's reply
	}))
}

var paths = []string{"/close/1000", "/close/1001", "/close/1013", "/close/1008", "/close/3000", "/close/4001", "/drop"}

// each connects to every path with dial, hands the error of the read to
// closehandler.Decide and prints what it decided.
func each(dial func(ctx context.Context, url string) (readErr func() error, closeNow func(), err error)) {
	srv := closingServer()
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	for _, path := range paths {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		readErr, closeNow, err := dial(ctx, url+path)
		if err != nil {
			fmt.Println(err)
			cancel()
			continue
		}
		action, why := closehandler.Decide(readErr())
		closeNow()
		cancel()
		fmt.Printf("%-12s %-23v %s\n", path, action, why)
	}
}

// readUntilError reads from a gorilla/websocket or fasthttp/websocket
// connection (fasthttp's is a fork of gorilla's API) until its read fails,
// and returns that error: what the close handler gets.
func readUntilError(c interface {
	SetReadDeadline(time.Time) error
	ReadMessage() (int, []byte, error)
}) error {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return err
		}
	}
}

func Example_gorilla() {
	each(func(ctx context.Context, url string) (func() error, func(), error) {
		c, _, err := gorillaws.DefaultDialer.DialContext(ctx, url, nil)
		if err != nil {
			return nil, nil, err
		}
		return func() error { return readUntilError(c) }, func() { c.Close() }, nil
	})
	// Output:
	// /close/1000  done                    Normal
	// /close/1001  reconnect with back-off GoingAway
	// /close/1013  try another server      TryAgainLater
	// /close/1008  give up                 PolicyViolation "bye"
	// /close/3000  give up                 Unauthorized "bye"
	// /close/4001  give up                 application code 4001 "bye"
	// /drop        reconnect with back-off AbnormalClose
}

func Example_coder() {
	each(func(ctx context.Context, url string) (func() error, func(), error) {
		c, _, err := coderws.Dial(ctx, url, nil)
		if err != nil {
			return nil, nil, err
		}
		return func() error {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return err
				}
			}
		}, func() { c.CloseNow() }, nil
	})
	// Output:
	// /close/1000  done                    Normal
	// /close/1001  reconnect with back-off GoingAway
	// /close/1013  try another server      TryAgainLater
	// /close/1008  give up                 PolicyViolation "bye"
	// /close/3000  give up                 Unauthorized "bye"
	// /close/4001  give up                 application code 4001 "bye"
	// /drop        reconnect with back-off AbnormalClose
}

// gobwas refuses 1012-1014 (see interop/README.md): its read returns a
// protocol error instead of the code, which is no close for FromError.
func Example_gobwas() {
	each(func(ctx context.Context, url string) (func() error, func(), error) {
		conn, br, _, err := ws.Dial(ctx, url)
		if err != nil {
			return nil, nil, err
		}
		var r io.Reader = conn
		if br != nil {
			r = io.MultiReader(br, conn)
		}
		rw := struct {
			io.Reader
			io.Writer
		}{r, conn}
		return func() error {
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				if _, err := wsutil.ReadServerText(rw); err != nil {
					return err
				}
			}
		}, func() { conn.Close() }, nil
	})
	// Output:
	// /close/1000  done                    Normal
	// /close/1001  reconnect with back-off GoingAway
	// /close/1013  give up                 no close: status code is not defined in spec
	// /close/1008  give up                 PolicyViolation "bye"
	// /close/3000  give up                 Unauthorized "bye"
	// /close/4001  give up                 application code 4001 "bye"
	// /drop        reconnect with back-off AbnormalClose
}

// gwsClose hands OnClose's error to the example.
type gwsClose struct {
	gws.BuiltinEventHandler
	err chan error
}

func (h gwsClose) OnClose(_ *gws.Conn, err error) { h.err <- err }

// On gws the error comes to the OnClose callback of the read loop.
func Example_gws() {
	each(func(ctx context.Context, url string) (func() error, func(), error) {
		h := gwsClose{err: make(chan error, 1)}
		c, _, err := gws.NewClient(h, &gws.ClientOption{Addr: url})
		if err != nil {
			return nil, nil, err
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		go c.ReadLoop()
		return func() error { return <-h.err }, func() { c.NetConn().Close() }, nil
	})
	// Output:
	// /close/1000  done                    Normal
	// /close/1001  reconnect with back-off GoingAway
	// /close/1013  try another server      TryAgainLater
	// /close/1008  give up                 PolicyViolation "bye"
	// /close/3000  give up                 Unauthorized "bye"
	// /close/4001  give up                 application code 4001 "bye"
	// /drop        reconnect with back-off AbnormalClose
}

func Example_fasthttp() {
	each(func(ctx context.Context, url string) (func() error, func(), error) {
		c, _, err := fastws.DefaultDialer.DialContext(ctx, url, nil)
		if err != nil {
			return nil, nil, err
		}
		return func() error { return readUntilError(c) }, func() { c.Close() }, nil
	})
	// Output:
	// /close/1000  done                    Normal
	// /close/1001  reconnect with back-off GoingAway
	// /close/1013  try another server      TryAgainLater
	// /close/1008  give up                 PolicyViolation "bye"
	// /close/3000  give up                 Unauthorized "bye"
	// /close/4001  give up                 application code 4001 "bye"
	// /drop        reconnect with back-off AbnormalClose
}
