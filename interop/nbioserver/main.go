// Command nbioserver is a WebSocket server on nbio's nbhttp engine, written
// as nbio's users write one, that the interop deploy tests stop. It runs in
// a process of its own because nbio's listener and poller hand connections
// to each other in a way the race detector cannot see (the tests run with
// -race), and because a deploy ends a process: this one exits.
//
// It listens on 127.0.0.1, prints "url ws://HOST:PORT", and on SIGTERM
// stops. Without -drain it calls Engine.Shutdown, which closes every
// connection with no Close frame. With -drain it first ends them through a
// drain.Group with -code and the text "deploy", spread over -spread. It
// prints "stopped in DURATION: ERROR" and exits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	nbws "github.com/lesismal/nbio/nbhttp/websocket"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/drain"
)

func main() {
	withDrain := flag.Bool("drain", false, "end connections through a drain.Group before Engine.Shutdown")
	code := flag.Int("code", int(reasons.ServiceRestart), "the code the drain sends")
	spread := flag.Duration("spread", 0, "the drain's Spread")
	timeout := flag.Duration("timeout", 10*time.Second, "bounds the stop")
	flag.Parse()
	if err := run(*withDrain, reasons.Reason(*code), *spread, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "nbioserver:", err)
		os.Exit(1)
	}
}

func run(withDrain bool, code reasons.Reason, spread, timeout time.Duration) error {
	logging.SetLevel(logging.LevelNone)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	g := &drain.Group{Spread: spread}
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
			defer g.Hold()() // until the connection is added
			c, err := u.Upgrade(w, r, nil)
			if err != nil || !withDrain {
				return
			}
			c.SetSession(g.Add(func(r reasons.Reason, text string) error {
				return c.WriteClose(int(r), text)
			}))
		}),
	})
	if err := engine.Start(); err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	fmt.Printf("url ws://%s\n", ln.Addr())
	<-stop

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if withDrain {
		// Engine.Shutdown closes connections, so the drain goes first.
		err = g.Shutdown(ctx, code, "deploy")
	}
	err = errors.Join(err, engine.Shutdown(ctx))
	fmt.Printf("stopped in %v: %v\n", time.Since(start), err)
	return nil
}
