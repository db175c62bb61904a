package interop

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// An outside peer is a program that is not a Go module: a browser, or a
// runtime with a WebSocket library. `make peers` installs every one of them.
//
// A test whose peer is missing skips, so that `make test` passes on a bare
// machine, and records the skip in the file named by REASONS_SKIPPED, from
// which `make test` prints its summary. With REASONS_REQUIRE_PEERS=1, as CI
// sets it, a missing peer fails the test instead.
type outsidePeer struct {
	name    string   // as the skip summary names it
	path    string   // the program, absolute or looked up on PATH
	files   []string // files it needs besides, such as its library's
	install string   // what `make peers` installs for it
}

var (
	chromium = outsidePeer{name: "Chromium", path: "/usr/bin/chromium", install: "Debian package chromium"}
	firefox  = outsidePeer{name: "Firefox", path: "/usr/bin/firefox-esr", install: "Debian package firefox-esr"}
)

// need returns the path of p's program, or ends the test: a skip, or a
// failure under REASONS_REQUIRE_PEERS=1.
func (p outsidePeer) need(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath(p.path)
	for _, f := range p.files {
		if err == nil {
			_, err = os.Stat(f)
		}
	}
	if err == nil {
		return path
	}
	why := fmt.Sprintf("%s is missing (%v); `make peers` installs it (%s)", p.name, err, p.install)
	if os.Getenv("REASONS_REQUIRE_PEERS") == "1" {
		t.Fatalf("REASONS_REQUIRE_PEERS=1: %s", why)
	}
	recordSkip(t, p)
	t.Skip(why)
	return ""
}

// recordSkip appends one line, "TEST\tPEER\tINSTALL", to the file named by
// REASONS_SKIPPED, if it is set.
func recordSkip(t testing.TB, p outsidePeer) {
	name := os.Getenv("REASONS_SKIPPED")
	if name == "" {
		return
	}
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Logf("cannot record the skip in %s: %v", name, err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s\t%s\t%s\n", t.Name(), p.name, p.install)
}
