package reasons

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// namedCodes is written from RFC 6455 §7.4.1 and the IANA WebSocket Close
// Code Number Registry, not from the package's own tables.
type namedCode struct {
	r        Reason
	name     string
	snake    string
	code     int
	valid    bool
	reserved bool
}

// namedCodes lists them.
var namedCodes = []namedCode{
	{Normal, "Normal", "NORMAL", 1000, true, false},
	{GoingAway, "GoingAway", "GOING_AWAY", 1001, true, false},
	{ProtocolError, "ProtocolError", "PROTOCOL_ERROR", 1002, true, false},
	{UnacceptableData, "UnacceptableData", "UNACCEPTABLE_DATA", 1003, true, false},
	{Reserved, "Reserved", "RESERVED", 1004, false, true},
	{NoStatus, "NoStatus", "NO_STATUS", 1005, false, true},
	{AbnormalClose, "AbnormalClose", "ABNORMAL_CLOSE", 1006, false, true},
	{InconsistentData, "InconsistentData", "INCONSISTENT_DATA", 1007, true, false},
	{PolicyViolation, "PolicyViolation", "POLICY_VIOLATION", 1008, true, false},
	{MessageTooBig, "MessageTooBig", "MESSAGE_TOO_BIG", 1009, true, false},
	{ExtensionNotPresent, "ExtensionNotPresent", "EXTENSION_NOT_PRESENT", 1010, true, false},
	{UnexpectedCondition, "UnexpectedCondition", "UNEXPECTED_CONDITION", 1011, true, false},
	{ServiceRestart, "ServiceRestart", "SERVICE_RESTART", 1012, true, false},
	{TryAgainLater, "TryAgainLater", "TRY_AGAIN_LATER", 1013, true, false},
	{BadGateway, "BadGateway", "BAD_GATEWAY", 1014, true, false},
	{TLSHandshakeFailure, "TLSHandshakeFailure", "TLS_HANDSHAKE_FAILURE", 1015, false, true},
	{Unauthorized, "Unauthorized", "UNAUTHORIZED", 3000, true, false},
	{Forbidden, "Forbidden", "FORBIDDEN", 3003, true, false},
	{Timeout, "Timeout", "TIMEOUT", 3008, true, false},
}

func TestNamedCodes(t *testing.T) {
	var want []Reason
	for _, c := range namedCodes {
		want = append(want, c.r)
		t.Run(c.name, func(t *testing.T) {
			if int(c.r) != c.code {
				t.Errorf("value = %d, want %d", c.r, c.code)
			}
			if got := c.r.String(); got != c.name {
				t.Errorf("String() = %q, want %q", got, c.name)
			}
			if got := c.r.Valid(); got != c.valid {
				t.Errorf("Valid() = %v, want %v", got, c.valid)
			}
			if got := c.r.Reserved(); got != c.reserved {
				t.Errorf("Reserved() = %v, want %v", got, c.reserved)
			}
			if c.r.Description() == "" {
				t.Error("Description() is empty")
			}
			if c.r.Description() == c.r.Range().Description() {
				t.Error("Description() is only the range's description")
			}
		})
	}
	if got := Named(); !slices.Equal(got, want) {
		t.Errorf("Named() = %v, want %v", got, want)
	}
	Named()[0] = 0
	if Named()[0] != Normal {
		t.Error("Named() returns shared storage")
	}
	// Over the whole code space, exactly the codes of namedCodes are named:
	// they have a name of their own and the text form gives it.
	for c := 0; c <= 0xffff; c++ {
		r := Reason(c)
		want := slices.ContainsFunc(namedCodes, func(n namedCode) bool { return n.code == c })
		if r.named() != want {
			t.Errorf("%d: named() = %v, want %v", c, r.named(), want)
		}
		if text, _ := r.MarshalText(); (string(text) != strconv.Itoa(c)) != want {
			t.Errorf("%d: MarshalText = %q, which is the number: %v", c, text, !want)
		}
	}
}

