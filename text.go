package reasons

import (
	"encoding/json"
	"strconv"
	"strings"
)

// The text form of a Reason is its Go name for a named code ("GoingAway") and
// its decimal number for any other code ("4001"). Its JSON form is the
// number, as on the wire and in a browser's CloseEvent.code, so that JSON
// written by this package reads the same in any language; a JSON string in
// the text form is accepted on input. encoding/json writes map keys through
// MarshalText, not MarshalJSON, so a Reason used as a map key appears in the
// text form: {"GoingAway":1}. A numeric key would need MarshalText to give
// numbers, which would cost flag.TextVar and log output their names.

// snakeNames holds the upper snake case spelling of each named code, in the
// order of named: GOING_AWAY for GoingAway, TLS_HANDSHAKE_FAILURE for
// TLSHandshakeFailure.
var snakeNames = func() (s [len(named)]string) {
	for i, r := range named {
		s[i] = snake(r.String())
	}
	return s
}()

// snake spells a Go identifier in upper snake case, starting a new word at
// each upper-case letter that follows a lower-case one or that begins a
// capitalized word after an acronym.
func snake(name string) string {
	isUpper := func(c byte) bool { return 'A' <= c && c <= 'Z' }
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if i > 0 && isUpper(c) && (!isUpper(name[i-1]) || i+1 < len(name) && !isUpper(name[i+1])) {
			b.WriteByte('_')
		}
		b.WriteByte(c)
	}
	return strings.ToUpper(b.String())
}

// AppendText implements [encoding.TextAppender]: it appends the text form of
// r to b.
func (r Reason) AppendText(b []byte) ([]byte, error) {
	if r.named() {
		return append(b, r.String()...), nil
	}
	return strconv.AppendUint(b, uint64(r), 10), nil
}

// MarshalText implements [encoding.TextMarshaler]. It returns the Go name of
// a named code ("GoingAway") and the decimal number of any other ("4001").
func (r Reason) MarshalText() ([]byte, error) {
	return r.AppendText(nil)
}

// UnmarshalText implements [encoding.TextUnmarshaler]. It accepts a Go name as
// String returns it ("GoingAway") or in snake case ("GOING_AWAY"), in any
// case ("goingaway", "going_away"), with underscores between all of its
// words or none; or a decimal number from 0 to 65535 without sign, spaces or
// leading zeros ("4001"). Other stacks' names (gorilla's CloseGoingAway,
// coder's StatusGoingAway) are the wsreason command's to read, not this. Anything else leaves r unchanged and returns an
// error that names the input and wraps [ErrUnknownName] or [ErrOutOfRange].
func (r *Reason) UnmarshalText(text []byte) error {
	v, err := parseText(string(text))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// MarshalJSON implements [json.Marshaler]. It writes r as a JSON number, for
// named codes too. (As a map key, r is written by [Reason.MarshalText]
// instead, since encoding/json uses that for keys.)
func (r Reason) MarshalJSON() ([]byte, error) {
	return strconv.AppendUint(nil, uint64(r), 10), nil
}

// UnmarshalJSON implements [json.Unmarshaler]. It accepts a JSON number from 0
// to 65535, or a JSON string in any form [Reason.UnmarshalText] accepts. A JSON
// null leaves r unchanged, as encoding/json does for other types.
func (r *Reason) UnmarshalJSON(data []byte) error {
	s := string(data)
	switch {
	case s == "null":
		return nil
	case strings.HasPrefix(s, `"`):
		var text string
		if err := json.Unmarshal(data, &text); err != nil {
			return errorf(ErrUnknownName, "JSON value %s is not a valid string", s)
		}
		return r.UnmarshalText([]byte(text))
	case strings.HasPrefix(s, "-") && isDigits(s[1:]):
		return errorf(ErrOutOfRange, "code %s is out of range 0..65535", s)
	case isDigits(s):
		return r.UnmarshalText(data)
	}
	return errorf(ErrUnknownName, "JSON value %s is not a close code", s)
}

func parseText(s string) (Reason, error) {
	for i, r := range named {
		// Underscores go where the snake case spelling has them, or nowhere.
		if asciiEqualFold(s, r.String()) || asciiEqualFold(s, snakeNames[i]) {
			return r, nil
		}
	}
	if !isDigits(s) {
		return 0, errorf(ErrUnknownName, "%q is neither a close code name nor a decimal number", s)
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errorf(ErrUnknownName, "%q has a leading zero, which the decimal form of a close code never has", s)
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, errorf(ErrOutOfRange, "code %s is out of range 0..65535", s)
	}
	return Reason(n), nil
}

// asciiEqualFold reports whether a and b are equal but for the case of ASCII
// letters. Unlike strings.EqualFold it folds nothing else: the Kelvin sign
// is not a K.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	lower := func(c byte) byte {
		if 'A' <= c && c <= 'Z' {
			return c + 'a' - 'A'
		}
		return c
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
