package main

import (
	"strings"
	"testing"
)

// TestRun: three rounds in which the peer is 2x, 4x and 3x slower; the
// median of reasons/peer is 1/3, and a benchmark without impl=reasons is
// left out.
func TestRun(t *testing.T) {
	var in strings.Builder
	for _, r := range []struct{ ours, peer string }{{"10", "20"}, {"10", "40"}, {"20", "60"}} {
		in.WriteString("goos: linux\n")
		in.WriteString("BenchmarkBody/op=format/impl=reasons-2   100   " + r.ours + ".0 ns/op   24 B/op   1 allocs/op\n")
		in.WriteString("BenchmarkBody/op=format/impl=gorilla-2   100   " + r.peer + ".0 ns/op   24 B/op   1 allocs/op\n")
		in.WriteString("BenchmarkOther/impl=coder-2   100   5.0 ns/op\n")
	}
	var out strings.Builder
	if err := run(strings.NewReader(in.String()), &out); err != nil {
		t.Fatal(err)
	}
	want := "time of impl=reasons over time of impl=X in the same round, over 3 rounds\n" +
		"benchmark                    impl                     median  quartiles\n" +
		"Body/op=format               gorilla                   0.333  0.292-0.417\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	if err := run(strings.NewReader("PASS\n"), &out); err == nil {
		t.Error("no rounds: no error")
	}
}