// codeRules divides the whole code space by RFC 6455 §7.4 and the IANA
// registry. The test below checks that the rows cover 0..65535 without gaps
// or overlaps before using them.
// The browser column follows the WHATWG WebSockets standard's close()
// method: 1000 or 3000-4999.
var codeRules = []struct {
	first, last int
	valid       bool
	reserved    bool
	browser     bool
	rng         Range
	source      string
}{
	{0, 999, false, false, false, RangeUnused, "RFC 6455 §7.4.2: not used"},
	{1000, 1000, true, false, true, RangeProtocol, "RFC 6455 §7.4.1"},
	{1001, 1003, true, false, false, RangeProtocol, "RFC 6455 §7.4.1"},
	{1004, 1006, false, true, false, RangeProtocol, "RFC 6455 §7.4.1: reserved, 1005 and 1006 never sent"},
	{1007, 1011, true, false, false, RangeProtocol, "RFC 6455 §7.4.1"},
	{1012, 1014, true, false, false, RangeProtocol, "IANA registry"},
	{1015, 1015, false, true, false, RangeProtocol, "RFC 6455 §7.4.1: never sent"},
	{1016, 2999, false, false, false, RangeProtocol, "RFC 6455 §7.4.2: unassigned protocol codes"},
	{3000, 3999, true, false, true, RangeRegistered, "RFC 6455 §7.4.2: IANA registered"},
	{4000, 4999, true, false, true, RangePrivate, "RFC 6455 §7.4.2: private use"},
	{5000, 65535, false, false, false, RangeOutside, "outside the close code space"},
}

func TestEveryCode(t *testing.T) {
	next := 0
	for _, row := range codeRules {
		if row.first != next || row.last < row.first {
			t.Fatalf("rule table: row %d-%d does not follow %d", row.first, row.last, next-1)
		}
		next = row.last + 1
	}
	if next != 65536 {
		t.Fatalf("rule table ends at %d, want 65535", next-1)
	}

	checked := 0
	for _, row := range codeRules {
		for code := row.first; code <= row.last; code++ {
			r := Reason(code)
			if r.Valid() != row.valid || r.Reserved() != row.reserved || r.BrowserCloseable() != row.browser || r.Range() != row.rng {
				t.Errorf("code %d: Valid %v Reserved %v BrowserCloseable %v Range %v, want %v %v %v %v (%s)",
					code, r.Valid(), r.Reserved(), r.BrowserCloseable(), r.Range(), row.valid, row.reserved, row.browser, row.rng, row.source)
			}
			checked++
		}
	}
	if checked != 65536 {
		t.Errorf("checked %d codes, want 65536", checked)
	}
}

func TestStringUnnamed(t *testing.T) {
	for _, code := range []int{0, 999, 1016, 2999, 3001, 4001, 4999, 5000, 65535} {
		want := "Reason(" + strconv.Itoa(code) + ")"
		if got := Reason(code).String(); got != want {
			t.Errorf("Reason(%d).String() = %q, want %q", code, got, want)
		}
	}
}

func TestGet(t *testing.T) {
	for _, code := range []int{0, 1, 999, 1000, 1006, 4001, 65535} {
		r, err := Get(code)
		if err != nil || int(r) != code {
			t.Errorf("Get(%d) = %d, %v; want %d, nil", code, r, err, code)
		}
	}
	for _, tc := range []struct {
		code int
		msg  string
	}{
		{-1, "reasons: code -1 is out of range 0..65535"},
		{65536, "reasons: code 65536 is out of range 0..65535"},
		{70000, "reasons: code 70000 is out of range 0..65535"},
	} {
		r, err := Get(tc.code)
		if !errors.Is(err, ErrOutOfRange) {
			t.Errorf("Get(%d) error = %v, want ErrOutOfRange", tc.code, err)
			continue
		}
		if err.Error() != tc.msg || r != 0 {
			t.Errorf("Get(%d) = %d, %q; want 0, %q", tc.code, r, err, tc.msg)
		}
	}
}

func TestDescriptionOfUnnamed(t *testing.T) {
	for _, tc := range []struct {
		code int
		rng  Range
	}{
		{0, RangeUnused}, {999, RangeUnused},
		{1016, RangeProtocol}, {2999, RangeProtocol},
		{3001, RangeRegistered}, {3999, RangeRegistered},
		{4000, RangePrivate}, {4999, RangePrivate},
		{5000, RangeOutside}, {65535, RangeOutside},
	} {
		r := Reason(tc.code)
		if got, want := r.Description(), tc.rng.Description(); got != want {
			t.Errorf("Reason(%d).Description() = %q, want the description of %v, %q", tc.code, got, tc.rng, want)
		}
	}
}

