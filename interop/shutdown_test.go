package interop

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	gorillaws "github.com/gorilla/websocket"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/drain"
	"github.com/wsreasons/reasons/reasonstest"
)

// gorillaShutdown runs a server on gorilla/websocket that reads each
// connection until it ends; with drain set, the handler registers the
// README's CloseFunc with a drain.Group. It returns the URL and the
// shutdown a deploy would run: the http.Server's Shutdown, then, with a
// group, the group's with code.
func gorillaShutdown(t *testing.T, withDrain bool, code reasons.Reason) (string, func(context.Context) error) {
	var g drain.Group
	var mu sync.Mutex
	var open []*gorillaws.Conn // for the baseline's exit
	upgrader := gorillaws.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		mu.Lock()
		open = append(open, conn)
		mu.Unlock()
		if withDrain {
			done := g.Add(func(r reasons.Reason, text string) error {
				b, _ := reasons.Format(r, text)
				return conn.WriteControl(gorillaws.CloseMessage, b, time.Now().Add(time.Second))
			})
			defer done()
		}
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), func(ctx context.Context) error {
		if err := srv.Config.Shutdown(ctx); err != nil {
			return err
		}
		if !withDrain {
			// Shutdown left the hijacked connections open (httptest's
			// CloseClientConnections would too); the process exits next,
			// and the kernel closes each with no Close frame.
			mu.Lock()
			defer mu.Unlock()
			for _, c := range open {
				c.NetConn().Close()
			}
			return nil
		}
		return g.Shutdown(ctx, code, "deploy")
	}
}

// TestCheckShutdownGorilla: CheckShutdown fails a gorilla server stopped
// with http.Server.Shutdown alone (its clients see 1006) and one drained
// with 1000, and passes the same server drained with 1012.
func TestCheckShutdownGorilla(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		drain bool
		code  reasons.Reason
		want  string // the start of the one error, or "" for none
	}{
		{"baseline", false, 0, "no_Close_frame: wrong: 16 of 16 connections: TCP closed with no Close frame (the client sees 1006)"},
		{"drain 1000", true, reasons.Normal, "1000_Normal: wrong: 16 of 16 connections: got Close 1000"},
		{"drain 1012", true, reasons.ServiceRestart, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			url, shutdown := gorillaShutdown(t, c.drain, c.code)
			rec := &failRecorder{TB: t}
			rep := reasonstest.CheckShutdown(rec, url, shutdown)
			switch {
			case c.want == "" && len(rec.errors) > 0:
				t.Errorf("errors %q, want none", rec.errors)
			case c.want != "" && (len(rec.errors) != 1 || !strings.HasPrefix(rec.errors[0], c.want)):
				t.Errorf("errors %q, want one starting %q", rec.errors, c.want)
			}
			if c.want == "" {
				for _, e := range rep.Ends {
					if e.Got.Text() != "deploy" {
						t.Errorf("a client got %s %q, want 1012 \"deploy\"", e.Got, e.Got.Text())
					}
				}
			}
		})
	}
}
