package reasons

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

// The close error types of the libraries FromError knows live in packages
// this module cannot import. These stand-ins have the same shapes and are
// entered in closeErrorTypes under this package's path for the tests (see
// init below); the interop module checks the real types over real
// connections.

// ptrClose has gorilla's shape and, like it, implements error on the pointer.
type ptrClose struct {
	Code int
	Text string
}

func (e *ptrClose) Error() string { return fmt.Sprintf("close %d %s", e.Code, e.Text) }

// valClose has gobwas's shape, a uint16 code, and implements error on the
// value, like coder and gobwas.
type valClose struct {
	Code   uint16
	Reason string
}

func (e valClose) Error() string { return fmt.Sprintf("closed %d %s", e.Code, e.Reason) }

// bytesClose has gws's shape: the text is a []byte.
type bytesClose struct {
	Code   uint16
	Reason []byte
}

func (e *bytesClose) Error() string { return "gws-like close" }

// wrongText and wrongCode are entered in the table but have a field of the
// wrong type.
type wrongText struct {
	Code int
	Text int
}

func (e wrongText) Error() string { return "wrong text" }

type wrongCode struct {
	Code float64
	Text string
}

func (e wrongCode) Error() string { return "wrong code" }

// runesClose is entered in the table with a text field that is a slice,
// but of runes, not bytes: FromError's doc takes only string and []byte.
type runesClose struct {
	Code int
	Text []rune
}

func (e runesClose) Error() string { return "runes" }

// stranger has gorilla's shape but is not in the table.
type stranger struct {
	Code int
	Text string
}

func (e stranger) Error() string { return "stranger" }

// ownClose is a caller's type that implements CloseReasoner; its fields
// would give another answer by shape, so the test sees which one wins.
type ownClose struct {
	Code int
	Text string
}

func (e *ownClose) Error() string                     { return "own close" }
func (e *ownClose) CloseReason() (r Reason, t string) { return Reason(e.Code + 1), e.Text + "!" }

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func init() {
	for _, name := range []string{"ptrClose", "wrongText", "wrongCode", "ownClose", "runesClose"} {
		closeErrorTypes[[2]string{"github.com/wsreasons/reasons", name}] = [2]string{"Code", "Text"}
	}
	closeErrorTypes[[2]string{"github.com/wsreasons/reasons", "valClose"}] = [2]string{"Code", "Reason"}
	closeErrorTypes[[2]string{"github.com/wsreasons/reasons", "bytesClose"}] = [2]string{"Code", "Reason"}
}

