package reasons

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns wraps exactly one of them,
// so callers can test with [errors.Is]; the message itself names the bad
// value.
var (
	// ErrOutOfRange reports a code outside 0..65535, the span of a uint16.
	ErrOutOfRange = errors.New("reasons: code out of range 0..65535")

	// ErrInvalidCode reports a code that may not appear in a Close frame
	// (see [Reason.Valid]).
	ErrInvalidCode = errors.New("reasons: code may not appear in a Close frame")

	// ErrPayloadLength reports a Close frame body of 1 byte or of more than
	// [MaxPayloadLen] bytes (RFC 6455 §5.5 and §5.5.1).
	ErrPayloadLength = errors.New("reasons: bad Close frame body length")

	// ErrTextTooLong reports a close reason longer than [MaxTextLen] bytes.
	ErrTextTooLong = errors.New("reasons: close reason too long")

	// ErrInvalidUTF8 reports a close reason that is not valid UTF-8
	// (RFC 6455 §5.5.1 and §8.1).
	ErrInvalidUTF8 = errors.New("reasons: close reason is not valid UTF-8")

	// ErrUnknownName reports text that is neither the name of a code nor a
	// decimal number.
	ErrUnknownName = errors.New("reasons: unknown close code name")
)

// detailError carries a message that names the bad value and unwraps to one
// of the sentinels above.
type detailError struct {
	sentinel error
	msg      string
}

func (e *detailError) Error() string { return e.msg }
func (e *detailError) Unwrap() error { return e.sentinel }

func errorf(sentinel error, format string, args ...any) error {
	return &detailError{sentinel: sentinel, msg: "reasons: " + fmt.Sprintf(format, args...)}
}
