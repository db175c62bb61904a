package interop

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated tables in README.md")

// checkReadmeSection compares the part of README.md between the markers
// <!-- BEGIN name --> and <!-- END name --> with content, the table a test
// built from what it observed. With -update it rewrites that part instead.
func checkReadmeSection(t *testing.T, name, content string) {
	t.Helper()
	begin, end := "<!-- BEGIN "+name+" -->\n", "<!-- END "+name+" -->"
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(readme), begin)
	current, after, ok2 := strings.Cut(rest, end)
	if !ok1 || !ok2 {
		t.Fatalf("README.md lacks the markers %q and %q", begin, end)
	}
	if current == content {
		return
	}
	if !*update {
		t.Errorf("README.md's %q table differs from what the test observed; if the change is intended, rerun with -update.\nobserved:\n%s", name, content)
		return
	}
	if err := os.WriteFile("README.md", []byte(before+begin+content+end+after), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReadmeTables writes the interop tables from the expectation tables
// that TestPairs, TestRawCloseFrames and TestBrowserCloseCodes assert
// against real connections, so the README says exactly what those tests
// check.
func TestReadmeTables(t *testing.T) {
	var b strings.Builder
	b.WriteString("| receiving library | valid codes it refuses (fails the connection with 1002) |\n|---|---|\n")
	for _, lib := range pairServers() {
		var codes []string
		for _, r := range refusedOnReceipt[lib.name] {
			codes = append(codes, fmt.Sprintf("%d %v", r, r))
		}
		if codes == nil {
			codes = []string{"none"}
		}
		fmt.Fprintf(&b, "| %s | %s |\n", lib.name, strings.Join(codes, ", "))
	}
	checkReadmeSection(t, "pairs", b.String())

	b.Reset()
	b.WriteString("| Close frame body | RFC 6455 |")
	for _, s := range rawServers {
		b.WriteString(" " + s.lib.name + " |")
	}
	b.WriteString(" chromium | chromium CloseEvent.code |\n|---|---|" + strings.Repeat("---|", len(rawServers)+2) + "\n")
	mark := func(got, rfc string) string {
		if got != rfc {
			return "**" + got + "**"
		}
		return got
	}
	for _, c := range rawCases {
		fmt.Fprintf(&b, "| %s | %s |", c.name, c.rfc)
		for _, s := range rawServers {
			got, deviates := s.want[c.name]
			if !deviates {
				got = c.rfc
			}
			b.WriteString(" " + mark(got, c.rfc) + " |")
		}
		chromium, ok := chromiumRaw[c.name]
		if !ok {
			t.Errorf("chromiumRaw has no entry for %q", c.name)
		}
		fmt.Fprintf(&b, " %s | %d |\n", mark(chromium.reply, c.rfc), chromium.event)
	}
	checkReadmeSection(t, "raw", b.String())
}
