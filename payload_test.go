package reasons

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// body builds a Close frame body by hand: a big-endian code, then text.
func body(code int, text string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, text...)
}

// The reason text of Autobahn TestSuite case 7.5.1: "κόσμε", then the
// surrogate U+D800 encoded as UTF-8, then "edited".
const autobahnSurrogate = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"

// invalidUTF8Forms are byte sequences RFC 3629 rules out.
var invalidUTF8Forms = []struct {
	name string
	text string
	at   int // offset of the first bad byte
}{
	{"lone continuation byte", "ok\x80", 2},
	{"overlong two-byte slash", "\xc0\xaf", 0},
	{"overlong three-byte slash", "a\xe0\x80\xaf", 1},
	{"overlong four-byte slash", "\xf0\x80\x80\xaf", 0},
	{"overlong NUL", "\xc0\x80", 0},
	{"high surrogate U+D800", "\xed\xa0\x80", 0},
	{"low surrogate U+DFFF", "x\xed\xbf\xbf", 1},
	{"surrogate pair encoded separately", "\xed\xa0\xbd\xed\xb8\x80", 0},
	{"above U+10FFFF", "\xf4\x90\x80\x80", 0},
	{"byte 0xfe", "\xfe", 0},
	{"byte 0xff", "abc\xff", 3},
	{"byte 0xf5", "\xf5\x80\x80\x80", 0},
	{"truncated two-byte", "\xc3", 0},
	{"truncated three-byte", "\xe2\x82", 0},
	{"truncated four-byte at end", "ok\xf0\x9f\x98", 2},
	{"Autobahn 7.5.1", autobahnSurrogate, 11},
}

type parseCase struct {
	name     string
	payload  []byte
	want     Reason
	wantText string
	wantErr  error
	msg      string // the whole error message, when not empty
}

func TestParse(t *testing.T) {
	long123 := strings.Repeat("*", 123)
	tests := []parseCase{
		{"Autobahn 7.3.1 empty body", nil, NoStatus, "", nil, ""},
		{"empty non-nil body", []byte{}, NoStatus, "", nil, ""},
		{"Autobahn 7.3.2 one byte", []byte{0x03}, ProtocolError, "", ErrPayloadLength,
			"reasons: Close frame body of 1 byte is too short to hold a code"},
		{"Autobahn 7.3.3 code only", body(1000, ""), Normal, "", nil, ""},
		{"Autobahn 7.3.4 code and reason", body(1000, "Hello World!"), Normal, "Hello World!", nil, ""},
		{"Autobahn 7.3.5 125-byte body", body(1000, long123), Normal, long123, nil, ""},
		{"Autobahn 7.3.6 126-byte body", body(1000, long123+"*"), ProtocolError, "", ErrPayloadLength,
			"reasons: Close frame body of 126 bytes is over the 125-byte limit"},
		{"1000-byte body", body(1000, strings.Repeat("a", 998)), ProtocolError, "", ErrPayloadLength, ""},
		{"Autobahn 7.5.1 surrogate in reason", body(1000, autobahnSurrogate), InconsistentData, "", ErrInvalidUTF8,
			"reasons: close reason is not valid UTF-8: byte 0xed at offset 11"},
		{"multi-byte reason", body(4001, "κόσμε 🙂"), 4001, "κόσμε 🙂", nil, ""},
		{"U+FFFD is valid", body(1000, "\uFFFD"), Normal, "\uFFFD", nil, ""},
		{"largest code point", body(1000, "\U0010FFFF"), Normal, "\U0010FFFF", nil, ""},
		{"NUL is valid", body(1000, "\x00"), Normal, "\x00", nil, ""},
		{"invalid code with invalid UTF-8 gets 1002", body(1005, "\xff"), ProtocolError, "", ErrInvalidCode, ""},
		{"1005 named in error", body(1005, ""), ProtocolError, "", ErrInvalidCode,
			"reasons: close code 1005 (NoStatus) may not appear in a Close frame"},
		{"999 in error", body(999, ""), ProtocolError, "", ErrInvalidCode,
			"reasons: close code 999 may not appear in a Close frame"},
	}
	// Autobahn 7.7.x: codes a peer must accept. 1012-1014 are in the IANA
	// registry and so are valid too.
	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		tests = append(tests, parseCase{"Autobahn 7.7 valid code " + Reason(code).String(), body(code, "x"), Reason(code), "x", nil, ""})
	}
	// Codes this package refuses with 1002, each named after its source.
	// Autobahn 7.9.x sends these and expects 1002 or a dropped connection.
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		tests = append(tests, parseCase{"Autobahn 7.9 invalid code " + Reason(code).String(), body(code, ""), ProtocolError, "", ErrInvalidCode, ""})
	}
	// 1015 is not among them, but RFC 6455 §7.4.1 says it is never sent.
	tests = append(tests, parseCase{"RFC 6455 §7.4.1 never-sent code 1015", body(1015, ""), ProtocolError, "", ErrInvalidCode, ""})
	// From 5000 up the RFC says nothing and Autobahn 7.13 only reports what
	// an endpoint does; this package refuses them as outside the code space.
	for _, code := range []int{5000, 65535} {
		tests = append(tests, parseCase{"outside the code space " + Reason(code).String(), body(code, ""), ProtocolError, "", ErrInvalidCode, ""})
	}
	for _, f := range invalidUTF8Forms {
		tests = append(tests, parseCase{"RFC 3629 " + f.name, body(1000, f.text), InconsistentData, "", ErrInvalidUTF8, ""})
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := bytes.Clone(tc.payload)
			r, text, err := Parse(tc.payload)
			if r != tc.want || text != tc.wantText || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Parse(% x) = %v, %q, %v; want %v, %q, %v", tc.payload, r, text, err, tc.want, tc.wantText, tc.wantErr)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("error = %q, want %q", err, tc.msg)
			}
			if !bytes.Equal(before, tc.payload) {
				t.Errorf("Parse modified its input: % x, was % x", tc.payload, before)
			}
		})
	}
}

