package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/wsreasons/reasons"
)

// Exit statuses.
const (
	exitOK      = 0
	exitInvalid = 1 // a payload that breaks the rules, or a body that cannot be built
	exitUsage   = 2 // bad arguments
)

const usage = `wsreason explains WebSocket close codes (RFC 6455 §7.4, IANA registry).

Usage:
  wsreason                       table of the named codes and the code ranges
  wsreason CODE...               explain each CODE: a number or a name
  wsreason -payload HEX          decode a Close frame body given in hex
  wsreason -payload -            the same, reading the hex from standard input
  wsreason -format CODE [TEXT]   build the Close frame body for CODE and TEXT

Flags:
  -json      print one JSON document instead of text
  -payload   the body of a Close frame in hex, as a capture shows it: spaces,
             colons or dashes between bytes, 0x or \x before them, are all fine
  -format    the code to build a body for
  -h         this help

A CODE is a decimal number (1001), a hexadecimal one with 0x (0x3e9, as in a
frame dump), or a name: as Go spells it (GoingAway), in upper snake case
(GOING_AWAY), or in any mix of case of either (goingaway, going_away).

Examples:
  wsreason 1006
  wsreason GoingAway 4001 going_away 0x3f6
  wsreason -payload '03 e9 62 79 65'
  wsreason -payload 03:e9:62:79:65
  echo '\x03\xe9\x62\x79\x65' | wsreason -payload -
  wsreason -format 1001 'server restarting'
  wsreason -json -payload 0x03ed

Exit status: 0 on success, 1 for an invalid payload or a body that cannot be
built, 2 for bad arguments.
`

// options are the parsed command line.
type options struct {
	json    bool
	payload *string // set when -payload was given
	format  *string // set when -format was given
	args    []string
}

// run is the whole command: it parses args, reads stdin for "-payload -",
// writes results to stdout and errors to stderr, and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	opts, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if err == nil {
		err = dispatch(opts, stdin, output{stdout: stdout, stderr: stderr, json: opts.json})
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errInvalid):
		return exitInvalid // the result already says what is wrong
	default:
		fmt.Fprintf(stderr, "wsreason: %v\n", err)
		return exitUsage
	}
}

// parseArgs accepts flags before, between and after the positional
// arguments; "--" ends the flags.
func parseArgs(args []string) (options, error) {
	var opts options
	fs := flag.NewFlagSet("wsreason", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&opts.json, "json", false, "")
	fs.Func("payload", "", func(s string) error { opts.payload = &s; return nil })
	fs.Func("format", "", func(s string) error { opts.format = &s; return nil })
	for len(args) > 0 {
		if isNegative(args[0]) { // a code such as -1, not a flag
			opts.args = append(opts.args, args[0])
			args = args[1:]
			continue
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return opts, err
			}
			return opts, fmt.Errorf("%v (see wsreason -h)", err)
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			opts.args = append(opts.args, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		opts.args = append(opts.args, rest[0])
		args = rest[1:]
	}
	return opts, nil
}

func dispatch(opts options, stdin io.Reader, o output) error {
	switch {
	case opts.payload != nil && opts.format != nil:
		return fmt.Errorf("-payload and -format cannot be used together")
	case opts.payload != nil:
		if len(opts.args) > 0 {
			return fmt.Errorf("-payload takes no other arguments, got %q", opts.args[0])
		}
		hexBody := *opts.payload
		if hexBody == "-" {
			b, err := io.ReadAll(io.LimitReader(stdin, maxStdin+1))
			if err != nil {
				return fmt.Errorf("reading the payload from standard input: %v", err)
			}
			if len(b) > maxStdin {
				return fmt.Errorf("standard input holds more than %d bytes; a Close frame body is at most %d bytes, %d hex digits", maxStdin, reasons.MaxPayloadLen, 2*reasons.MaxPayloadLen)
			}
			hexBody = string(b)
		}
		return o.payload(hexBody)
	case opts.format != nil:
		if len(opts.args) > 1 {
			return fmt.Errorf("-format takes one TEXT argument, got %d; quote the text", len(opts.args))
		}
		text := ""
		if len(opts.args) == 1 {
			text = opts.args[0]
		}
		return o.format(*opts.format, text)
	case len(opts.args) == 0:
		return o.table()
	}
	var codes []reasons.Reason
	for _, arg := range opts.args {
		r, err := lookup(arg)
		if err != nil {
			return err
		}
		codes = append(codes, r)
	}
	return o.explain(codes)
}

// maxStdin bounds what "-payload -" reads: far more than the hex of any
// Close frame body, with room for separators and line breaks.
const maxStdin = 64 << 10

// lookup turns a command-line argument into a Reason: a decimal number, a
// hexadecimal one with 0x (as in a frame dump), or a name in any case, as Go
// spells it or in snake case. A number outside 0..65535, negative ones
// included, is reported as out of range.
func lookup(arg string) (reasons.Reason, error) {
	var r reasons.Reason
	switch {
	case isDecimal(arg):
		if err := r.UnmarshalText([]byte(arg)); err != nil {
			return 0, errors.New(plain(err))
		}
		return r, nil
	case isNegative(arg):
		return 0, fmt.Errorf("code %s is out of range 0..65535", arg)
	case len(arg) > 2 && (arg[:2] == "0x" || arg[:2] == "0X"):
		n, err := strconv.ParseUint(arg[2:], 16, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("%q is not a hexadecimal number", arg)
		}
		if err != nil || n > 0xffff {
			return 0, fmt.Errorf("code %s is out of range 0..65535 (0x0-0xffff)", arg)
		}
		return reasons.Reason(n), nil
	}
	if strings.Contains(arg, "_") {
		// Any case of the snake spelling is the upper snake spelling.
		if r.UnmarshalText([]byte(strings.ToUpper(arg))) == nil {
			return r, nil
		}
	} else {
		for _, n := range reasons.Named() {
			if strings.EqualFold(arg, n.String()) {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("%q is not a close code number or name (see wsreason with no arguments for the names)", arg)
}

func isDecimal(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// isNegative reports whether s is a minus sign and decimal digits: a
// negative code, never a flag.
func isNegative(s string) bool {
	return len(s) > 1 && s[0] == '-' && isDecimal(s[1:])
}

// errInvalid marks a result that was printed but means failure: exit
// status 1. Any other error is bad input: one line on stderr, exit status 2.
var errInvalid = errors.New("invalid")

// decodeHex reads hex digits as people copy them from a capture: with or
// without white space, colons or dashes between bytes (Wireshark, tcpdump),
// with 0x before a byte or a run of them, or as \x escapes ("\x03\xe9").
func decodeHex(s string) ([]byte, error) {
	var digits strings.Builder
	fields := strings.FieldsFunc(strings.NewReplacer(`\x`, " ", `\X`, " ").Replace(s), func(c rune) bool {
		return c == ':' || c == '-' || c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
	})
	for _, field := range fields {
		if len(field) > 2 && (field[:2] == "0x" || field[:2] == "0X") {
			field = field[2:]
		}
		digits.WriteString(field)
	}
	d := digits.String()
	if len(d)%2 != 0 {
		return nil, fmt.Errorf("payload %q has an odd number of hex digits (%d)", s, len(d))
	}
	b, err := hex.DecodeString(d)
	if err != nil {
		var bad hex.InvalidByteError
		if errors.As(err, &bad) {
			return nil, fmt.Errorf("payload %q has a character that is not a hex digit: %q", s, rune(bad))
		}
		return nil, fmt.Errorf("payload %q is not hex: %v", s, err)
	}
	return b, nil
}
