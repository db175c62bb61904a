package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
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
	if len(lines) != 5 || code != exitInvalid || lines[4] != "Reconnect report: 0 steps in 0 rows." {
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

// TestServeSIGTERM: the wsreason binary, stopped by SIGTERM as timeout,
// docker stop and systemd stop it, prints the report, with a connection
// still open at the stop as an event; -addr :0 prints a dialable URL and
// says the server is exposed.
func TestServeSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	cmd, url, stdout, stderr := startBinaryServe(t, "-addr", ":0", "-script", "1001")
	answer(t, url+"/")
	open, err := probe.Dial(context.Background(), url+"/close/1000?after=1m", probe.DialOptions{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v; want 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not stop it")
	}
	out := stdout.String()
	for _, want := range []string{"/close/1000?after=1m: sent nothing yet: it was waiting for after=; got still open when the server stopped", "\nReconnect report: 1 steps in 1 rows.\n", "not back"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr.String(), "which is not loopback") {
		t.Errorf("stderr %q does not warn that -addr :0 exposes the server", stderr.String())
	}
}

// startBinaryServe builds wsreason and runs wsreason serve with args; the
// test kills it. It returns the URL the server printed.
func startBinaryServe(t *testing.T, args ...string) (cmd *exec.Cmd, url string, stdout, stderr *syncBuffer) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wsreason")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd = exec.Command(bin, append([]string{"serve"}, args...)...)
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for end := time.Now().Add(10 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`Serving (ws://127\.0\.0\.1:\d+)/`).FindStringSubmatch(stdout.String() + stderr.String()); m != nil {
			url = m[1]
		}
		if time.Now().After(end) {
			t.Fatalf("no address printed: %q %q", stdout.String(), stderr.String())
		}
	}
	return cmd, url, stdout, stderr
}

// rssMiB is the resident memory of process pid, from /proc.
func rssMiB(t *testing.T, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc to read memory from: %v", err)
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmRSS in /proc/%d/status", pid)
	}
	kb, _ := strconv.Atoi(string(m[1]))
	return float64(kb) / 1024
}

// TestServeHostile drives the sequences that once took wsreason serve to
// gigabytes or to no answer at all: URLs with 900 KB reasons, thousands of
// /echo Closes of 65,535 bytes, more idle connections than it may hold,
// a foreign Host, a cross-origin POST. It keeps answering, refuses each
// with a clear status, and its memory stays under 64 MiB throughout.
func TestServeHostile(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	cmd, url, stdout, _ := startBinaryServe(t, "-addr", "127.0.0.1:0", "-json")
	pid, httpURL := cmd.Process.Pid, "http"+strings.TrimPrefix(url, "ws")
	const limit = 64.0
	peak := 0.0
	sample := func(when string) {
		if m := rssMiB(t, pid); m > peak {
			peak = m
		}
		if peak > limit {
			t.Fatalf("%s: %.1f MiB resident, over %v", when, peak, limit)
		}
	}
	status := func(req *http.Request) (int, string) {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return resp.StatusCode, string(body)
	}

	// 200 requests whose URL carries a 900 KB reason: refused at the
	// header's 16 KiB (431), or cut; nothing of them is kept.
	huge := "GET /close/1000?reason=" + strings.Repeat("x", 900<<10) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
	for i := range 200 {
		c, err := net.Dial("tcp", strings.TrimPrefix(url, "ws://"))
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		go c.Write([]byte(huge)) // the server stops reading at its bound
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if line != "" && !strings.Contains(line, " 431 ") {
			t.Fatalf("a 900 KB reason: %q, want 431 or a cut connection", line)
		}
		if i%50 == 0 {
			sample("900 KB reasons")
		}
	}
	sample("900 KB reasons")

	bigClose := wsframe.Append(nil, wsframe.OpClose, append([]byte{0x03, 0xe8}, strings.Repeat("r", 65533)...), &[4]byte{1, 2, 3, 4})
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				c, err := probe.Dial(context.Background(), url+"/echo", probe.DialOptions{Timeout: 5 * time.Second})
				if err != nil {
					t.Error(err)
					return
				}
				c.Write(bigClose)
				c.ReadReply()
				c.Close()
			}
		}()
	}
	for i := range 3000 {
		work <- i
		if i%500 == 0 {
			sample("65,535-byte Closes to /echo")
		}
	}
	close(work)
	wg.Wait()
	sample("65,535-byte Closes to /echo")

	idle := 1100
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < uint64(idle)+200 {
		idle = int(lim.Cur) - 200 // this process's own limit
	}
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range idle {
		c, err := net.Dial("tcp", strings.TrimPrefix(url, "ws://"))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// One more is refused at once, before it sends a request: read what
	// the server says.
	if c, err := net.Dial("tcp", strings.TrimPrefix(url, "ws://")); err == nil {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		refusal, _ := io.ReadAll(c)
		c.Close()
		if idle > probe.DefaultMaxConns && (!strings.HasPrefix(string(refusal), "HTTP/1.1 503 ") || !strings.Contains(string(refusal), "too many open connections")) {
			t.Errorf("with %d idle connections: %q, want 503 saying why", idle, refusal)
		}
	}
	sample("idle connections")
	for _, c := range held {
		c.Close()
	}
	held = nil

	req, _ := http.NewRequest("GET", httpURL+"/events", nil)
	req.Host = "attacker.example"
	if code, _ := status(req); code != http.StatusForbidden {
		t.Errorf("a foreign Host: %d, want 403", code)
	}
	req, _ = http.NewRequest("POST", httpURL+"/page-results", strings.NewReader("[]"))
	req.Header.Set("Origin", "http://evil.example")
	if code, _ := status(req); code != http.StatusForbidden {
		t.Errorf("a cross-origin POST: %d, want 403", code)
	}
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest("GET", httpURL+"/events?limit=1", nil)
		if code, _ := status(req); code == http.StatusOK {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the server no longer answers")
		}
	}
	sample("the end")
	if n := strings.Count(stdout.String(), "\n"); n < 3000 {
		t.Errorf("%d event lines, want one per /echo connection", n)
	}
	t.Logf("peak resident memory: %.1f MiB", peak)
}

