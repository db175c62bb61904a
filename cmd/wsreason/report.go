package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/wsreasons/reasons"
)

// output writes results as text or, with -json, as one JSON document.
type output struct {
	stdout, stderr io.Writer
	json           bool
}

// codeInfo is everything wsreason says about one code.
type codeInfo struct {
	Code        reasons.Reason `json:"code"`
	Name        string         `json:"name,omitempty"` // empty for unnamed codes
	Range       string         `json:"range"`
	MaySend     bool           `json:"may_send"`
	Reserved    bool           `json:"reserved"`
	Description string         `json:"description"`
	Note        string         `json:"note,omitempty"` // only for reserved codes
}

type rangeInfo struct {
	Range       string         `json:"range"`
	First       reasons.Reason `json:"first"`
	Last        reasons.Reason `json:"last"`
	Description string         `json:"description"`
}

// reservedNotes says, for each reserved code, why it is never sent and when
// a library reports it instead.
var reservedNotes = map[reasons.Reason]string{
	reasons.Reserved:            "An endpoint must never send 1004: it is reserved and has no meaning yet.",
	reasons.NoStatus:            "An endpoint must never send 1005; a library reports it when the peer's Close frame had no code.",
	reasons.AbnormalClose:       "An endpoint must never send 1006; a library reports it when the connection dropped without a Close frame.",
	reasons.TLSHandshakeFailure: "An endpoint must never send 1015; a library reports it when the TLS handshake failed.",
}

func describe(r reasons.Reason) codeInfo {
	info := codeInfo{
		Code:        r,
		Range:       r.Range().String(),
		MaySend:     r.Valid(),
		Reserved:    r.Reserved(),
		Description: r.Description(),
		Note:        reservedNotes[r],
		Name:        nameOf(r),
	}
	return info
}

// nameOf returns the name of a named code and "" for any other.
func nameOf(r reasons.Reason) string {
	if slices.Contains(reasons.Named(), r) {
		return r.String()
	}
	return ""
}

func allRanges() []rangeInfo {
	var out []rangeInfo
	for g := reasons.RangeUnused; g <= reasons.RangeOutside; g++ {
		first, last := g.Bounds()
		out = append(out, rangeInfo{g.String(), first, last, g.Description()})
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (o output) writeJSON(v any) error {
	enc := json.NewEncoder(o.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table prints every named code and every range.
func (o output) table() error {
	var codes []codeInfo
	for _, r := range reasons.Named() {
		codes = append(codes, describe(r))
	}
	ranges := allRanges()
	if o.json {
		return o.writeJSON(struct {
			Codes  []codeInfo  `json:"codes"`
			Ranges []rangeInfo `json:"ranges"`
		}{codes, ranges})
	}
	tw := tabwriter.NewWriter(o.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tNAME\tMAY SEND\tDESCRIPTION")
	for _, c := range codes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", c.Code, c.Name, yesNo(c.MaySend), c.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(o.stdout)
	tw = tabwriter.NewWriter(o.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "RANGE\tCODES\tMEANING")
	for _, g := range ranges {
		fmt.Fprintf(tw, "%s\t%d-%d\t%s\n", g.Range, g.First, g.Last, g.Description)
	}
	return tw.Flush()
}

// explain prints what each code means.
func (o output) explain(codes []reasons.Reason) error {
	var infos []codeInfo
	for _, r := range codes {
		infos = append(infos, describe(r))
	}
	if o.json {
		return o.writeJSON(struct {
			Codes []codeInfo `json:"codes"`
		}{infos})
	}
	for i, c := range infos {
		if i > 0 {
			fmt.Fprintln(o.stdout)
		}
		name := c.Name
		if name == "" {
			name = "unnamed"
		}
		first, last := c.Code.Range().Bounds()
		fmt.Fprintf(o.stdout, "%d %s\n", c.Code, name)
		tw := tabwriter.NewWriter(o.stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintf(tw, "  range\t%s (%d-%d)\n", c.Range, first, last)
		fmt.Fprintf(tw, "  may be sent\t%s\n", yesNo(c.MaySend))
		fmt.Fprintf(tw, "  reserved\t%s\n", yesNo(c.Reserved))
		fmt.Fprintf(tw, "  meaning\t%s\n", c.Description)
		if c.Note != "" {
			fmt.Fprintf(tw, "  note\t%s\n", c.Note)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// payload decodes a Close frame body given in hex. An invalid body is a
// result, not a usage error: it is printed and reported as exit status 1.
func (o output) payload(hexBody string) error {
	p, err := decodeHex(hexBody)
	if err != nil {
		return err
	}
	r, text, perr := reasons.Parse(p)
	type result struct {
		Payload string         `json:"payload"`
		Valid   bool           `json:"valid"`
		Code    reasons.Reason `json:"code,omitempty"`
		Name    string         `json:"name,omitempty"`
		Reason  *string        `json:"reason,omitempty"`
		Error   string         `json:"error,omitempty"`
		Reply   reasons.Reason `json:"reply_code,omitempty"`
	}
	res := result{Payload: hex.EncodeToString(p), Valid: perr == nil}
	if perr == nil {
		res.Code, res.Name, res.Reason = r, nameOf(r), &text
	} else {
		res.Error, res.Reply = plain(perr), r
	}

	if o.json {
		err = o.writeJSON(res)
	} else {
		tw := tabwriter.NewWriter(o.stdout, 0, 8, 2, ' ', 0)
		if perr == nil {
			fmt.Fprintf(tw, "code\t%d %s\n", r, r)
			fmt.Fprintf(tw, "reason\t%q\n", text)
			if len(p) == 0 {
				fmt.Fprintf(tw, "note\tan empty body carries no code; %d is what a library reports for it\n", reasons.NoStatus)
			}
		} else {
			fmt.Fprintf(tw, "invalid\t%s\n", res.Error)
			fmt.Fprintf(tw, "reply\t%d %s: the receiver must close the connection with this code\n", r, r)
		}
		err = tw.Flush()
	}
	if err == nil && perr != nil {
		err = errInvalid
	}
	return err
}

// format builds a Close frame body for code and text.
func (o output) format(code, text string) error {
	r, err := lookup(code)
	if err != nil {
		return err
	}
	p, ferr := reasons.Format(r, text)
	if o.json {
		type result struct {
			Code    reasons.Reason `json:"code"`
			Reason  string         `json:"reason"`
			Payload *string        `json:"payload,omitempty"`
			Error   string         `json:"error,omitempty"`
		}
		res := result{Code: r, Reason: text}
		if ferr == nil {
			h := hex.EncodeToString(p)
			res.Payload = &h
		} else {
			res.Error = plain(ferr)
		}
		err = o.writeJSON(res)
	} else if ferr == nil {
		_, err = fmt.Fprintln(o.stdout, hex.EncodeToString(p))
	} else {
		_, err = fmt.Fprintf(o.stderr, "wsreason: cannot build a Close frame body: %s\n", plain(ferr))
	}
	if err == nil && ferr != nil {
		err = errInvalid
	}
	return err
}

// plain is an error from package reasons without its "reasons: " prefix.
func plain(err error) string {
	return strings.TrimPrefix(err.Error(), "reasons: ")
}
