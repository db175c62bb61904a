package interop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	gorillaws "github.com/gorilla/websocket"
	nbws "github.com/lesismal/nbio/nbhttp/websocket"

	"github.com/wsreasons/reasons"
)

// TestReadAfterLocalClose: what FromError says of a read after this side
// closed the connection itself, with 1000 and the peer's echo. No stack
// may make it a lost connection (1006), which the README's handler would
// answer by reconnecting: gorilla and fasthttp repeat the peer's echo
// (1000); coder returns net.ErrClosed, gws its own "close normal" error
// and gobwas, whose echo was read already, a timeout: no close (ok false).
func TestReadAfterLocalClose(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		r  reasons.Reason
		ok bool
	}{
		"gorilla": {reasons.Normal, true}, "fasthttp": {reasons.Normal, true},
		"coder": {0, false}, "gobwas": {0, false}, "gws": {0, false},
	}
	reference := startServer(t, library{name: "reasons", accept: acceptReference})
	for _, lib := range libraries {
		t.Run(lib.name, func(t *testing.T) {
			ep, err := lib.dial(context.Background(), reference.url)
			if err != nil {
				t.Fatal(err)
			}
			defer ep.drop()
			go func() {
				if peer, err := reference.next(); err == nil {
					peer.awaitClose()
				}
			}()
			if err := ep.closeWith(reasons.Normal, "bye"); err != nil {
				t.Fatalf("close: %v", err)
			}
			readErr := ep.readErr(200 * time.Millisecond)
			r, _, ok := reasons.FromError(readErr)
			w, listed := want[lib.name]
			if !listed || r != w.r || ok != w.ok {
				t.Errorf("read after a local close returned %T %v: FromError %d %v, want %d %v", readErr, readErr, r, ok, w.r, w.ok)
			}
		})
	}
}

// TestFromErrorRealTypes holds FromError to the real close error types of
// libraries the other tests do not connect with, and to the joins of the
// real errors with a cancel.
func TestFromErrorRealTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		r    reasons.Reason
		text string
		ok   bool
	}{
		{"nbio pointer", &nbws.CloseError{Code: 1001, Reason: "going"}, reasons.GoingAway, "going", true},
		{"nbio value", nbws.CloseError{Code: 4001, Reason: "x"}, 4001, "x", true},
		{"nbio wrapped", fmt.Errorf("read: %w", &nbws.CloseError{Code: 1013}), reasons.TryAgainLater, "", true},
		// The same answer whether the close error is gorilla's made-up 1006
		// or coder's EOF: this side stopped waiting.
		{"gorilla's made-up 1006 and a cancel", errors.Join(&gorillaws.CloseError{Code: 1006, Text: "unexpected EOF"}, context.Canceled), 0, "", false},
		{"coder's EOF and a cancel", errors.Join(fmt.Errorf("failed to get reader: %w", io.EOF), context.Canceled), 0, "", false},
		{"gorilla's 1001 and a cancel", errors.Join(&gorillaws.CloseError{Code: 1001, Text: "bye"}, context.Canceled), reasons.GoingAway, "bye", true},
	}
	for _, tc := range tests {
		r, text, ok := reasons.FromError(tc.err)
		if r != tc.r || text != tc.text || ok != tc.ok {
			t.Errorf("%s: FromError = %d %q %v, want %d %q %v", tc.name, r, text, ok, tc.r, tc.text, tc.ok)
		}
	}
}
