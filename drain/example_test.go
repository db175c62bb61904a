package drain_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/drain"
	"github.com/wsreasons/reasons/internal/wsframe"
	"github.com/wsreasons/reasons/probe"
)

// A server registers each WebSocket connection with a Group after the
// upgrade, with its handler wrapped by the Group's so that a connection
// upgraded just as the server stops is not missed, and on shutdown stops
// the http.Server first, then drains the group with the same deadline. The upgrade and the Close below stand for
// those of any stack; on gorilla/websocket the CloseFunc is a
// WriteControl of reasons.Format's body, on coder/websocket conn.Close.
func Example() {
	var g drain.Group
	g.Spread = 100 * time.Millisecond // optional: clients return in a trickle

	srv := &http.Server{Handler: g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, br, err := upgrade(w, r)
		if err != nil {
			return
		}
		defer conn.Close()
		done := g.Add(func(r reasons.Reason, text string) error {
			return writeClose(conn, r, text)
		})
		defer done()
		serve(conn, br) // until the connection ends
	}))}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)

	client, err := probe.Dial(context.Background(), "ws://"+ln.Addr().String(), probe.DialOptions{Timeout: 5 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	saw := make(chan probe.Reply)
	go func() {
		got := client.ReadReply()
		client.WriteClose(got.Body[:2]) // a client echoes the code
		saw <- got
	}()

	// On SIGTERM: stop taking connections, then end the WebSocket ones.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(ctx) // returns at once: it leaves hijacked connections alone
	err = g.Shutdown(ctx, reasons.ServiceRestart, "deploy")

	got := <-saw
	fmt.Printf("client saw %s %q\n", got, got.Text())
	fmt.Println("drained:", err, g.Stats())
	// Output:
	// client saw 1012 "deploy"
	// drained: <nil> {0 0 1 0 1}
}

// upgrade, writeClose and serve are a minimal WebSocket stack for the
// example.
func upgrade(w http.ResponseWriter, r *http.Request) (net.Conn, *bufio.Reader, error) {
	return wsframe.Upgrade(w, r)
}

func writeClose(conn net.Conn, r reasons.Reason, text string) error {
	body, err := reasons.Format(r, text)
	if err != nil {
		return err
	}
	_, err = conn.Write(wsframe.Append(nil, wsframe.OpClose, body, nil))
	return err
}

// serve reads the client's frames until its Close, or the end of the
// connection.
func serve(conn net.Conn, br *bufio.Reader) {
	for {
		h, _, err := wsframe.Read(br, 1<<16)
		if err != nil || h.Opcode == wsframe.OpClose {
			return
		}
	}
}