func TestParseUTF8Offsets(t *testing.T) {
	for _, f := range invalidUTF8Forms {
		_, _, err := Parse(body(1000, f.text))
		want := fmt.Sprintf("byte 0x%02x at offset %d", f.text[f.at], f.at)
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%s: error %v, want it to end in %q", f.name, err, want)
		}
	}
}

func TestParseDoesNotRetain(t *testing.T) {
	p := body(1000, "bye")
	_, text, err := Parse(p)
	if err != nil {
		t.Fatal(err)
	}
	p[2] = 'X'
	if text != "bye" {
		t.Errorf("text changed to %q after the payload was modified", text)
	}
}

func TestFormatAndAppend(t *testing.T) {
	max := strings.Repeat("é", 61) + "a" // 123 bytes
	tests := []struct {
		name    string
		r       Reason
		text    string
		want    []byte
		wantErr error
		msg     string
	}{
		{"code only", Normal, "", []byte{0x03, 0xe8}, nil, ""},
		{"code and text", GoingAway, "bye", []byte{0x03, 0xe9, 'b', 'y', 'e'}, nil, ""},
		{"1014", BadGateway, "", []byte{0x03, 0xf6}, nil, ""},
		{"private code", 4999, "é", []byte{0x13, 0x87, 0xc3, 0xa9}, nil, ""},
		{"123-byte text", Normal, max, body(1000, max), nil, ""},
		{"NoStatus without text is the empty body", NoStatus, "", []byte{}, nil, ""},
		{"NoStatus with text", NoStatus, "x", nil, ErrInvalidCode,
			"reasons: close code 1005 (NoStatus) may not appear in a Close frame"},
		{"AbnormalClose", AbnormalClose, "", nil, ErrInvalidCode, ""},
		{"TLSHandshakeFailure", TLSHandshakeFailure, "", nil, ErrInvalidCode, ""},
		{"Reserved", Reserved, "", nil, ErrInvalidCode, ""},
		{"zero", 0, "", nil, ErrInvalidCode, "reasons: close code 0 may not appear in a Close frame"},
		{"5000", 5000, "", nil, ErrInvalidCode, ""},
		{"124-byte text", Normal, max + "b", nil, ErrTextTooLong,
			"reasons: close reason of 124 bytes is over the 123-byte limit"},
		{"invalid UTF-8", Normal, "ab\xed\xa0\x80", nil, ErrInvalidUTF8,
			"reasons: close reason is not valid UTF-8: byte 0xed at offset 2"},
		{"invalid code wins over long text", 999, max + "b", nil, ErrInvalidCode, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Format(tc.r, tc.text)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) || !bytes.Equal(got, tc.want) {
				t.Fatalf("Format(%v, %q) = % x, %v; want % x, %v", tc.r, tc.text, got, err, tc.want, tc.wantErr)
			}
			if err != nil && got != nil {
				t.Errorf("Format returned % x with an error, want nil", got)
			}
			if err == nil && got == nil {
				t.Error("Format returned a nil slice without an error")
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("error = %q, want %q", err, tc.msg)
			}

			prefix := []byte("prefix")
			dst := append(make([]byte, 0, 200), prefix...)
			appended, aerr := Append(dst, tc.r, tc.text)
			if !errors.Is(aerr, tc.wantErr) || (tc.wantErr == nil) != (aerr == nil) {
				t.Fatalf("Append error = %v, want %v", aerr, tc.wantErr)
			}
			wantAppended := append(bytes.Clone(prefix), tc.want...)
			if aerr != nil {
				wantAppended = prefix
			}
			if !bytes.Equal(appended, wantAppended) {
				t.Errorf("Append = %q, want %q", appended, wantAppended)
			}

			if err == nil {
				r, text, perr := Parse(got)
				if perr != nil || r != tc.r || text != tc.text {
					t.Errorf("Parse(Format) = %v, %q, %v; want %v, %q", r, text, perr, tc.r, tc.text)
				}
			}
		})
	}
}

