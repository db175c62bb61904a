package reasons

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestMarshalText(t *testing.T) {
	for _, c := range namedCodes {
		got, err := c.r.MarshalText()
		if err != nil || string(got) != c.name {
			t.Errorf("%d.MarshalText() = %q, %v; want %q", c.code, got, err, c.name)
		}
	}
	for _, code := range []int{0, 999, 1016, 3001, 4001, 65535} {
		got, err := Reason(code).MarshalText()
		if err != nil || string(got) != strconv.Itoa(code) {
			t.Errorf("%d.MarshalText() = %q, %v; want %q", code, got, err, strconv.Itoa(code))
		}
	}
	got, _ := GoingAway.AppendText([]byte("code="))
	if string(got) != "code=GoingAway" {
		t.Errorf("AppendText = %q", got)
	}
}

func TestUnmarshalText(t *testing.T) {
	accept := map[string]Reason{
		"0": 0, "999": 999, "1000": Normal, "4001": 4001, "65535": 65535,
	}
	for _, c := range namedCodes {
		accept[c.name] = c.r
		accept[c.snake] = c.r
		accept[strings.ToLower(c.name)] = c.r
		accept[strings.ToUpper(c.name)] = c.r
		accept[strings.ToLower(c.snake)] = c.r
	}
	accept["Going_Away"], accept["tLs_HaNdShAkE_fAiLuRe"] = GoingAway, TLSHandshakeFailure
	for in, want := range accept {
		var r Reason
		if err := r.UnmarshalText([]byte(in)); err != nil || r != want {
			t.Errorf("UnmarshalText(%q) = %d, %v; want %d", in, r, err, want)
		}
	}

	reject := []struct {
		in      string
		wantErr error
		msg     string
	}{
		{"", ErrUnknownName, `reasons: "" is neither a close code name nor a decimal number`},
		{"goi_ngaway", ErrUnknownName, `reasons: "goi_ngaway" is neither a close code name nor a decimal number`},
		{"going_Away_", ErrUnknownName, ""},
		{"_GOING_AWAY", ErrUnknownName, ""},
		{"goingAway_", ErrUnknownName, ""},
		{"Going Away", ErrUnknownName, ""},
		{"going-away", ErrUnknownName, ""},
		{"TLSHandshake_Failure", ErrUnknownName, ""},
		{"CloseGoingAway", ErrUnknownName, ""},
		{"GoingAway ", ErrUnknownName, ""},
		{" 1000", ErrUnknownName, ""},
		{"+1000", ErrUnknownName, ""},
		{"-1", ErrUnknownName, ""},
		{"01000", ErrUnknownName, ""},
		{"1000x", ErrUnknownName, ""},
		{"0x3e8", ErrUnknownName, ""},
		{"Reason(4001)", ErrUnknownName, ""},
		{"65536", ErrOutOfRange, "reasons: code 65536 is out of range 0..65535"},
		{"99999999999999999999999", ErrOutOfRange, ""},
	}
	for _, tc := range reject {
		r := Timeout
		err := r.UnmarshalText([]byte(tc.in))
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("UnmarshalText(%q) error = %v, want %v", tc.in, err, tc.wantErr)
			continue
		}
		if r != Timeout {
			t.Errorf("UnmarshalText(%q) changed the value to %v", tc.in, r)
		}
		if tc.msg != "" && err.Error() != tc.msg {
			t.Errorf("UnmarshalText(%q) error = %q, want %q", tc.in, err, tc.msg)
		}
		if !strings.Contains(err.Error(), tc.in) {
			t.Errorf("UnmarshalText(%q) error %q does not name the input", tc.in, err)
		}
	}
}

