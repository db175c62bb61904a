package reasonstest

import (
	"bytes"
	"testing"
)

// TestHexCut: a failure message shows at most 16 bytes of a Close body in
// hex, and the whole length when it cuts.
func TestHexCut(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{
		{0, ""},
		{16, "41414141414141414141414141414141"},
		{17, "41414141414141414141414141414141… (17 bytes)"},
		{125, "41414141414141414141414141414141… (125 bytes)"},
	} {
		if got := hexCut(bytes.Repeat([]byte("A"), c.n)); got != c.want {
			t.Errorf("%d bytes: %q, want %q", c.n, got, c.want)
		}
	}
}