func TestTruncateText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"short", "bye", "bye"},
		{"exactly 123", strings.Repeat("a", 123), strings.Repeat("a", 123)},
		{"ASCII over", strings.Repeat("a", 200), strings.Repeat("a", 123)},
		// 61 two-byte characters are 122 bytes; the 62nd would end at 124.
		{"two-byte", strings.Repeat("é", 100), strings.Repeat("é", 61)},
		// 30 four-byte characters are 120 bytes; the 31st would end at 124.
		{"four-byte", strings.Repeat("🙂", 40), strings.Repeat("🙂", 30)},
		{"three-byte at the edge", strings.Repeat("a", 121) + "€€", strings.Repeat("a", 121)},
		{"three-byte that fits", strings.Repeat("a", 120) + "€€", strings.Repeat("a", 120) + "€"},
		{"invalid continuation run", strings.Repeat("\x80", 130), strings.Repeat("\x80", 123)},
		// A start byte far back must not be looked for: the cut goes no
		// further back than one character can be long.
		{"continuation run after a start", "a" + strings.Repeat("\x80", 130), "a" + strings.Repeat("\x80", 122)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := TruncateText(tc.in)
			if got != tc.want {
				t.Errorf("TruncateText = %q (%d bytes), want %q (%d bytes)", got, len(got), tc.want, len(tc.want))
			}
		})
	}
}

