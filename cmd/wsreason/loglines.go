package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/wsreasons/reasons"
)

// logForms are the ways the main libraries and tools print a close code in a
// log line or an error message.
var logForms = []*regexp.Regexp{
	regexp.MustCompile(`\bclose (\d+)\b`),                          // gorilla: "websocket: close 1006 (abnormal closure)"
	regexp.MustCompile(`\bstatus = (StatusCode\(\d+\)|Status\w+)`), // coder: "status = StatusGoingAway and reason = ..."
	regexp.MustCompile(`\bcode: (\d+)\b`),                          // wscat: "Disconnected (code: 1006, reason: "")"
	regexp.MustCompile(`\bcode=(\d+)\b`),                           // key=value logs: "code=4001"
}

var coderNumber = regexp.MustCompile(`^StatusCode\((\d+)\)$`)

// found is a close code found in a line, with the text that gave it away;
// err is set instead of code when the form holds a number outside
// 0..65535.
type found struct {
	code    reasons.Reason
	matched string
	err     error
}

// findInLine returns every close code that line shows in one of logForms,
// in the order they appear in the line. It never guesses: a number or name
// outside those forms is not a code.
func findInLine(line string) []found {
	type hit struct {
		at int
		f  found
	}
	var hits []hit
	for _, form := range logForms {
		for _, m := range form.FindAllStringSubmatchIndex(line, -1) {
			token := line[m[2]:m[3]]
			if n := coderNumber.FindStringSubmatch(token); n != nil {
				token = n[1]
			}
			f := found{matched: line[m[0]:m[1]]}
			if c, err := strconv.ParseUint(token, 10, 64); err == nil {
				f.code, f.err = reasons.Get(int(min(c, 1<<31)))
				if f.err != nil {
					f.err = fmt.Errorf("%q: %w", f.matched, f.err)
				}
			} else if errors.Is(err, strconv.ErrRange) {
				f.err = fmt.Errorf("%q: code %s is out of range 0..65535", f.matched, token)
			} else if named, ok := byName(token); ok {
				f.code = named
			} else {
				continue
			}
			hits = append(hits, hit{m[0], f})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.at - b.at })
	out := make([]found, len(hits))
	for i, h := range hits {
		out[i] = h.f
	}
	return out
}
