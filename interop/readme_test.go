package interop

import (
	"flag"
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
