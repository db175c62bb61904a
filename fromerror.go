package reasons

import (
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
)

// CloseReasoner is implemented by an error that reports how a WebSocket
// connection ended: the code and reason text of the Close frame the peer
// sent. [FromError] asks it before anything else, so an error type of your
// own, or a wrapper around a library's error, decides what FromError says.
type CloseReasoner interface {
	CloseReason() (r Reason, text string)
}

// FromError reports how a WebSocket connection ended, given the error a
// WebSocket library's read (or its close callback) returned. It looks
// through the whole chain of err, as [errors.As] does.
//
// When the chain holds a close error, ok is true and r and text are the code
// and reason of the peer's Close frame. The first error in the chain that
// answers is used:
//
//   - an error implementing [CloseReasoner] (a nil pointer is skipped);
//   - a close error of one of these libraries, as a value or a pointer,
//     recognised by its package path, type name and field types, without
//     importing the library: github.com/gorilla/websocket and
//     github.com/fasthttp/websocket (*CloseError: Code, Text),
//     github.com/coder/websocket and its former path nhooyr.io/websocket
//     (CloseError: Code, Reason),
//     github.com/gobwas/ws/wsutil (ClosedError: Code, Reason),
//     github.com/lxzan/gws (*CloseError: Code, Reason []byte) and
//     github.com/lesismal/nbio/nbhttp/websocket (*CloseError: Code, Reason;
//     nbio sets none for a 1000).
//
// Wrappers whose errors are their base library's are recognised through
// it: olahol/melody (gorilla) and gofiber's contrib/websocket
// (fasthttp/websocket). A later major version of a listed module (a /v2
// import path) is recognised when its close error keeps the type name and
// field types.
//
// A library's close error whose code is outside 0..65535, or whose fields
// have other types than these, is passed over. Code 0 gives [NoStatus]:
// gws reports a Close frame without a body that way. For [NoStatus] and
// [AbnormalClose] the text is always empty: an empty Close frame carries
// none, and for 1006 no Close frame arrived (gorilla and fasthttp put their
// own error text there when they make up a 1006 for a dropped connection).
//
// When the chain holds no close error but shows that the connection ended
// without a Close frame ([io.EOF], [io.ErrUnexpectedEOF], a connection reset
// or abort, or a broken pipe), FromError returns [AbnormalClose], as RFC 6455
// §7.1.5 prescribes, with ok true.
//
// Otherwise ok is false: for nil, for an unrelated error, for a timeout, a
// deadline or a cancelled context anywhere in the chain, and for
// [net.ErrClosed]. A timeout or a cancel says that this side stopped
// waiting, not that the connection ended: the peer may still be there, and
// may still send its Close frame. The same holds for a 1006 a library made
// up beside one, so gorilla's made-up 1006 joined with [context.Canceled]
// gives the same answer as coder's [io.EOF] joined with it. [net.ErrClosed]
// is a read on a connection this side closed itself, as coder returns after
// its own Close(1000, ...): this side knows how it ended.
//
// golang.org/x/net/websocket has no close codes: it returns a bare [io.EOF]
// both for a peer's Close frame and for a connection cut without one, so
// FromError says [AbnormalClose] for both and cannot tell them apart.
//
// FromError does not allocate when err is nil or [io.EOF].
func FromError(err error) (r Reason, text string, ok bool) {
	switch err {
	case nil:
		return 0, "", false
	case io.EOF:
		return AbnormalClose, "", true
	}
	if r, text, ok := closeInChain(err); ok {
		if r == AbnormalClose && stoppedWaiting(err) {
			// A library's made-up 1006 next to a timeout or a cancel: as
			// for a bare io.EOF next to one, this side stopped waiting.
			return 0, "", false
		}
		if r == 0 {
			r = NoStatus
		}
		if r == NoStatus || r == AbnormalClose {
			text = ""
		}
		return r, text, true
	}
	if stoppedWaiting(err) || errors.Is(err, net.ErrClosed) {
		return 0, "", false
	}
	for _, target := range transportEnded {
		if errors.Is(err, target) {
			return AbnormalClose, "", true
		}
	}
	return 0, "", false
}

// transportEnded are the errors that say the connection ended without a
// Close frame; connReset adds the operating system's reset and broken pipe
// errors.
var transportEnded = append([]error{io.EOF, io.ErrUnexpectedEOF}, connReset...)

