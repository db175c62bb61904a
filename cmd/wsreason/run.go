package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
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
  wsreason -format CODE [TEXT]   build the Close frame body for CODE and TEXT

Flags:
  -json      print one JSON document instead of text
  -payload   the body of a Close frame in hex; spaces and 0x are ignored
  -format    the code to build a body for
  -h         this help

A name may be written as Go spells it (GoingAway), in upper snake case
(GOING_AWAY), or in any mix of case of either (goingaway, going_away).

Examples:
  wsreason 1006
  wsreason GoingAway 4001 going_away
  wsreason -payload '03 e9 62 79 65'
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

// run is the whole command: it parses args, writes results to stdout and
// errors to stderr, and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if err == nil {
		err = dispatch(opts, output{stdout: stdout, stderr: stderr, json: opts.json})
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

func dispatch(opts options, o output) error {
	switch {
	case opts.payload != nil && opts.format != nil:
		return fmt.Errorf("-payload and -format cannot be used together")
	case opts.payload != nil:
		if len(opts.args) > 0 {
			return fmt.Errorf("-payload takes no other arguments, got %q", opts.args[0])
		}
		return o.payload(*opts.payload)
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

// lookup turns a command-line argument into a Reason: a decimal number, or a
// name in any case, as Go spells it or in snake case.
func lookup(arg string) (reasons.Reason, error) {
	var r reasons.Reason
	if isDecimal(arg) {
		if err := r.UnmarshalText([]byte(arg)); err != nil {
			return 0, errors.New(plain(err))
		}
		return r, nil
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

// errInvalid marks a result that was printed but means failure: exit
// status 1. Any other error is bad input: one line on stderr, exit status 2.
var errInvalid = errors.New("invalid")

// decodeHex reads hex digits, ignoring white space and 0x prefixes.
func decodeHex(s string) ([]byte, error) {
	var digits strings.Builder
	for _, field := range strings.Fields(s) {
		field = strings.TrimPrefix(strings.TrimPrefix(field, "0x"), "0X")
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
