package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/wsframe"
)

// output writes results as text or, with -json, as one JSON document.
type output struct {
	stdout, stderr io.Writer
	json           bool
	brief          bool // one line per code
}

// width is where text output wraps prose.
const width = 80

// codeInfo is everything wsreason says about one code.
type codeInfo struct {
	Code             reasons.Reason `json:"code"`
	Name             string         `json:"name,omitempty"`          // empty for unnamed codes
	RegistryName     string         `json:"registry_name,omitempty"` // the IANA registry's name
	Range            string         `json:"range"`
	MaySend          bool           `json:"may_send"`
	BrowserCloseable bool           `json:"browser_closeable"`
	Reserved         bool           `json:"reserved"`
	Advice           string         `json:"advice"`                 // what a client should do after it: Reason.Advice
	AdviceDelay      []string       `json:"advice_delay,omitempty"` // the bounds of the wait before reconnecting, if any
	Description      string         `json:"description"`
	Note             string         `json:"note,omitempty"`        // for reserved codes and codes others use otherwise
	Matched          string         `json:"matched,omitempty"`     // the text of a log line that gave the code
	Form             string         `json:"form,omitempty"`        // the stack that prints that text
	SentBy           string         `json:"sent_by,omitempty"`     // who sent the code, when the line says
	Saw              string         `json:"saw,omitempty"`         // for a close with no code, what the side that logged it saw
	AlsoCalled       []alsoCalled   `json:"also_called,omitempty"` // other stacks' names for the code
	KnownUses        []knownUse     `json:"known_uses,omitempty"`  // protocols' own meanings, not registry names
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
	return codeInfo{
		Code:             r,
		Name:             nameOf(r),
		RegistryName:     registryNames[r],
		Range:            r.Range().String(),
		MaySend:          r.Valid(),
		BrowserCloseable: r.BrowserCloseable(),
		Reserved:         r.Reserved(),
		Advice:           r.Advice().String(),
		AdviceDelay:      adviceDelay(r.Advice()),
		Description:      r.Description(),
		Note:             reservedNotes[r] + clashNotes[r],
		AlsoCalled:       namesOf(r),
		KnownUses:        knownUses[r],
	}
}

// clashNotes name well-known software that uses a registered code for a
// meaning of its own, so that a reader of its logs is not misled.
var clashNotes = map[reasons.Reason]string{
	reasons.Unauthorized: "centrifuge (centrifugal/centrifuge, disconnect.go) sends 3000 for its own \"connection closed\", not for a missing authentication.",
	reasons.Timeout:      "centrifuge (centrifugal/centrifuge, disconnect.go) sends 3008 for its own \"slow\": the client read too slowly, not a timeout.",
}

// adviceDelay is the advice's delay bounds as text, nil when it names none.
func adviceDelay(a reasons.Advice) []string {
	lo, hi := a.Delay()
	if hi == 0 {
		return nil
	}
	return []string{lo.String(), hi.String()}
}

// adviceText says in a line what a client should do after a code.
var adviceText = map[reasons.Advice]string{
	reasons.AdviceDone:           "done: do not reconnect on your own",
	reasons.AdviceReconnect:      "reconnect, with capped exponential back-off and jitter",
	reasons.AdviceReconnectLater: "reconnect later, after a random %v to %v (IANA registration)",
	reasons.AdviceElsewhere:      "elsewhere: another server; this one only when the user asks (IANA registration)",
	reasons.AdviceFix:            "fix: one side has a bug; reconnecting unchanged repeats it",
	reasons.AdviceDenied:         "denied: credentials or policy; ask the user, do not loop",
	reasons.AdviceApplication:    "application: its meaning, and what to do, are the application's",
}

// nameOf returns the name of a named code and "" for any other.
func nameOf(r reasons.Reason) string {
	if slices.Contains(reasons.Named(), r) {
		return r.String()
	}
	return ""
}