// stoppedWaiting tells whether err's chain holds a timeout or a cancellation.
func stoppedWaiting(err error) bool {
	return errors.Is(err, context.Canceled) || inChain(err, func(err error) bool {
		t, ok := err.(interface{ Timeout() bool }) // os.ErrDeadlineExceeded and context.DeadlineExceeded too
		return ok && t.Timeout()
	})
}

// closeInChain returns the code and text of the first close error in err's
// chain.
func closeInChain(err error) (r Reason, text string, ok bool) {
	inChain(err, func(err error) bool {
		r, text, ok = closeOf(err)
		return ok
	})
	return r, text, ok
}

// inChain walks err's chain depth first, as errors.As does, and tells
// whether match holds for one of its errors.
func inChain(err error, match func(error) bool) bool {
	for err != nil {
		if match(err) {
			return true
		}
		switch x := err.(type) {
		case interface{ Unwrap() error }:
			err = x.Unwrap()
		case interface{ Unwrap() []error }:
			for _, err := range x.Unwrap() {
				if inChain(err, match) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// closeOf reads the code and text of err itself, if it is a close error.
func closeOf(err error) (Reason, string, bool) {
	v := reflect.ValueOf(err)
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return 0, "", false
	}
	if cr, ok := err.(CloseReasoner); ok {
		r, text := cr.CloseReason()
		return r, text, true
	}
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0, "", false
	}
	s, ok := shapeOf(v.Type())
	if !ok {
		return 0, "", false
	}
	var code uint64
	switch f := v.Field(s.code); {
	case f.CanInt():
		if f.Int() < 0 {
			return 0, "", false
		}
		code = uint64(f.Int())
	default: // shapeOf checked that it is an integer
		code = f.Uint()
	}
	if code > 0xFFFF {
		return 0, "", false
	}
	f := v.Field(s.text)
	if f.Kind() == reflect.String {
		return Reason(code), f.String(), true
	}
	return Reason(code), string(f.Bytes()), true
}

// closeErrorTypes names the close error types FromError recognises without
// importing their packages, by package path and type name, and their code
// and text fields.
var closeErrorTypes = map[[2]string][2]string{
	{"github.com/gorilla/websocket", "CloseError"}:              {"Code", "Text"},
	{"github.com/fasthttp/websocket", "CloseError"}:             {"Code", "Text"},
	{"github.com/coder/websocket", "CloseError"}:                {"Code", "Reason"},
	{"nhooyr.io/websocket", "CloseError"}:                       {"Code", "Reason"},
	{"github.com/gobwas/ws/wsutil", "ClosedError"}:              {"Code", "Reason"},
	{"github.com/lxzan/gws", "CloseError"}:                      {"Code", "Reason"},
	{"github.com/lesismal/nbio/nbhttp/websocket", "CloseError"}: {"Code", "Reason"},
}

// shape is where a recognised struct type keeps its code and text.
type shape struct {
	code, text int // field indexes
	ok         bool
}

// shapes caches shapeOf's answer for each struct type it has seen that
// implements error.
var shapes sync.Map // reflect.Type -> shape

// shapeOf tells whether t is one of closeErrorTypes with an integer code
// field and a string or []byte text field, and where those fields are.
func shapeOf(t reflect.Type) (shape, bool) {
	if s, ok := shapes.Load(t); ok {
		return s.(shape), s.(shape).ok
	}
	s := shape{code: -1, text: -1}
	if names, known := closeErrorTypes[[2]string{unversioned(t.PkgPath()), t.Name()}]; known {
		for i := range t.NumField() {
			f := t.Field(i)
			switch {
			case f.Name == names[0] && isInteger(f.Type.Kind()):
				s.code = i
			case f.Name == names[1] && (f.Type.Kind() == reflect.String ||
				f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8):
				s.text = i
			}
		}
		s.ok = s.code >= 0 && s.text >= 0
	}
	shapes.Store(t, s)
	return s, s.ok
}

// unversioned drops the major version element of an import path, such as
// the /v2 of github.com/gobwas/ws/v2/wsutil, so that a future major version
// of a listed module is recognised when its close error keeps the same
// type name and field types; one that changes them is passed over.
func unversioned(path string) string {
	parts := strings.Split(path, "/")
	out := parts[:0]
	for i, p := range parts {
		if i > 0 && len(p) > 1 && p[0] == 'v' && strings.Trim(p[1:], "0123456789") == "" && p != "v1" && p[1] != '0' {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, "/")
}

func isInteger(k reflect.Kind) bool {
	return reflect.Int <= k && k <= reflect.Uint64
}