// TestServeFleet: -fleet 3 holds three clients, closes them together with
// 1012, and the report judges their return at once wrong; -json ends with
// the fleet's object.
func TestServeFleet(t *testing.T) {
	url, out, stop := startServe(t, serveOptions{timeout: time.Second, fleet: 3, maxConns: 10, events: 10, json: true})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answer(t, url+"/")
			if c, err := probe.Dial(context.Background(), url+"/", probe.DialOptions{Timeout: time.Second}); err == nil {
				defer c.Close()
				time.Sleep(200 * time.Millisecond) // held open by the server
			}
		}()
	}
	wg.Wait()
	code := stop()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var fleet map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &fleet); err != nil {
		t.Fatalf("the last line is no JSON object: %v\n%s", err, out)
	}
	if code != exitInvalid || fleet["size"] != 3.0 || fleet["returns"] != 3.0 || fleet["verdict"] != "wrong" || !strings.Contains(fleet["rule"].(string), "1012") {
		t.Errorf("exit %d, fleet %v", code, fleet)
	}
}

// TestServeLines: an event's reason text is quoted, so that a reason with
// spaces or quotes reads as one; a client that has not come back says so
// in the reconnect table, and a row standing for several steps gives their
// range and count.
func TestServeLines(t *testing.T) {
	line := eventLine(probe.ConnEvent{Path: "/close/1001", Sent: "1001", Got: "1001", GotText: `going "away"`, Verdict: probe.OK})
	if !strings.Contains(line, `: sent 1001; got 1001 "going \"away\""; ok`) {
		t.Errorf("event line %q", line)
	}
	var b bytes.Buffer
	writeReconnects(&b, []probe.Reconnect{
		{Client: "127.0.0.1", Step: 1, Count: 1, Code: 1012, Advice: reasons.AdviceReconnectLater, Verdict: probe.Tolerated, Rule: "not back yet"},
		{Client: "127.0.0.1", Step: 2, Count: 3, Code: 1001, Advice: reasons.AdviceReconnect, Back: true, BackAfter: 1500 * time.Millisecond, Span: 3 * time.Second, Verdict: probe.OK},
	})
	out := b.String()
	for _, want := range []string{"Reconnect report: 4 steps in 2 rows.", "1012      reconnect later  not back", "2-4        1001      reconnect        1.5s (×3 in 3s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the reconnect table lacks %q:\n%s", want, out)
		}
	}
}
