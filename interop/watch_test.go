package interop

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/probe"
)

// The watch each path gets: Pings and messages every 500 ms, well inside
// every configured idle timeout, for 6 s, three times the timeout.
const (
	pathInterval = 500 * time.Millisecond
	pathWatch    = 6 * time.Second
	stopAt       = time.Second // when the Go server is stopped in the stop rows
)

// pathRow is one row of the table of paths: what a watch saw through one
// intermediary, or of a Go server stopped during the watch.
type pathRow struct {
	name, setting string
	rep           *probe.WatchReport
}

// TestWatchPaths runs probe.Watch, as `wsreason watch` runs it, through
// nginx, haproxy, apache2 and caddy from Debian, each configured by the
// test with an idle timeout of 2 s where it has one, in front of a Go echo
// server; and against a Go server stopped 1 s into the watch, without and
// with drain.Group. The table in README.md says what each lane saw; its
// words are compared on every run, its times are measured anew.
func TestWatchPaths(t *testing.T) {
	t.Parallel()
	rows := make([]pathRow, len(proxies)+2)
	t.Run("paths", func(t *testing.T) {
		for i, p := range proxies {
			t.Run(p.name, func(t *testing.T) {
				t.Parallel()
				addr := startProxy(t, p, startEcho(t))
				rep := watchFor(t, "ws://"+addr+"/", pathWatch, nil)
				rows[i] = pathRow{p.name, "`" + p.setting + "`", rep}
				if p.cuts {
					checkIdleCut(t, rep)
				} else if idle := rep.Lanes[0]; idle.Ended > 0 {
					t.Errorf("idle lane: %s; %s was not seen to cut idle WebSockets before", idle.Words, p.name)
				}
			})
		}
		for j, withDrain := range []bool{false, true} {
			name := "Go server (gorilla), stopped 1 s into the watch"
			setting := "`http.Server.Shutdown`, then exit"
			if withDrain {
				setting = "`http.Server.Shutdown`, then `drain.Group` (1012 \"deploy\")"
			}
			t.Run(setting, func(t *testing.T) {
				t.Parallel()
				url, deploy := deployStacks[0].start(t, deployPlan{drain: withDrain, code: reasons.ServiceRestart})
				rep := watchFor(t, url, 3*time.Second, deploy)
				rows[len(proxies)+j] = pathRow{name, setting, rep}
				checkStopped(t, rep, withDrain)
			})
		}
	})
	if t.Failed() || t.Skipped() {
		return
	}
	for _, r := range rows {
		if r.rep == nil {
			return // a proxy was missing and its test skipped
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| path to the Go server | its idle setting | idle lane | idle lane lived | Ping every %v | message every %v |\n|---|---|---|---|---|---|\n", pathInterval, pathInterval)
	for _, r := range rows {
		setting := r.setting
		if setting == "``" {
			setting = "none in 2.6"
		}
		lived := "–"
		if idle := r.rep.Lanes[0]; idle.Ended > 0 {
			lived = fmt.Sprintf("%.1f s to %.1f s", idle.Low.Seconds(), idle.High.Seconds())
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.name, setting, laneCell(r.rep, probe.LaneIdle), lived,
			laneCell(r.rep, probe.LanePing), laneCell(r.rep, probe.LaneData))
	}
	checkSectionMeasured(t, "README.md", "paths", b.String(), 4)
}

// watchFor watches url for d with Pings and messages every pathInterval;
// with stop set, it calls stop stopAt into the watch.
func watchFor(t *testing.T, url string, d time.Duration, stop func(context.Context) error) *probe.WatchReport {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if stop != nil {
		timer := time.AfterFunc(stopAt, func() {
			sctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			if err := stop(sctx); err != nil {
				t.Errorf("stopping the server: %v", err)
			}
		})
		defer timer.Stop()
	}
	rep, err := probe.Watch(ctx, url, probe.WatchOptions{Ping: pathInterval, Send: pathInterval})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range rep.Lanes {
		t.Log(l.Words)
	}
	return rep
}

// laneCell is what the lane's connections did, in the table's words: the
// ends of its connections, counted, or "open at the end".
func laneCell(rep *probe.WatchReport, lane probe.Lane) string {
	counts := map[string]int{}
	var order []string
	for _, e := range rep.Events {
		if e.Lane != lane {
			continue
		}
		var what string
		switch e.How {
		case probe.EndOpen:
			what = "open at the end"
		case probe.EndStopped:
			what = "open at the end, the watch's Close unanswered"
		case probe.EndClose:
			what = fmt.Sprintf("closed with %d", uint16(e.Sees))
			if t := e.Got.Text(); t != "" {
				what += fmt.Sprintf(" %q", t)
			}
		default:
			what = "cut: no Close frame (the client sees 1006)"
		}
		if counts[what] == 0 {
			order = append(order, what)
		}
		counts[what]++
	}
	var parts []string
	for _, w := range order {
		parts = append(parts, fmt.Sprintf("%d × %s", counts[w], w))
	}
	return strings.Join(parts, ", ")
}

// checkIdleCut checks that every idle connection was cut with no Close
// frame within 0.5 s of the configured timeout, and that nothing was
// judged wrong.
func checkIdleCut(t *testing.T, rep *probe.WatchReport) {
	idle := rep.Lanes[0]
	if !idle.Same || idle.Ended != idle.Conns || idle.Low < proxyIdle-500*time.Millisecond || idle.High > proxyIdle+500*time.Millisecond {
		t.Errorf("idle lane: %+v; want every connection cut within 0.5 s of %v", idle, proxyIdle)
	}
	for _, e := range rep.Events {
		if e.Lane == probe.LaneIdle && e.How != probe.EndDrop && e.How != probe.EndReset {
			t.Errorf("idle #%d ended %s, want with no Close frame", e.Conn, e.How)
		}
	}
	if rep.Wrong() > 0 {
		t.Errorf("%d events wrong", rep.Wrong())
	}
}

// checkStopped checks that every lane of a server stopped during the watch
// ended at the stop: with no Close frame without a drain, with 1012
// "deploy" with one.
func checkStopped(t *testing.T, rep *probe.WatchReport, withDrain bool) {
	if len(rep.Events) != 3*probe.DefaultWatchConns {
		t.Errorf("%d events, want one per connection", len(rep.Events))
	}
	for _, e := range rep.Events {
		dropped := e.How == probe.EndDrop || e.How == probe.EndReset
		switch {
		case e.Elapsed < stopAt:
			t.Errorf("%s #%d ended %v into the watch, before the stop", e.Lane, e.Conn, e.Elapsed)
		case !withDrain && !dropped:
			t.Errorf("%s #%d ended %s %q, want with no Close frame", e.Lane, e.Conn, e.How, e.Got.Body)
		case withDrain && (e.How != probe.EndClose || e.Sees != reasons.ServiceRestart || e.Got.Text() != "deploy" || e.Verdict != probe.OK):
			t.Errorf("%s #%d ended %s %q %s, want with 1012 \"deploy\", ok", e.Lane, e.Conn, e.How, e.Got.Body, e.Verdict)
		}
	}
}