// title is how text output names a code: "1006 AbnormalClose (IANA: Abnormal
// Closure)", or "4001 unnamed", the one spelling for a code without a name.
func title(r reasons.Reason) string {
	name := nameOf(r)
	if name == "" {
		return fmt.Sprintf("%d unnamed", r)
	}
	if registryNames[r] == "" {
		return fmt.Sprintf("%d %s (IANA: no short name)", r, name)
	}
	return fmt.Sprintf("%d %s (IANA: %s)", r, name, registryNames[r])
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

// block writes labelled lines: the label in a column of its own, the value
// wrapped at width and indented under itself.
type block struct {
	w     io.Writer
	label int // width of the label column
}

func (b block) line(label, value string) {
	indent := 2 + b.label + 2
	fmt.Fprintf(b.w, "  %-*s  %s\n", b.label, label, wrap(value, indent, width))
}

// wrap breaks text into lines of at most width columns, the first starting at
// column indent (already written) and the others indented to it. A word
// longer than a line stays whole.
func wrap(text string, indent, width int) string {
	var b strings.Builder
	col := indent
	for i, word := range strings.Fields(text) {
		n := utf8.RuneCountInString(word) // columns, not bytes: "§" is one
		switch {
		case i == 0:
		case col+1+n > width:
			b.WriteString("\n" + strings.Repeat(" ", indent))
			col = indent
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += n
	}
	return b.String()
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
	const row = "%-4s  %-19s  %-26s  %-8s  %s\n"
	fmt.Fprintf(o.stdout, row, "CODE", "NAME", "IANA REGISTRY NAME", "MAY SEND", "BROWSER")
	for _, c := range codes {
		registry := c.RegistryName
		if registry == "" {
			registry = "(no short name)"
		}
		fmt.Fprintf(o.stdout, row, fmt.Sprintf("%d", c.Code), c.Name, registry, yesNo(c.MaySend), yesNo(c.BrowserCloseable))
	}
	fmt.Fprintln(o.stdout)
	fmt.Fprintf(o.stdout, "%-10s  %-10s  %s\n", "RANGE", "CODES", "MEANING")
	for _, g := range ranges {
		codes := fmt.Sprintf("%d-%d", g.First, g.Last)
		fmt.Fprintf(o.stdout, "%-10s  %-10s  %s\n", g.Range, codes, wrap(g.Description, 24, width))
	}
	fmt.Fprintln(o.stdout)
	fmt.Fprintln(o.stdout, "BROWSER: whether a page's script may pass the code to WebSocket.close().")
	fmt.Fprintln(o.stdout, "wsreason CODE explains a code in full; wsreason -h shows every mode.")
	return nil
}

// explainLabel is the label column of the explain block.
const explainLabel = len("browser may send")

// explainBlock writes the lines that explain c under its title.
func explainBlock(w io.Writer, c codeInfo, extra ...[2]string) {
	b := block{w, explainLabel}
	for _, e := range extra {
		b.line(e[0], e[1])
	}
	first, last := c.Code.Range().Bounds()
	b.line("range", fmt.Sprintf("%s (%d-%d)", c.Range, first, last))
	b.line("may be sent", yesNo(c.MaySend))
	b.line("browser may send", yesNo(c.BrowserCloseable)+" (WebSocket.close() in a page's script)")
	b.line("reserved", yesNo(c.Reserved))
	advice := adviceText[c.Code.Advice()]
	if lo, hi := c.Code.Advice().Delay(); hi != 0 {
		advice = fmt.Sprintf(advice, lo, hi)
	}
	b.line("client advice", advice)
	b.line("meaning", c.Description)
	if len(c.AlsoCalled) > 0 {
		b.line("also called", alsoCalledText(c.AlsoCalled))
	}
	if c.Note != "" {
		b.line("note", c.Note)
	}
	for _, u := range c.KnownUses {
		b.line("known use", fmt.Sprintf("%s calls it %s: %s (that protocol's own convention; %s)", u.Protocol, u.Name, u.Meaning, u.Source))
	}
}

// alsoCalledText lists the other stacks' names on a line: each name once,
// with the stacks that use it, as "NORMAL (Spring, Ktor)".
func alsoCalledText(names []alsoCalled) string {
	order, stacks := grouped(names, func(n alsoCalled) (string, string) { return n.Name, n.Stack })
	parts := make([]string, len(order))
	for i, name := range order {
		parts[i] = fmt.Sprintf("%s (%s)", name, strings.Join(stacks[name], ", "))
	}
	return strings.Join(parts, "; ")
}

// explain prints what each code means.
func (o output) explain(infos []codeInfo) error {
	if o.json {
		return o.writeJSON(struct {
			Codes []codeInfo `json:"codes"`
		}{infos})
	}
	if o.brief {
		for _, c := range infos {
			fmt.Fprintln(o.stdout, briefLine(c))
		}
		return nil
	}
	for i, c := range infos {
		if i > 0 {
			fmt.Fprintln(o.stdout)
		}
		fmt.Fprintln(o.stdout, title(c.Code))
		var extra [][2]string
		if c.Matched != "" {
			extra = append(extra, [2]string{"found", fmt.Sprintf("%q in the line (%s)", c.Matched, c.Form)})
		}
		if c.SentBy != "" {
			extra = append(extra, [2]string{"sent by", c.SentBy})
		}
		if c.Saw != "" {
			extra = append(extra, [2]string{"what happened", c.Saw})
		}
		explainBlock(o.stdout, c, extra...)
	}
	return nil
}

// briefLine is a code in one line, for -brief: "1001 GoingAway: may be
// sent; advice: reconnect", with who sent it when a log line said so.
func briefLine(c codeInfo) string {
	name := c.Name
	if name == "" {
		name = "unnamed (" + c.Range + " range)"
	}
	send := "may be sent"
	if !c.MaySend {
		send = "may not be sent"
	}
	s := fmt.Sprintf("%d %s: %s; advice: %s", c.Code, name, send, c.Advice)
	if c.SentBy != "" {
		s += "; sent by " + c.SentBy
	}
	return s
}

// bodyResult is what wsreason says about a Close frame body.
type bodyResult struct {
	Payload string          `json:"payload"`
	Valid   bool            `json:"valid"`
	Code    *reasons.Reason `json:"code,omitempty"` // the code in the body, valid or not
	Name    string          `json:"name,omitempty"`
	Reason  *string         `json:"reason,omitempty"`
	Note    string          `json:"note,omitempty"`
	Info    *codeInfo       `json:"explain,omitempty"`
	Error   string          `json:"error,omitempty"`
	Reply   reasons.Reason  `json:"reply_code,omitempty"`
}

const emptyBodyNote = "a Close frame with no code; the receiver reports 1005 NoStatus"

func decodeBody(p []byte) bodyResult {
	r, text, err := reasons.Parse(p)
	res := bodyResult{Payload: hex.EncodeToString(p), Valid: err == nil}
	if len(p) >= 2 {
		code := reasons.Reason(int(p[0])<<8 | int(p[1]))
		res.Code, res.Name = &code, nameOf(code)
	}
	switch {
	case err != nil:
		res.Error, res.Reply = plain(err), r
	case len(p) == 0:
		res.Note = emptyBodyNote
	default:
		info := describe(r)
		res.Reason, res.Info = &text, &info
	}
	return res
}

// writeBody writes the text form of res.
func writeBody(w io.Writer, res bodyResult) {
	switch {
	case res.Valid && res.Info != nil:
		fmt.Fprintln(w, title(*res.Code))
		explainBlock(w, *res.Info, [2]string{"reason", fmt.Sprintf("%q", *res.Reason)})
	case res.Valid:
		block{w, len("invalid")}.line("body", "empty: "+res.Note)
	default:
		b := block{w, len("invalid")}
		if res.Code != nil {
			b.line("code", title(*res.Code))
		}
		b.line("invalid", res.Error)
		b.line("reply", fmt.Sprintf("%d %s: the code to close the connection with in reply", res.Reply, res.Reply))
	}
}

// payload decodes a Close frame body given in hex. An invalid body is a
// result, not a usage error: it is printed and reported as exit status 1.
func (o output) payload(hexBody string) error {
	p, err := decodeHex("payload", hexBody)
	if err != nil {
		return err
	}
	res := decodeBody(p)
	if o.json {
		err = o.writeJSON(res)
	} else {
		writeBody(o.stdout, res)
	}
	if err == nil && !res.Valid {
		err = errInvalid
	}
	return err
}

// frameResult is what wsreason says about a whole frame.
type frameResult struct {
	Frame  string      `json:"frame"`
	Fin    bool        `json:"fin"`
	Rsv    byte        `json:"rsv"`
	Opcode byte        `json:"opcode"`
	Masked bool        `json:"masked"`
	Mask   string      `json:"mask,omitempty"`
	Length uint64      `json:"length"`
	Valid  bool        `json:"valid"`
	Error  string      `json:"error,omitempty"` // what is wrong with the frame itself
	Reply  int         `json:"reply_code,omitempty"`
	Body   *bodyResult `json:"body,omitempty"`
}

// frameProblem names the first rule of RFC 6455 §5.2 and §5.5 that a Close
// frame's header breaks, or "".
func frameProblem(h wsframe.Header, rest []byte) string {
	switch {
	case h.Opcode != wsframe.OpClose:
		return fmt.Sprintf("opcode %v is not a Close frame (0x8)", h.Opcode)
	case !h.Fin:
		return "FIN is not set, but control frames are never fragmented (§5.5)"
	case h.Rsv != 0:
		return fmt.Sprintf("RSV bits %03b are set, which no extension defines for Close (§5.2)", h.Rsv)
	case h.LengthForm != 7:
		return fmt.Sprintf("the length uses the %d-bit form; a control frame's length fits in 7 bits (§5.5)", h.LengthForm)
	case len(rest) == 1:
		return "1 byte follows the frame"
	case len(rest) > 0:
		return fmt.Sprintf("%d bytes follow the frame", len(rest))
	}
	return ""
}

// frame decodes a whole Close frame given in hex, header included.
func (o output) frame(hexFrame string) error {
	b, err := decodeHex("frame", hexFrame)
	if err != nil {
		return err
	}
	h, p, rest, derr := wsframe.Decode(b)
	res := frameResult{Frame: hex.EncodeToString(b), Fin: h.Fin, Rsv: h.Rsv, Opcode: byte(h.Opcode), Masked: h.Masked, Length: h.Length}
	if h.Masked && len(b) >= h.Size() {
		res.Mask = hex.EncodeToString(h.Mask[:])
	}
	problem := ""
	if derr != nil {
		problem = strings.TrimPrefix(derr.Error(), "wsframe: ")
	} else {
		problem = frameProblem(h, rest)
	}
	if problem != "" {
		res.Error, res.Reply = problem, int(reasons.ProtocolError)
	} else {
		body := decodeBody(p)
		res.Body, res.Valid = &body, body.Valid
	}
	if o.json {
		err = o.writeJSON(res)
	} else {
		err = writeFrame(o.stdout, h, res)
	}
	if err == nil && !res.Valid {
		err = errInvalid
	}
	return err
}

func writeFrame(w io.Writer, h wsframe.Header, res frameResult) error {
	bl := block{w, len("invalid")}
	mask := "no (server to client)"
	switch {
	case h.Masked && res.Mask == "":
		mask = "yes, but the frame ends inside the key (client to server)"
	case h.Masked:
		mask = "key " + res.Mask + " (client to server)"
	}
	bl.line("frame", fmt.Sprintf("FIN %s, opcode %v, RSV %03b", yesNo(h.Fin), h.Opcode, h.Rsv))
	bl.line("masked", mask)
	unit := "bytes"
	if h.Length == 1 {
		unit = "byte"
	}
	bl.line("length", fmt.Sprintf("%d %s", h.Length, unit))
	if res.Body == nil {
		bl.line("invalid", res.Error)
		bl.line("reply", fmt.Sprintf("%d %s: the code to close the connection with in reply", res.Reply, reasons.Reason(res.Reply)))
		return nil
	}
	fmt.Fprintln(w)
	writeBody(w, *res.Body)
	return nil
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
			Note    string         `json:"note,omitempty"`
			Error   string         `json:"error,omitempty"`
		}
		res := result{Code: r, Reason: text}
		if ferr == nil {
			h := hex.EncodeToString(p)
			res.Payload = &h
			if len(p) == 0 {
				res.Note = emptyBodyNote
			}
		} else {
			res.Error = plain(ferr)
		}
		err = o.writeJSON(res)
	} else if ferr == nil && len(p) == 0 {
		_, err = fmt.Fprintf(o.stdout, "(empty body) %s\n", emptyBodyNote)
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
