package interop

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
)

// fromErrorText is the reason text of every Close frame in TestFromError.
const fromErrorText = "κόσμε 🙂 ünïcödé"

// rawPeer is the far end of a connection in TestFromError: our own frames,
// with no library in the way.
type rawPeer interface {
	writeClose(body []byte) error
	drop()
}

// fromErrorCase is one way the peer ends the connection, and what FromError
// must make of the error the library's read returns.
type fromErrorCase struct {
	name string
	end  func(p rawPeer) error // ends the connection, or stays silent
	d    time.Duration         // how long the library reads
	r    reasons.Reason        // what FromError must return
	text string
	ok   bool
	code reasons.Reason // the code sent, for refusedOnReceipt; 0 when none
}

func fromErrorCases() []fromErrorCase {
	var cases []fromErrorCase
	for _, r := range reasons.Named() {
		if !r.Valid() {
			continue
		}
		cases = append(cases, fromErrorCase{
			name: fmt.Sprintf("%d_%v", r, r),
			end: func(p rawPeer) error {
				body, err := reasons.Format(r, fromErrorText)
				if err != nil {
					return err
				}
				return p.writeClose(body)
			},
			d: timeout, r: r, text: fromErrorText, ok: true, code: r,
		})
	}
	return append(cases,
		fromErrorCase{name: "empty_body", end: func(p rawPeer) error { return p.writeClose(nil) },
			d: timeout, r: reasons.NoStatus, ok: true},
		fromErrorCase{name: "TCP_cut", end: func(p rawPeer) error { p.drop(); return nil },
			d: timeout, r: reasons.AbnormalClose, ok: true},
		fromErrorCase{name: "read_deadline", end: func(rawPeer) error { return nil },
			d: 100 * time.Millisecond, ok: false},
	)
}

// TestFromError ends connections to each library, as server and as client,
// in every way fromErrorCases lists, and checks what reasons.FromError makes
// of the error the library's read returned: against what was sent, and
// against what the library's own API reads out of the same error.
func TestFromError(t *testing.T) {
	reference := startServer(t, library{name: "reasons", accept: acceptReference})
	for _, lib := range libraries {
		srv := startServer(t, lib)
		for _, role := range []string{"server", "client"} {
			t.Run(lib.name+"_"+role, func(t *testing.T) {
				for _, c := range fromErrorCases() {
					var libEnd libraryEndpoint
					var peer rawPeer
					var err error
					if role == "server" {
						libEnd, peer, err = libraryAsServer(srv)
					} else {
						libEnd, peer, err = libraryAsClient(lib, reference)
					}
					if err != nil {
						t.Fatalf("%s: %v", c.name, err)
					}
					checkFromError(t, lib.name, c, libEnd, peer)
					libEnd.drop()
					peer.drop()
				}
			})
		}
	}
}

func checkFromError(t *testing.T, lib string, c fromErrorCase, libEnd libraryEndpoint, peer rawPeer) {
	t.Helper()
	if err := c.end(peer); err != nil {
		t.Errorf("%s: ending the connection: %v", c.name, err)
		return
	}
	libErr := libEnd.readErr(c.d)
	r, text, ok := reasons.FromError(libErr)
	t.Logf("%s: %s returned %s", c.name, lib, chainTypes(libErr))

	// The library's own API, read the way an application on it would.
	code, libText, libOK := libEnd.closeOf(libErr)
	if libOK && code != int(r) && !(code == 0 && r == reasons.NoStatus) {
		t.Errorf("%s: FromError says %d, the library's own API %d (%v)", c.name, r, code, libErr)
	}
	if libOK && r != reasons.NoStatus && r != reasons.AbnormalClose && libText != text {
		t.Errorf("%s: FromError's text %q, the library's own API %q", c.name, text, libText)
	}

	if slices.Contains(refusedOnReceipt[lib], c.code) && c.code != 0 {
		// The library fails the connection instead of reporting the code.
		if libOK || (ok && r == c.code) {
			t.Errorf("%s: %s is listed as refusing %d, but FromError(%v) = %d %q %v, its own API %v",
				c.name, lib, c.code, libErr, r, text, ok, libOK)
		}
		return
	}
	if r != c.r || text != c.text || ok != c.ok {
		t.Errorf("%s: FromError(%v) = %d %q %v, want %d %q %v", c.name, libErr, r, text, ok, c.r, c.text, c.ok)
	}
}

// libraryAsServer opens a connection from a raw client to srv.
func libraryAsServer(srv *server) (libraryEndpoint, rawPeer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := dialRaw(ctx, srv.url)
	if err != nil {
		return nil, nil, err
	}
	ep, err := srv.next()
	if err != nil {
		c.drop()
		return nil, nil, err
	}
	return ep.(libraryEndpoint), c, nil
}

// libraryAsClient opens a connection from lib to our reference server.
func libraryAsClient(lib library, reference *server) (libraryEndpoint, rawPeer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := lib.dial(ctx, reference.url)
	if err != nil {
		return nil, nil, err
	}
	ep, err := reference.next()
	if err != nil {
		c.drop()
		return nil, nil, err
	}
	return c, ep.(*referenceEndpoint), nil
}

// chainTypes describes err's chain by the types in it, outermost first.
func chainTypes(err error) string {
	var types []string
	for err != nil {
		types = append(types, fmt.Sprintf("%T", err))
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			var inner []string
			for _, e := range x.Unwrap() {
				inner = append(inner, chainTypes(e))
			}
			types = append(types, "["+strings.Join(inner, ", ")+"]")
			err = nil
		default:
			err = nil
		}
	}
	if types == nil {
		return "nil"
	}
	return strings.Join(types, " > ")
}

