package reasonstest_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/drain"
	"github.com/wsreasons/reasons/internal/rawserver"
	"github.com/wsreasons/reasons/internal/wsframe"
	"github.com/wsreasons/reasons/reasonstest"
)

// drainedServer is a server whose handlers, held by a drain.Group, register
// with it, and whose shutdown is the http.Server's, then the group's.
func drainedServer(t *testing.T) (url string, shutdown func(context.Context) error) {
	var g drain.Group
	srv := httptest.NewServer(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, br, err := wsframe.Upgrade(w, r)
		if err != nil {
			return
		}
		defer conn.Close()
		done := g.Add(func(r reasons.Reason, text string) error {
			body, err := reasons.Format(r, text)
			if err != nil {
				return err
			}
			_, err = conn.Write(wsframe.Append(nil, wsframe.OpClose, body, nil))
			return err
		})
		defer done()
		conn.SetDeadline(time.Now().Add(rawserver.Lifetime))
		rawserver.AwaitClose(br)
	})))
	t.Cleanup(srv.Close)
	return rawserver.URL(srv), func(ctx context.Context) error {
		if err := srv.Config.Shutdown(ctx); err != nil {
			return err
		}
		return g.Shutdown(ctx, reasons.ServiceRestart, "deploy")
	}
}

func TestCheckShutdown(t *testing.T) {
	t.Run("drained", func(t *testing.T) {
		url, shutdown := drainedServer(t)
		rec := &recorder{TB: t}
		rep := reasonstest.CheckShutdown(rec, url, shutdown, reasonstest.Conns(5))
		if len(rec.errors) != 0 || len(rep.Ends) != 5 {
			t.Errorf("%d ends, errors %q", len(rep.Ends), rec.errors)
		}
		if len(rec.logs) != 1 || !strings.HasPrefix(rec.logs[0], `1012_ServiceRestart: ok: 5 of 5 connections: got Close 1012 "deploy"`) {
			t.Errorf("logs %q", rec.logs)
		}
	})
	for _, c := range []struct {
		name   string
		onStop func(net.Conn, *bufio.Reader)
		want   string
	}{
		{"baseline", func(net.Conn, *bufio.Reader) {}, "no_Close_frame: wrong: 16 of 16 connections: TCP closed with no Close frame (the client sees 1006)"},
		{"1000", func(conn net.Conn, br *bufio.Reader) {
			conn.Write(wsframe.Append(nil, wsframe.OpClose, []byte("\x03\xe8"), nil))
			rawserver.AwaitClose(br)
		}, "1000_Normal: wrong: 16 of 16 connections: got Close 1000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			url, stop := rawserver.Stopping(t, c.onStop)
			rec := &recorder{TB: t}
			reasonstest.CheckShutdown(rec, url, stop)
			if len(rec.errors) != 1 || !strings.HasPrefix(rec.errors[0], c.want) {
				t.Errorf("errors %q, want one starting %q", rec.errors, c.want)
			}
		})
	}
	t.Run("bad count and the function's error", func(t *testing.T) {
		url, stop := rawserver.Stopping(t, func(net.Conn, *bufio.Reader) {})
		rec := &recorder{TB: t}
		reasonstest.CheckShutdown(rec, url, stop, reasonstest.Conns(5000))
		if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "5000") {
			t.Errorf("Conns(5000): errors %q, want one naming 5000", rec.errors)
		}
		url, _ = drainedServer(t)
		rec = &recorder{TB: t}
		reasonstest.CheckShutdown(rec, url, func(context.Context) error { return context.Canceled }, reasonstest.Conns(1), reasonstest.Timeout(200*time.Millisecond))
		if len(rec.errors) != 2 || !strings.Contains(rec.errors[0], "shutdown returned an error") || !strings.HasPrefix(rec.errors[1], "still_open: wrong") {
			t.Errorf("errors %q, want the function's error and a connection still open", rec.errors)
		}
	})
}
