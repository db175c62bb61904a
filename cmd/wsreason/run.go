package main

import (
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/wsreasons/reasons"
)

// Exit statuses.
const (
	exitOK      = 0
	exitInvalid = 1 // a payload that breaks the rules, a body that cannot be built, a probe case judged wrong
	exitUsage   = 2 // bad arguments, or a probe whose handshake failed
)

const usage = `wsreason explains WebSocket close codes (RFC 6455 §7.4, IANA registry).

Usage:
  wsreason                       table of the named codes and the code ranges
  wsreason CODE...               explain each CODE: a number or a name
  wsreason 'LOG LINE'            explain the close codes a log line shows
  wsreason -payload HEX          decode a Close frame body given in hex
  wsreason -frame HEX            decode a whole Close frame, header included
  wsreason -format CODE [TEXT]   build the Close frame body for CODE and TEXT
  wsreason -log FILE             count the closes in a whole log, by code
                                 (-log - reads standard input)
  wsreason probe URL             check how a live server answers Close frames
                                 (wsreason probe -h says more)
  wsreason serve                 a server that tests how clients answer Close
                                 frames and reconnect (wsreason serve -h)
  wsreason watch URL             measure how long connections live through
                                 the path to a server and how they end
                                 (wsreason watch -h)

Flags:
  -json      print one JSON document instead of text
  -brief     one line per code (code, name, whether it may be sent, advice),
             no header; codes named twice are explained once
  -payload   the body of a Close frame in hex; - reads it from standard input
  -frame     a whole Close frame in hex, masked or not; - reads standard input
  -format    the code to build a body for
  -log       a log file to summarize, of any size; - reads standard input
  -h         this help

Hex may be written as a capture shows it: with spaces, colons or dashes
between bytes, and 0x or \x before them.

A CODE is a decimal number (1001), a hexadecimal one with 0x (0x3e9, as in a
frame dump), or a name in any case: as Go spells it (GoingAway, going_away),
as the IANA registry does ("Going Away", "Mandatory Ext."), or as another
stack does, bare or with its type: gorilla (CloseGoingAway), coder
(StatusGoingAway), Python websockets and aiohttp (GOING_AWAY, WSCloseCode.OK),
Starlette (WS_1001_GOING_AWAY), JSR 356 (CloseCodes.GOING_AWAY), Spring,
.NET (EndpointUnavailable), tungstenite (CloseCode::Away), Swift, Dart and
Ktor. A name that stacks give different codes (invalid) is refused.

A LOG LINE is searched for the forms those stacks print: gorilla's
"close 1006", coder's "status = StatusGoingAway", Python websockets'
"received 1011 (...); then sent 1011 (...)" (with who sent each), Spring's
"CloseStatus[code=1006, ...]", JSR 356's "CloseReason[1008,...]", Ktor's
"CloseReason(reason=NORMAL, ...)", tungstenite's "CloseFrame { code: Away",
.NET's "Close status EndpointUnavailable", Node ws's "invalid status code
1005", gws's "code=1001", gobwas's "ws closed: 1001", a browser console's or
wscat's "code: 1006", and "code=1006"; and as 1006, with what the side that
logged it saw, the lines of a close with no Close frame: Python websockets'
"no close frame received or sent", coder's "failed to read frame header:
EOF", .NET's "...closed the WebSocket connection without completing the
close handshake", Node ws's "WebSocket was closed before the connection was
established", and a browser console's "WebSocket connection to '...'
failed" (Firefox: "can't establish a connection to the server at ...").
Nothing else in the line is taken for a code.

With -log, every line in one of the forms above counts (a bare number, such
as a port or a duration, never does), and the summary has one row per code:
how many times, sent by the peer, by this side or not said, the forms seen,
the advice, and the first line it came from. A line longer than 1 MiB is
skipped and counted. -json gives the same as one document.

Examples:
  wsreason 1006
  wsreason -brief 1000 1006 GoingAway going_away
  wsreason GoingAway 4001 'Normal Closure' 0x3f6 StatusGoingAway
  wsreason 'websocket: close 1006 (abnormal closure): unexpected EOF'
  wsreason 'received 1011 (unexpected error); then sent 1011 (unexpected error)'
  wsreason -payload '03 e9 62 79 65'
  echo 03:e9:62:79:65 | wsreason -payload -
  wsreason -frame '88 82 12 34 56 78 11 dc'
  wsreason -format 1001 'server restarting'
  wsreason -json -payload 0x03ed
  journalctl -u app | wsreason -log -

Exit status: 0 on success, 1 for an invalid payload or frame or a body that
cannot be built, 2 for bad arguments. For probe, see wsreason probe -h.
`

// options are the parsed command line.
type options struct {
	json    bool
	brief   bool
	payload *string // set when -payload was given
	frame   *string // set when -frame was given
	format  *string // set when -format was given
	log     *string // set when -log was given
	args    []string
}