// oracleValidUTF8 checks UTF-8 with the table of well-formed byte sequences
// in RFC 3629 §4, written out independently of package unicode/utf8.
func oracleValidUTF8(b []byte) bool {
	in := func(c byte, lo, hi byte) bool { return lo <= c && c <= hi }
	for i := 0; i < len(b); {
		c := b[i]
		var n int
		var lo, hi byte = 0x80, 0xbf // bounds of the second byte
		switch {
		case c <= 0x7f:
			i++
			continue
		case in(c, 0xc2, 0xdf):
			n = 2
		case c == 0xe0:
			n, lo = 3, 0xa0
		case in(c, 0xe1, 0xec), in(c, 0xee, 0xef):
			n = 3
		case c == 0xed:
			n, hi = 3, 0x9f
		case c == 0xf0:
			n, lo = 4, 0x90
		case in(c, 0xf1, 0xf3):
			n = 4
		case c == 0xf4:
			n, hi = 4, 0x8f
		default:
			return false
		}
		if i+n > len(b) || !in(b[i+1], lo, hi) {
			return false
		}
		for k := 2; k < n; k++ {
			if !in(b[i+k], 0x80, 0xbf) {
				return false
			}
		}
		i += n
	}
	return true
}

// oracleParse states the rules of RFC 6455 §5.5, §7.1.5 and §7.4 in the
// simplest form: the result of parsing p, or the reply code on failure.
func oracleParse(p []byte) (code int, text string, ok bool) {
	if len(p) == 0 {
		return 1005, "", true
	}
	if len(p) == 1 || len(p) > 125 {
		return 1002, "", false
	}
	code = int(p[0])<<8 | int(p[1])
	valid := false
	for _, row := range codeRules {
		if row.first <= code && code <= row.last {
			valid = row.valid
		}
	}
	if !valid {
		return 1002, "", false
	}
	if !oracleValidUTF8(p[2:]) {
		return 1007, "", false
	}
	return code, string(p[2:]), true
}

func TestOracleUTF8(t *testing.T) {
	for _, f := range invalidUTF8Forms {
		if oracleValidUTF8([]byte(f.text)) {
			t.Errorf("oracle accepts %s", f.name)
		}
	}
	for _, s := range []string{"", "abc", "é", "€", "🙂", "\U0010FFFF", "\uFFFD", "\ud7ff", "\ue000"} {
		if !oracleValidUTF8([]byte(s)) {
			t.Errorf("oracle rejects %q", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x03})
	f.Add(body(1000, "bye"))
	f.Add(body(1005, ""))
	f.Add(body(1014, "κόσμε"))
	f.Add(body(4999, strings.Repeat("x", 123)))
	f.Add(body(1000, strings.Repeat("x", 124)))
	f.Add(body(3000, autobahnSurrogate))
	for _, form := range invalidUTF8Forms {
		f.Add(body(1000, form.text))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		before := bytes.Clone(p)
		r, text, err := Parse(p)
		wantCode, wantText, ok := oracleParse(p)
		if int(r) != wantCode || text != wantText || (err == nil) != ok {
			t.Fatalf("Parse(% x) = %d, %q, %v; oracle says %d, %q, ok=%v", p, r, text, err, wantCode, wantText, ok)
		}
		if !bytes.Equal(p, before) {
			t.Fatalf("Parse modified its input")
		}
		if len(p) >= 2 && len(p) <= MaxPayloadLen {
			checkBuild(t, p)
		}
		if err != nil {
			return
		}
		out, err := Format(r, text)
		if err != nil || !bytes.Equal(out, p) {
			t.Fatalf("Format(Parse(% x)) = % x, %v", p, out, err)
		}
	})
}

// checkBuild holds Format and Append, and so their fast paths, to the
// oracle: for the code and text in p they build exactly p when the oracle
// accepts p, and refuse it otherwise. The one pair the oracle refuses and
// they accept is NoStatus without text, which gives the empty body.
func checkBuild(t *testing.T, p []byte) {
	t.Helper()
	r, text := Reason(int(p[0])<<8|int(p[1])), string(p[2:])
	_, _, ok := oracleParse(p)
	want := p
	switch {
	case r == NoStatus && text == "":
		want, ok = []byte{}, true
	case !ok:
		want = nil
	}
	out, err := Format(r, text)
	if (err == nil) != ok || !bytes.Equal(out, want) || (out == nil) != (want == nil) {
		t.Fatalf("Format(%d, %q) = % x, %v; oracle says % x, ok=%v", r, text, out, err, want, ok)
	}
	dst := []byte("dst")
	out, err = Append(dst, r, text)
	if (err == nil) != ok || !bytes.Equal(out, append([]byte("dst"), want...)) {
		t.Fatalf("Append(%d, %q) = % x, %v; oracle says % x, ok=%v", r, text, out, err, want, ok)
	}
}

