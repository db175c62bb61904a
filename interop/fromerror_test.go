package interop

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/probe"
)

// fromErrorText is the reason text of every Close frame in TestFromError.
const fromErrorText = "κόσμε 🙂 ünïcödé"

// rawPeer is the far end of a connection in TestFromError: our own frames,
// with no library in the way.
type rawPeer interface {
	writeClose(body []byte) error
	drop()
}

// rawClient is the probe's raw client as a rawPeer.
type rawClient struct{ *probe.Conn }

func (c rawClient) writeClose(body []byte) error { return c.WriteClose(body) }
func (c rawClient) drop()                        { c.Close() }

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
	kind string         // its column in the README's table
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
			d: timeout, r: r, text: fromErrorText, ok: true, code: r, kind: "Close frame with a valid code",
		})
	}
	return append(cases,
		fromErrorCase{name: "empty_body", end: func(p rawPeer) error { return p.writeClose(nil) },
			d: timeout, r: reasons.NoStatus, ok: true, kind: "empty Close frame"},
		fromErrorCase{name: "TCP_cut", end: func(p rawPeer) error { p.drop(); return nil },
			d: timeout, r: reasons.AbnormalClose, ok: true, kind: "TCP cut"},
		fromErrorCase{name: "read_deadline", end: func(rawPeer) error { return nil },
			d: 100 * time.Millisecond, ok: false, kind: "read deadline"},
	)
}

// refusedKind is the README column of a valid code the library refuses.
const refusedKind = "Close frame with a code it refuses"

// TestFromError ends connections to each library, as server and as client,
// in every way fromErrorCases lists, and checks what reasons.FromError makes
// of the error the library's read returned: against what was sent, and
// against what the library's own API reads out of the same error. It writes
// the types of those errors to the README.
func TestFromError(t *testing.T) {
	t.Parallel()
	reference := startServer(t, library{name: "reasons", accept: acceptReference})
	seen := map[string]map[string][]string{} // library, kind: error chains
	for _, lib := range libraries {
		seen[lib.name] = map[string][]string{}
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
					chain := checkFromError(t, lib.name, c, libEnd, peer)
					libEnd.drop()
					peer.drop()
					kind := c.kind
					if slices.Contains(refusedOnReceipt[lib.name], c.code) {
						kind = refusedKind
					}
					if !slices.Contains(seen[lib.name][kind], chain) {
						seen[lib.name][kind] = append(seen[lib.name][kind], chain)
					}
				}
			})
		}
	}
	if t.Failed() {
		return
	}
	kinds := []string{"Close frame with a valid code", refusedKind, "empty Close frame", "TCP cut", "read deadline"}
	var b strings.Builder
	b.WriteString("| library | " + strings.Join(kinds, " | ") + " |\n|---|" + strings.Repeat("---|", len(kinds)) + "\n")
	for _, lib := range libraries {
		b.WriteString("| " + lib.name + " |")
		for _, k := range kinds {
			chains := seen[lib.name][k]
			if chains == nil {
				chains = []string{"(refuses none)"}
			}
			b.WriteString(" " + strings.Join(chains, " or ") + " |")
		}
		b.WriteString("\n")
	}
	checkReadmeSection(t, "fromerror", b.String())
}

// checkFromError ends the connection as c says and checks FromError on the
// library's error; it returns the types in that error's chain.
func checkFromError(t *testing.T, lib string, c fromErrorCase, libEnd libraryEndpoint, peer rawPeer) string {
	t.Helper()
	if err := c.end(peer); err != nil {
		t.Errorf("%s: ending the connection: %v", c.name, err)
		return ""
	}
	libErr := libEnd.readErr(c.d)
	r, text, ok := reasons.FromError(libErr)
	chain := chainTypes(libErr)

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
		return chain
	}
	if r != c.r || text != c.text || ok != c.ok {
		t.Errorf("%s: FromError(%v) = %d %q %v, want %d %q %v", c.name, libErr, r, text, ok, c.r, c.text, c.ok)
	}
	return chain
}

// libraryAsServer opens a connection from a raw client to srv.
func libraryAsServer(srv *server) (libraryEndpoint, rawPeer, error) {
	c, err := probe.Dial(context.Background(), srv.url, probe.DialOptions{Timeout: timeout})
	if err != nil {
		return nil, nil, err
	}
	ep, err := srv.next()
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return ep.(libraryEndpoint), rawClient{c}, nil
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

// sentinels names the standard library's sentinel errors.
var sentinels = map[error]string{
	io.EOF: "io.EOF", io.ErrUnexpectedEOF: "io.ErrUnexpectedEOF", net.ErrClosed: "net.ErrClosed",
	os.ErrDeadlineExceeded: "os.ErrDeadlineExceeded", context.DeadlineExceeded: "context.DeadlineExceeded",
	context.Canceled: "context.Canceled",
}

// chainTypes describes err's chain by the types in it, outermost first, and
// names the standard library's sentinel errors.
func chainTypes(err error) string {
	var types []string
	for err != nil {
		name, sentinel := sentinels[err]
		if !sentinel {
			name = fmt.Sprintf("%T", err)
		}
		types = append(types, "`"+name+"`")
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