func TestJSON(t *testing.T) {
	type event struct {
		Code Reason `json:"code"`
	}
	out, err := json.Marshal(event{GoingAway})
	if err != nil || string(out) != `{"code":1001}` {
		t.Errorf("Marshal = %s, %v; want {\"code\":1001}", out, err)
	}
	out, err = json.Marshal(map[Reason]int{GoingAway: 1})
	if err != nil || string(out) != `{"GoingAway":1}` {
		t.Errorf("map key: Marshal = %s, %v", out, err)
	}

	for _, tc := range []struct {
		in   string
		want Reason
	}{
		{`{"code":1001}`, GoingAway},
		{`{"code":4001}`, 4001},
		{`{"code":0}`, 0},
		{`{"code":65535}`, 65535},
		{`{"code":"GoingAway"}`, GoingAway},
		{`{"code":"GOING_AWAY"}`, GoingAway},
		{`{"code":"4001"}`, 4001},
		{`{"code":"\u0047oingAway"}`, GoingAway},
		{`{"code":null}`, Timeout},
	} {
		e := event{Timeout}
		if err := json.Unmarshal([]byte(tc.in), &e); err != nil || e.Code != tc.want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", tc.in, e.Code, err, tc.want)
		}
	}

	for _, tc := range []struct {
		in      string
		wantErr error
		names   string
	}{
		{`{"code":65536}`, ErrOutOfRange, "65536"},
		{`{"code":-1}`, ErrOutOfRange, "-1"},
		{`{"code":1000.5}`, ErrUnknownName, "1000.5"},
		{`{"code":1e3}`, ErrUnknownName, "1e3"},
		{`{"code":true}`, ErrUnknownName, "true"},
		{`{"code":"going away"}`, ErrUnknownName, "going away"},
		{`{"code":"70000"}`, ErrOutOfRange, "70000"},
	} {
		e := event{Timeout}
		err := json.Unmarshal([]byte(tc.in), &e)
		if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.names) || e.Code != Timeout {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v naming %q", tc.in, e.Code, err, tc.wantErr, tc.names)
		}
	}

	var r Reason
	for _, bad := range []string{``, `"unterminated`, `[1000]`} {
		if err := r.UnmarshalJSON([]byte(bad)); !errors.Is(err, ErrUnknownName) {
			t.Errorf("UnmarshalJSON(%q) error = %v, want ErrUnknownName", bad, err)
		}
	}
}

// oracleText says which Reason a text form denotes, from the test's own
// table of names: a name or its upper snake case, in any case of its ASCII
// letters, or a canonical decimal.
func oracleText(s string) (Reason, bool) {
	ascii := strings.IndexFunc(s, func(r rune) bool { return r > 0x7f }) < 0
	for _, c := range namedCodes {
		if ascii && (strings.EqualFold(s, c.name) || strings.EqualFold(s, c.snake)) {
			return c.r, true
		}
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || strconv.FormatUint(n, 10) != s {
		return 0, false
	}
	return Reason(n), true
}

func FuzzText(f *testing.F) {
	for _, c := range namedCodes {
		f.Add(c.name, uint16(c.code))
		f.Add(c.snake, uint16(c.code))
	}
	for _, s := range []string{"", "0", "01", "65535", "65536", "-1", "+1", "going_away", "goingaway", "Reason(4001)", "\u017ferviceRestart"} {
		f.Add(s, uint16(4001))
	}
	f.Fuzz(func(t *testing.T, s string, code uint16) {
		// Every code survives a round trip through its text form.
		text, err := Reason(code).MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Reason
		if err := back.UnmarshalText(text); err != nil || back != Reason(code) {
			t.Fatalf("UnmarshalText(MarshalText(%d)) = %d, %v", code, back, err)
		}

		// Arbitrary text is accepted exactly when the oracle knows it.
		var r Reason
		err = r.UnmarshalText([]byte(s))
		want, ok := oracleText(s)
		if (err == nil) != ok || ok && r != want {
			t.Fatalf("UnmarshalText(%q) = %d, %v; oracle says %d, %v", s, r, err, want, ok)
		}
		if err == nil {
			again, _ := r.MarshalText()
			var r2 Reason
			if err := r2.UnmarshalText(again); err != nil || r2 != r {
				t.Fatalf("round trip of %q through %q gave %d, %v", s, again, r2, err)
			}
		}
	})
}

// TestJSONMapKeys pins down what doc.go and the README say: a Reason value
// is a JSON number, but a Reason map key is its text form, both ways.
func TestJSONMapKeys(t *testing.T) {
	type doc struct {
		Code   Reason         `json:"code"`
		Counts map[Reason]int `json:"counts"`
	}
	in := doc{Code: GoingAway, Counts: map[Reason]int{GoingAway: 1, 4001: 2, NoStatus: 3}}
	out, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"code":1001,"counts":{"4001":2,"GoingAway":1,"NoStatus":3}}`
	if string(out) != want {
		t.Errorf("json.Marshal = %s, want %s", out, want)
	}
	var back doc
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.Code != in.Code || len(back.Counts) != 3 || back.Counts[GoingAway] != 1 || back.Counts[4001] != 2 || back.Counts[NoStatus] != 3 {
		t.Errorf("round trip gave %+v, want %+v", back, in)
	}
	// Keys in the other accepted spellings read too; an unknown one fails.
	if err := json.Unmarshal([]byte(`{"counts":{"GOING_AWAY":5,"1000":6}}`), &back); err != nil || back.Counts[GoingAway] != 5 || back.Counts[Normal] != 6 {
		t.Errorf("snake and numeric keys: %v, %v", back.Counts, err)
	}
	if err := json.Unmarshal([]byte(`{"counts":{"Bogus":1}}`), &back); !errors.Is(err, ErrUnknownName) {
		t.Errorf("unknown key: err = %v, want ErrUnknownName", err)
	}
}