func TestFromError(t *testing.T) {
	var nilPtr *ptrClose
	var nilOwn *ownClose
	readErr := &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
	tests := []struct {
		name string
		err  error
		r    Reason
		text string
		ok   bool
	}{
		{"nil", nil, 0, "", false},
		{"pointer", &ptrClose{1001, "bye"}, GoingAway, "bye", true},
		{"value", valClose{4000, "κόσμε"}, 4000, "κόσμε", true},
		{"pointer to a value-receiver type", &valClose{3000, "x"}, Unauthorized, "x", true},
		{"[]byte text", &bytesClose{1013, []byte("later")}, TryAgainLater, "later", true},
		{"wrapped with %w", fmt.Errorf("read: %w", &ptrClose{1008, "policy"}), PolicyViolation, "policy", true},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", valClose{1011, "oops"})), UnexpectedCondition, "oops", true},
		{"inside errors.Join", errors.Join(errors.New("other"), &ptrClose{4001, "j"}), 4001, "j", true},
		{"first of two in errors.Join", errors.Join(valClose{1000, "a"}, &ptrClose{1001, "b"}), Normal, "a", true},
		{"close error beats EOF", errors.Join(io.EOF, valClose{1000, "a"}), Normal, "a", true},
		{"close error beats a timeout", errors.Join(timeoutErr{}, valClose{1000, "a"}), Normal, "a", true},
		{"1005 has no text", &ptrClose{1005, "made up"}, NoStatus, "", true},
		{"1006 has no text", &ptrClose{1006, "unexpected EOF"}, AbnormalClose, "", true},
		{"code 0 is no status", &bytesClose{0, nil}, NoStatus, "", true},
		{"unnamed code", &ptrClose{2999, "t"}, 2999, "t", true},
		{"highest code", &ptrClose{65535, ""}, 65535, "", true},
		{"code above 65535", &ptrClose{65536, "t"}, 0, "", false},
		{"negative code", &ptrClose{-1, "t"}, 0, "", false},
		{"out-of-range code, then EOF", fmt.Errorf("%w: %w", &ptrClose{-1, ""}, io.EOF), AbnormalClose, "", true},
		{"nil pointer", nilPtr, 0, "", false},
		{"wrapped nil pointer", fmt.Errorf("x: %w", nilPtr), 0, "", false},
		{"nil pointer, then a close error", errors.Join(nilPtr, valClose{1001, "g"}), GoingAway, "g", true},
		{"wrong text type", wrongText{1000, 7}, 0, "", false},
		{"wrong code type", wrongCode{1000, "t"}, 0, "", false},
		{"a text slice of runes", runesClose{1000, []rune("t")}, 0, "", false},
		{"not in the table", stranger{1000, "t"}, 0, "", false},
		{"CloseReasoner wins over its shape", &ownClose{1000, "t"}, GoingAway, "t!", true},
		{"nil CloseReasoner", nilOwn, 0, "", false},
		{"EOF", io.EOF, AbnormalClose, "", true},
		{"wrapped EOF", fmt.Errorf("failed to read frame header: %w", io.EOF), AbnormalClose, "", true},
		{"unexpected EOF", io.ErrUnexpectedEOF, AbnormalClose, "", true},
		{"closed by this side", &net.OpError{Op: "read", Err: net.ErrClosed}, 0, "", false},
		{"connection aborted", &net.OpError{Op: "read", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNABORTED}}, AbnormalClose, "", true},
		{"made-up 1006 and a cancel", errors.Join(&ptrClose{1006, "unexpected EOF"}, context.Canceled), 0, "", false},
		{"EOF and a cancel", errors.Join(io.EOF, context.Canceled), 0, "", false},
		{"cancel inside a wrapped chain", fmt.Errorf("read: %w", fmt.Errorf("conn: %w", context.Canceled)), 0, "", false},
		{"a real code and a cancel", errors.Join(&ptrClose{1001, "bye"}, context.Canceled), GoingAway, "bye", true},
		{"connection reset", readErr, AbnormalClose, "", true},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), AbnormalClose, "", true},
		{"timeout", &net.OpError{Op: "read", Err: timeoutErr{}}, 0, "", false},
		{"deadline", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), 0, "", false},
		{"context deadline", fmt.Errorf("read: %w", context.DeadlineExceeded), 0, "", false},
		{"cancelled", context.Canceled, 0, "", false},
		{"timeout that also closed the connection", errors.Join(context.DeadlineExceeded, net.ErrClosed), 0, "", false},
		{"unrelated", errors.New("bad handshake"), 0, "", false},
		{"Join of nothing useful", errors.Join(errors.New("a"), errors.New("b")), 0, "", false},
	}
	for _, tt := range tests {
		r, text, ok := FromError(tt.err)
		if r != tt.r || text != tt.text || ok != tt.ok {
			t.Errorf("%s: FromError(%#v) = %d, %q, %v; want %d, %q, %v", tt.name, tt.err, r, text, ok, tt.r, tt.text, tt.ok)
		}
	}
}

