package reasons

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAdviceAllCodes holds Advice for all 65536 codes against a table
// written here from the sources in the package doc, not from advice.go.
func TestAdviceAllCodes(t *testing.T) {
	named := map[int]Advice{
		1000: AdviceDone,
		1001: AdviceReconnect, 1005: AdviceReconnect, 1006: AdviceReconnect, 1011: AdviceReconnect, 1014: AdviceReconnect,
		1002: AdviceFix, 1003: AdviceFix, 1004: AdviceFix, 1007: AdviceFix, 1009: AdviceFix, 1010: AdviceFix, 1015: AdviceFix,
		1008: AdviceDenied, 3000: AdviceDenied, 3003: AdviceDenied,
		1012: AdviceReconnectLater,
		1013: AdviceElsewhere,
		3008: AdviceReconnect,
	}
	counts := map[Advice]int{}
	for c := 0; c <= 65535; c++ {
		want, ok := named[c]
		switch {
		case ok:
		case c >= 3000 && c <= 4999:
			want = AdviceApplication
		default: // 0-999, unassigned 1016-2999, 5000 and up
			want = AdviceFix
		}
		got := Reason(c).Advice()
		if got != want {
			t.Errorf("Reason(%d).Advice() = %v, want %v", c, got, want)
		}
		counts[got]++
	}
	if len(counts) != 7 || counts[0] != 0 {
		t.Errorf("advice used: %v, want each of the seven and never the zero value", counts)
	}
}

func TestAdviceString(t *testing.T) {
	for a, want := range map[Advice]string{
		AdviceDone: "done", AdviceReconnect: "reconnect", AdviceReconnectLater: "reconnect later",
		AdviceElsewhere: "elsewhere", AdviceFix: "fix", AdviceDenied: "denied", AdviceApplication: "application",
		0: "Advice(0)", 8: "Advice(8)", 255: "Advice(255)",
	} {
		if got := a.String(); got != want {
			t.Errorf("Advice(%d).String() = %q, want %q", uint8(a), got, want)
		}
	}
}

func TestAdviceDelay(t *testing.T) {
	for a := Advice(0); a < 10; a++ {
		lo, hi := a.Delay()
		want := a == AdviceReconnectLater
		if got := lo == 5*time.Second && hi == 30*time.Second; got != want || !want && (lo != 0 || hi != 0) {
			t.Errorf("%v.Delay() = %v, %v", a, lo, hi)
		}
	}
}

// TestAdviceText: JSON carries each advice by the name written here by
// hand, reads it back, and refuses what is none of them.
func TestAdviceText(t *testing.T) {
	names := map[Advice]string{AdviceDone: "done", AdviceReconnect: "reconnect", AdviceReconnectLater: "reconnect later",
		AdviceElsewhere: "elsewhere", AdviceFix: "fix", AdviceDenied: "denied", AdviceApplication: "application"}
	for a, name := range names {
		b, err := json.Marshal(a)
		if err != nil || string(b) != `"`+name+`"` {
			t.Errorf("json.Marshal(%d) = %s, %v; want %q", a, b, err, name)
		}
		var back Advice
		if err := json.Unmarshal(b, &back); err != nil || back != a {
			t.Errorf("json.Unmarshal(%s) = %d, %v; want %d", b, back, err, a)
		}
	}
	if _, err := json.Marshal(Advice(0)); err == nil || !strings.Contains(err.Error(), "advice 0") {
		t.Errorf("json.Marshal(Advice(0)): %v, want an error naming it", err)
	}
	var a Advice
	if err := a.UnmarshalText([]byte("retry")); err == nil || !strings.Contains(err.Error(), `"retry"`) {
		t.Errorf(`UnmarshalText("retry"): %v, want an error naming it`, err)
	}
}
