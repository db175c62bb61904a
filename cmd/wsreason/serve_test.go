package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsreasons/reasons/internal/wsframe"
	"github.com/wsreasons/reasons/probe"
)

// syncBuffer is a bytes.Buffer safe to write from the server and read from
// the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs serve on a free port until the returned stop is called,
// which returns the exit status.
func startServe(t *testing.T, opts serveOptions) (url string, out *syncBuffer, stop func() int) {
	t.Helper()
	opts.addr = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- serve(ctx, opts, out, &stderr) }()
	addr := regexp.MustCompile(`^Serving ws://(127\.0\.0\.1:\d+)/`)
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end) && url == ""; time.Sleep(10 * time.Millisecond) {
		for _, s := range []string{out.String(), stderr.String()} {
			if m := addr.FindStringSubmatch(s); m != nil {
				url = "ws://" + m[1]
			}
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("serve printed no address: %q, stderr %q", out.String(), stderr.String())
	}
	return url, out, func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(5 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
}

// answer dials path, reads the server's Close frame and echoes its code,
// masked, as a careful client does.
func answer(t *testing.T, url string) {
	t.Helper()
	c, err := probe.Dial(context.Background(), url, probe.DialOptions{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := c.ReadReply()
	c.Write(wsframe.Append(nil, wsframe.OpClose, got.Body[:min(len(got.Body), 2)], &[4]byte{1, 2, 3, 4}))
	c.AwaitTCPClose()
}

func TestServeEvents(t *testing.T) {
	url, out, stop := startServe(t, serveOptions{timeout: time.Second})
	answer(t, url+"/close/1001?reason=bye")
	answer(t, url+"/close/1005")
	time.Sleep(50 * time.Millisecond)
	code := stop()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || code != exitInvalid {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	first := regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d\d\d  /close/1001\?reason=bye: sent Close 03 e9 62 79 65; got 1001; ok$`)
	second := regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d\d\d  /close/1005: sent Close 03 ed; got 1005; wrong: sent code 1005, which must not be set in a Close frame \(§7\.4\.1\)$`)
	if !first.MatchString(lines[1]) || !second.MatchString(lines[2]) {
		t.Errorf("lines:\n%s\n%s", lines[1], lines[2])
	}
}

func TestServeScriptJSON(t *testing.T) {
	opts := serveOptions{timeout: time.Second, json: true}
	opts.script = append(opts.script, 1013, 1000)
	url, out, stop := startServe(t, opts)
	answer(t, url+"/")
	answer(t, url+"/")
	time.Sleep(50 * time.Millisecond)
	code := stop()
	var verdicts []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("%q is not a JSON object: %v", line, err)
		}
		verdicts = append(verdicts, obj["verdict"].(string))
	}
	// Two events (both echoed: ok), then two report rows: back after 1013
	// (wrong), and not back after 1000 (ok).
	if strings.Join(verdicts, " ") != "ok ok wrong ok" || code != exitInvalid {
		t.Errorf("exit %d, verdicts %q:\n%s", code, verdicts, out)
	}
}