func BenchmarkParse(b *testing.B) {
	cases := []struct {
		name string
		p    []byte
	}{
		{"CodeOnly", body(1001, "")},
		{"Text", body(1000, "server shutting down")},
		{"Empty", nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				r, text, err := Parse(c.p)
				if err != nil {
					b.Fatal(err)
				}
				n += int(r) + len(text)
			}
			sink = n
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, MaxPayloadLen)
	for b.Loop() {
		var err error
		buf, err = Append(buf[:0], GoingAway, "server shutting down")
		if err != nil {
			b.Fatal(err)
		}
	}
	sink = len(buf)
}

func BenchmarkFormat(b *testing.B) {
	b.ReportAllocs()
	var n int
	for b.Loop() {
		p, err := Format(GoingAway, "server shutting down")
		if err != nil {
			b.Fatal(err)
		}
		n += len(p)
	}
	sink = n
}

// TestValidText puts a non-ASCII byte, valid or not, at every position of
// texts of every length around the word size, where the word-at-a-time path
// could miss it.
func TestValidText(t *testing.T) {
	inserts := []string{"é", "€", "🙂", "\x80", "\xff", "\xed\xa0\x80", "\xc3"}
	for n := 0; n <= 40; n++ {
		for at := 0; at <= n; at++ {
			for _, ins := range inserts {
				s := strings.Repeat("a", at) + ins + strings.Repeat("b", n-at)
				if got, want := validText(s), oracleValidUTF8([]byte(s)); got != want {
					t.Errorf("validText(%q) = %v, want %v", s, got, want)
				}
			}
		}
		if s := strings.Repeat("z", n); !validText(s) {
			t.Errorf("validText(%q) = false", s)
		}
	}
}

// TestFormatEveryLength runs Format's one-pass copy and check over every
// length a reason may have, with a non-ASCII byte, valid or not, at every
// position: the body must be the code's two bytes and the text, byte for
// byte, or the error must be ErrInvalidUTF8 exactly when the oracle rejects
// the text. Every body takes one allocation.
func TestFormatEveryLength(t *testing.T) {
	inserts := []string{"é", "€", "🙂", "\x80", "\xff", "\xed\xa0\x80", "\xc3"}
	check := func(s string) {
		t.Helper()
		p, err := Format(ServiceRestart, s)
		if !oracleValidUTF8([]byte(s)) {
			if !errors.Is(err, ErrInvalidUTF8) || p != nil {
				t.Errorf("Format(1012, %q) = %x, %v; want nil and ErrInvalidUTF8", s, p, err)
			}
			return
		}
		if want := append([]byte{0x03, 0xf4}, s...); err != nil || !bytes.Equal(p, want) {
			t.Errorf("Format(1012, %q) = %x, %v; want %x", s, p, err, want)
		}
	}
	for n := 0; n <= MaxTextLen; n++ {
		check(strings.Repeat("z", n))
		for at := 0; at < n; at++ {
			for _, ins := range inserts {
				if s := strings.Repeat("a", at) + ins + strings.Repeat("b", n-at-1); len(s) <= MaxTextLen {
					check(s)
				}
			}
		}
		text := strings.Repeat("y", n)
		if allocs := testing.AllocsPerRun(10, func() { sinkBody, _ = Format(GoingAway, text) }); allocs != 1 {
			t.Errorf("Format with a %d-byte reason: %v allocations, want 1", n, allocs)
		}
	}
}

var sinkBody []byte
