package interop

import (
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons/reasonstest"
)

// TestServePage runs wsreason serve's page (reasonstest's) in each headless
// browser: the page runs the close cases in the browser, builds its table,
// and posts the table read back from its DOM. Every row must carry the
// server's verdict on what the browser sent. Chromium also takes a
// screenshot of the page, which must be a PNG that is not blank.
func TestServePage(t *testing.T) {
	t.Parallel()
	for _, b := range browsers {
		t.Run(b.name, func(t *testing.T) {
			path := b.peer.need(t)
			srv := reasonstest.NewServer(reasonstest.ClientTimeout(2 * time.Second))
			defer srv.Close()
			pageURL := "http" + strings.TrimPrefix(srv.URL, "ws") + "/"
			done := make(chan struct{})
			go func() {
				for end := time.Now().Add(browserTimeout); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
					if len(srv.PageRows()) > 0 {
						close(done)
						return
					}
				}
			}()
			launchBrowser(t, b, path, pageURL, done, b.args)
			checkPageRows(t, srv)
			if b.name == "chromium" {
				screenshot(t, path, pageURL+"report")
			}
		})
	}
}

// checkPageRows checks the table the page posted against the server's own
// events and against what package reasons says a browser may send.
func checkPageRows(t *testing.T, srv *reasonstest.Server) {
	t.Helper()
	rows := srv.PageRows()
	if len(rows) != 36 {
		t.Fatalf("the page's table has %d rows, want 36 (27 server closes, 9 close() calls): %q", len(rows), rows)
	}
	events := map[string]reasonstest.Event{}
	for _, e := range srv.Events() {
		events[e.Path] = e
	}
	for i, r := range rows {
		if len(r) != 5 {
			t.Errorf("row %d has %d cells: %q", i, len(r), r)
			continue
		}
		label, verdict := r[0], r[3]
		switch {
		case strings.HasPrefix(label, "the server closes with "):
			// The verdict is the server's judgment of the browser's answer.
			found := false
			for path, e := range events {
				if strings.HasPrefix(path, "/close/"+strings.TrimPrefix(label, "the server closes with ")+"?") && e.Got == firstWord(r[2]) {
					found = found || string(e.Verdict) == verdict
				}
			}
			if !found {
				t.Errorf("row %q: no server event with that answer and verdict", r)
			}
		case strings.HasPrefix(label, "close("):
			// The browsers refuse exactly the codes BrowserCloseable says
			// no to (TestBrowserCloseCodes asserts it): every call is ok.
			if verdict != "ok" {
				t.Errorf("row %q: want ok", r)
			}
		default:
			t.Errorf("row %q is no case of the page", r)
		}
	}
	want := map[string]string{
		"the server closes with 1000": "CloseEvent 1000 \"bye\", clean",
		"close(1001, \"x\")":          "threw InvalidAccessError",
		"close(4001, \"x\")":          "sent it; CloseEvent 4001",
	}
	for _, r := range rows {
		if w, ok := want[r[0]]; ok && r[1] != w {
			t.Errorf("%s: the browser column says %q, want %q", r[0], r[1], w)
		}
	}
}

// firstWord is the reply in a "the server saw" cell, without its quoted
// reason text.
func firstWord(s string) string {
	if i := strings.Index(s, " \""); i >= 0 {
		return s[:i]
	}
	return s
}

// screenshot takes a picture of the report, the page's table as the page
// posted it, with headless Chromium, and checks that it is a PNG that shows
// the table: many pixels of the ok cells' green.
func screenshot(t *testing.T, path, url string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "page.png")
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--window-size=1000,1400",
		"--screenshot="+file, url)
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is no PNG: %v", err)
	}
	green := 0 // pixels of td.ok's #d9f2d9
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 == 0xd9 && g>>8 == 0xf2 && b>>8 == 0xd9 {
				green++
			}
		}
	}
	if green < 10000 {
		t.Errorf("the screenshot has %d pixels of the ok cells' green: no table", green)
	}
	if dir := os.Getenv("REASONS_SCREENSHOT_DIR"); dir != "" {
		data, _ := os.ReadFile(file)
		os.WriteFile(filepath.Join(dir, "serve-page.png"), data, 0o644)
	}
}