// run is the whole command: it parses args, reads stdin for "-payload -",
// writes results to stdout and errors to stderr, and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "probe" {
		return runProbe(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "serve" {
		return runServe(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "watch" {
		return runWatch(args[1:], stdout, stderr)
	}
	opts, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if err == nil {
		err = dispatch(opts, stdin, output{stdout: stdout, stderr: stderr, json: opts.json, brief: opts.brief})
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
	fs.BoolVar(&opts.brief, "brief", false, "")
	fs.Func("payload", "", func(s string) error { opts.payload = &s; return nil })
	fs.Func("frame", "", func(s string) error { opts.frame = &s; return nil })
	fs.Func("format", "", func(s string) error { opts.format = &s; return nil })
	fs.Func("log", "", func(s string) error { opts.log = &s; return nil })
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
	modes := 0
	for _, m := range []*string{opts.payload, opts.frame, opts.format, opts.log} {
		if m != nil {
			modes++
		}
	}
	switch {
	case modes > 1:
		return fmt.Errorf("-payload, -frame, -format and -log cannot be used together")
	case modes > 0 && opts.brief:
		return fmt.Errorf("-brief is for codes and log lines; -payload, -frame, -format and -log have their own short output")
	case opts.payload != nil || opts.frame != nil:
		flagName, hexText, decode := "-payload", opts.payload, o.payload
		if opts.frame != nil {
			flagName, hexText, decode = "-frame", opts.frame, o.frame
		}
		if len(opts.args) > 0 {
			return fmt.Errorf("%s takes no other arguments, got %q", flagName, opts.args[0])
		}
		if *hexText != "-" {
			return decode(*hexText)
		}
		b, err := io.ReadAll(io.LimitReader(stdin, maxStdin+1))
		if err != nil {
			return fmt.Errorf("reading %s from standard input: %v", flagName, err)
		}
		if len(b) > maxStdin {
			return fmt.Errorf("standard input holds more than %d bytes; a Close frame is at most %d bytes, %d hex digits", maxStdin, reasons.MaxPayloadLen+6, 2*(reasons.MaxPayloadLen+6))
		}
		return decode(string(b))
	case opts.log != nil:
		if len(opts.args) > 0 {
			return fmt.Errorf("-log takes no other arguments, got %q", opts.args[0])
		}
		return o.log(*opts.log, stdin)
	case opts.format != nil:
		if len(opts.args) > 1 {
			return fmt.Errorf("-format takes one TEXT argument, got %d; quote the text", len(opts.args))
		}
		text := ""
		if len(opts.args) == 1 {
			text = opts.args[0]
		}
		return o.format(*opts.format, text)
	case len(opts.args) == 0 && opts.brief:
		var infos []codeInfo
		for _, r := range reasons.Named() {
			infos = append(infos, describe(r))
		}
		return o.explain(infos)
	case len(opts.args) == 0:
		return o.table()
	}
	var infos []codeInfo
	for _, arg := range opts.args {
		r, err := lookup(arg)
		if err == nil {
			// Arguments that name the same code are explained once.
			if !slices.ContainsFunc(infos, func(c codeInfo) bool { return c.Code == r && c.Matched == "" }) {
				infos = append(infos, describe(r))
			}
			continue
		}
		hits := findInLine(arg)
		if len(hits) == 0 {
			return err
		}
		for _, h := range hits {
			if h.err != nil {
				return h.err
			}
			info := describe(h.code)
			info.Matched, info.Form, info.SentBy, info.Saw = h.matched, h.stack, h.sentBy, h.saw
			infos = append(infos, info)
		}
	}
	return o.explain(infos)
}

// maxStdin bounds what "-payload -" reads: far more than the hex of any
// Close frame body, with room for separators and line breaks.
const maxStdin = 64 << 10

// lookup turns a command-line argument into a Reason: a decimal number, a
// hexadecimal one with 0x (as in a frame dump), or a name (see byName). A
// number outside 0..65535, negative ones included, is reported as out of
// range.
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
	r, err := byName(arg)
	if err == nil || !errors.Is(err, errNotAName) {
		return r, err
	}
	return 0, fmt.Errorf("%q is not a close code number or name, nor a log line with one (see wsreason -h)", arg)
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
func decodeHex(what, s string) ([]byte, error) {
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
		return nil, fmt.Errorf("%s %q has an odd number of hex digits (%d)", what, s, len(d))
	}
	b, err := hex.DecodeString(d)
	if err != nil {
		var bad hex.InvalidByteError
		if errors.As(err, &bad) {
			return nil, fmt.Errorf("%s %q has a character that is not a hex digit: %q", what, s, rune(bad))
		}
		return nil, fmt.Errorf("%s %q is not hex: %v", what, s, err)
	}
	return b, nil
}