// TestFromErrorCachedShape asks twice about each type, so that the second
// answer comes from the cache of shapes.
func TestFromErrorCachedShape(t *testing.T) {
	for range 2 {
		if r, text, ok := FromError(&ptrClose{1001, "a"}); r != GoingAway || text != "a" || !ok {
			t.Errorf("ptrClose: got %d %q %v", r, text, ok)
		}
		if _, _, ok := FromError(wrongText{1000, 1}); ok {
			t.Error("wrongText was taken as a close error")
		}
	}
}

func TestFromErrorAllocs(t *testing.T) {
	for _, err := range []error{nil, io.EOF} {
		if n := testing.AllocsPerRun(100, func() { FromError(err) }); n != 0 {
			t.Errorf("FromError(%v) allocates %v times, want 0", err, n)
		}
	}
}

func BenchmarkFromError(b *testing.B) {
	cases := []struct {
		name string
		err  error
	}{
		{"nil", nil},
		{"EOF", io.EOF},
		{"close_error", &ptrClose{1001, "bye"}},
		{"wrapped_close_error", fmt.Errorf("read: %w", valClose{1001, "bye"})},
		{"wrapped_EOF", fmt.Errorf("read: %w", io.EOF)},
		{"unrelated", errors.New("bad handshake")},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var r Reason
			for b.Loop() {
				r, _, _ = FromError(c.err)
			}
			sink = r
		})
	}
}

func TestUnversioned(t *testing.T) {
	for path, want := range map[string]string{
		"github.com/gorilla/websocket":      "github.com/gorilla/websocket",
		"github.com/gorilla/websocket/v2":   "github.com/gorilla/websocket",
		"github.com/gobwas/ws/v3/wsutil":    "github.com/gobwas/ws/wsutil",
		"github.com/lxzan/gws/v12":          "github.com/lxzan/gws",
		"nhooyr.io/websocket":               "nhooyr.io/websocket",
		"github.com/coder/websocket/v1":     "github.com/coder/websocket/v1", // v1 is never an import path element
		"github.com/x/v2ray":                "github.com/x/v2ray",
		"github.com/x/vendor":               "github.com/x/vendor",
		"v2/websocket":                      "v2/websocket", // the first element is a host, never a version
		"github.com/fasthttp/websocket/v02": "github.com/fasthttp/websocket/v02",
		"github.com/fasthttp/websocket/v0":  "github.com/fasthttp/websocket/v0",
	} {
		if got := unversioned(path); got != want {
			t.Errorf("unversioned(%q) = %q, want %q", path, got, want)
		}
	}
}

// TestCloseErrorTypesAsDocumented: the types FromError recognises are the
// ones its doc lists, with the fields the doc names, each as its library
// declares it (the interop module checks the real types; this keeps the
// table in the root module's tests too).
func TestCloseErrorTypesAsDocumented(t *testing.T) {
	documented := map[[2]string][2]string{
		{"github.com/gorilla/websocket", "CloseError"}:              {"Code", "Text"},
		{"github.com/fasthttp/websocket", "CloseError"}:             {"Code", "Text"},
		{"github.com/coder/websocket", "CloseError"}:                {"Code", "Reason"},
		{"nhooyr.io/websocket", "CloseError"}:                       {"Code", "Reason"},
		{"github.com/gobwas/ws/wsutil", "ClosedError"}:              {"Code", "Reason"},
		{"github.com/lxzan/gws", "CloseError"}:                      {"Code", "Reason"},
		{"github.com/lesismal/nbio/nbhttp/websocket", "CloseError"}: {"Code", "Reason"},
	}
	for k, fields := range documented {
		if got, ok := closeErrorTypes[k]; !ok || got != fields {
			t.Errorf("%s.%s: the table has %v (%v), the doc %v", k[0], k[1], got, ok, fields)
		}
	}
	for k := range closeErrorTypes {
		if _, ok := documented[k]; !ok && k[0] != "github.com/wsreasons/reasons" { // the tests' stand-ins
			t.Errorf("%s.%s is in the table but not in FromError's doc", k[0], k[1])
		}
	}
}