func TestRanges(t *testing.T) {
	for _, tc := range []struct {
		g           Range
		name        string
		first, last Reason
	}{
		{RangeUnused, "Unused", 0, 999},
		{RangeProtocol, "Protocol", 1000, 2999},
		{RangeRegistered, "Registered", 3000, 3999},
		{RangePrivate, "Private", 4000, 4999},
		{RangeOutside, "Outside", 5000, 65535},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.g.String(); got != tc.name {
				t.Errorf("String() = %q, want %q", got, tc.name)
			}
			first, last := tc.g.Bounds()
			if first != tc.first || last != tc.last {
				t.Errorf("Bounds() = %d, %d; want %d, %d", first, last, tc.first, tc.last)
			}
			if first.Range() != tc.g || last.Range() != tc.g {
				t.Errorf("bounds %d, %d are not in the range", first, last)
			}
			if tc.g.Description() == "" {
				t.Error("Description() is empty")
			}
		})
	}
	unknown := Range(5)
	if first, last := unknown.Bounds(); first != 0 || last != 0 {
		t.Errorf("Range(5).Bounds() = %d, %d; want 0, 0", first, last)
	}
	if unknown.String() != "Range(5)" || unknown.Description() == "" {
		t.Errorf("Range(5) = %q, %q", unknown.String(), unknown.Description())
	}
}

var sink any

func BenchmarkString(b *testing.B) {
	for _, c := range []struct {
		name  string
		codes []Reason
	}{
		// A named code returns a constant string; an unnamed one builds
		// "Reason(N)" and so allocates.
		{"Named", []Reason{Normal, TLSHandshakeFailure, Forbidden, Timeout}},
		{"Unnamed", []Reason{0, 2999, 4001, 65535}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for i := 0; b.Loop(); i++ {
				n += len(c.codes[i&3].String())
			}
			sink = n
		})
	}
}

func BenchmarkGet(b *testing.B) {
	b.ReportAllocs()
	codes := []int{1000, 1006, 4001, 65535}
	var n int
	for i := 0; b.Loop(); i++ {
		r, err := Get(codes[i&3])
		if err == nil {
			n += int(r)
		}
	}
	sink = n
}

func BenchmarkValid(b *testing.B) {
	b.ReportAllocs()
	var n int
	for i := 0; b.Loop(); i++ {
		if Reason(i).Valid() {
			n++
		}
	}
	sink = n
}

func BenchmarkReserved(b *testing.B) {
	b.ReportAllocs()
	var n int
	for i := 0; b.Loop(); i++ {
		if Reason(i).Reserved() {
			n++
		}
	}
	sink = n
}

// TestLogValue: through slog's text handler, a named code logs its code
// and name, an unnamed one its code alone.
func TestLogValue(t *testing.T) {
	var b strings.Builder
	logger := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}))
	logger.Info("x", "reason", TryAgainLater)
	logger.Info("x", "reason", Reason(4999))
	want := "level=INFO msg=x reason.code=1013 reason.name=TryAgainLater\nlevel=INFO msg=x reason.code=4999\n"
	if b.String() != want {
		t.Errorf("logged %q, want %q", b.String(), want)
	}
}

// FuzzGet: Get accepts exactly 0..65535, keeps the number, and names a
// bad one in its error.
func FuzzGet(f *testing.F) {
	for _, n := range []int{0, 1000, 4999, 65535, 65536, -1, 70000, 1 << 40, -(1 << 40)} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int) {
		r, err := Get(n)
		inRange := n >= 0 && n <= 65535
		switch {
		case inRange && (err != nil || int(r) != n):
			t.Fatalf("Get(%d) = %d, %v", n, r, err)
		case !inRange && (err == nil || !errors.Is(err, ErrOutOfRange) || !strings.Contains(err.Error(), strconv.Itoa(n))):
			t.Fatalf("Get(%d) = %d, %v; want an error naming %d", n, r, err, n)
		}
	})
}

// TestFuzzTargetsListed compares the fuzz targets in the repository's test
// files with the Makefile's FUZZ_TARGETS, which make fuzz runs, so that a
// new target cannot be left out of it silently.
func TestFuzzTargetsListed(t *testing.T) {
	makefile, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	_, list, ok := strings.Cut(string(makefile), "\nFUZZ_TARGETS :=")
	if !ok {
		t.Fatal("the Makefile has no FUZZ_TARGETS")
	}
	list, _, _ = strings.Cut(strings.ReplaceAll(list, "\\\n", " "), "\n")
	listed := map[string]bool{}
	for _, f := range strings.Fields(list) {
		listed[f] = true
	}
	found := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(f \*testing\.F\)`)
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		pkg := "."
		if dir := filepath.Dir(path); dir != "." {
			pkg = "./" + filepath.ToSlash(dir)
		}
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			found[pkg+":"+m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for f := range found {
		if !listed[f] {
			t.Errorf("fuzz target %s is not in the Makefile's FUZZ_TARGETS", f)
		}
	}
	for f := range listed {
		if !found[f] {
			t.Errorf("the Makefile's FUZZ_TARGETS lists %s, which no test file declares", f)
		}
	}
	if len(found) < 9 {
		t.Errorf("found %d fuzz targets: %v", len(found), found)
	}
}
