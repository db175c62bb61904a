package interop

import (
	"context"
	"strings"
	"testing"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/reasonstest"
)

// TestCheckShutdown: on each stack, CheckShutdown fails a server stopped
// by the stack's own shutdown and the process's exit (its clients see
// 1006) and one drained with 1000, and passes the same server drained with
// 1012.
func TestCheckShutdown(t *testing.T) {
	t.Parallel()
	for _, st := range deployStacks {
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
			t.Run(st.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				url, deploy := st.start(t, deployPlan{drain: c.drain, code: c.code})
				checkShutdownCase(t, url, deploy, c.want)
			})
		}
	}
}

// checkShutdownCase runs CheckShutdown on the server at url and checks
// that it reports one error starting with want, or none when want is "",
// and then that every client got "deploy".
func checkShutdownCase(t *testing.T, url string, shutdown func(context.Context) error, want string) {
	rec := &failRecorder{TB: t}
	rep := reasonstest.CheckShutdown(rec, url, shutdown)
	switch {
	case want == "" && len(rec.errors) > 0:
		t.Errorf("errors %q, want none", rec.errors)
	case want != "" && (len(rec.errors) != 1 || !strings.HasPrefix(rec.errors[0], want)):
		t.Errorf("errors %q, want one starting %q", rec.errors, want)
	}
	if want == "" {
		for _, e := range rep.Ends {
			if e.Got.Text() != "deploy" {
				t.Errorf("a client got %s %q, want 1012 \"deploy\"", e.Got, e.Got.Text())
			}
		}
	}
}
