package interop

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/probe"
)

// A scripted peer is a WebSocket library outside Go, run as a process that
// speaks the JSON-line protocol of testdata/node/peer.js: Node's ws and
// Python's websockets. The test starts it on 127.0.0.1 and kills it, by its
// PID, when the test ends.
type scriptedPeer struct {
	name      string // as the tables name it
	peer      outsidePeer
	dir       string // its directory, the process's working directory
	script    string
	closeCall string // the peer's close call, as its users write it
	// closeRefuses lists where the peer's own close call departs from
	// Valid and MaxTextLen: by refusalKey, "accepted" or "refused".
	closeRefuses map[string]string
}

var (
	nodeWS = scriptedPeer{name: "node-ws", dir: "testdata/node", script: "peer.js", closeCall: "ws.close(code, reason)",
		peer: outsidePeer{name: "Node ws", path: "node", files: []string{"testdata/node/node_modules/ws/package.json"},
			install: "npm ci in interop/testdata/node"}}
	pythonWebsockets = scriptedPeer{name: "python-websockets", dir: "testdata/python", script: "peer.py", closeCall: "await ws.close(code, reason)",
		peer: outsidePeer{name: "Python websockets", path: "/usr/bin/python3",
			files: []string{"/usr/lib/python3/dist-packages/websockets/__init__.py"}, install: "Debian package python3-websockets"}}
	scriptedPeers = []scriptedPeer{nodeWS, pythonWebsockets}
)

// library is the peer as a server that answers on its own, for the raw
// Close frame table.
func (sp scriptedPeer) library() library {
	return library{name: sp.name, answering: func(t testing.TB) string { return startScripted(t, sp).url + "/answer" }}
}

// peerReport is one line the peer prints.
type peerReport struct {
	ID      string `json:"id"`
	Port    int    `json:"port"`
	Code    int    `json:"code"`
	Reason  string `json:"reason"` // hex
	Refused string `json:"refused"`
	Error   string `json:"error"`
}

// scriptedProc is a running scripted peer.
type scriptedProc struct {
	url   string // ws://127.0.0.1:PORT
	stdin io.Writer

	mu      sync.Mutex
	seq     int
	reports map[string]chan peerReport
}

// startScripted starts sp, or skips (or fails) the test when its outside
// peer is missing.
func startScripted(t testing.TB, sp scriptedPeer) *scriptedProc {
	path := sp.peer.need(t)
	cmd := exec.Command(path, sp.script)
	cmd.Dir = sp.dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", sp.name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("%s (pid %d) did not exit after being killed", sp.name, cmd.Process.Pid)
		}
	})
	p := &scriptedProc{stdin: stdin, reports: map[string]chan peerReport{}}
	lines := bufio.NewScanner(stdout)
	first := make(chan peerReport, 1)
	go func() {
		for lines.Scan() {
			var r peerReport
			if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
				continue
			}
			if r.Port != 0 {
				first <- r
				continue
			}
			p.channel(r.ID) <- r
		}
	}()
	select {
	case r := <-first:
		p.url = "ws://127.0.0.1:" + strconv.Itoa(r.Port)
	case <-exited:
		t.Fatalf("%s exited before it listened:\n%s", sp.name, stderr.String())
	case <-time.After(timeout):
		t.Fatalf("%s did not say its port within %v:\n%s", sp.name, timeout, stderr.String())
	}
	return p
}

// lockedBuffer collects a process's stderr for failure messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// channel is where the report for id arrives.
func (p *scriptedProc) channel(id string) chan peerReport {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch, ok := p.reports[id]
	if !ok {
		ch = make(chan peerReport, 1)
		p.reports[id] = ch
	}
	return ch
}

func (p *scriptedProc) newID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	return strconv.Itoa(p.seq)
}

// await waits for the report of connection id.
func (p *scriptedProc) await(id string) (peerReport, error) {
	select {
	case r := <-p.channel(id):
		if r.Error != "" {
			return r, errors.New(r.Error)
		}
		return r, nil
	case <-time.After(timeout + 2*time.Second):
		return peerReport{}, fmt.Errorf("no report for connection %s", id)
	}
}

// command sends the peer a client command and returns the connection's id.
func (p *scriptedProc) command(action, url string, code reasons.Reason, text string) string {
	id := p.newID()
	line, _ := json.Marshal(map[string]any{"id": id, "action": action, "url": url, "code": code, "reason": hex.EncodeToString([]byte(text))})
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stdin.Write(append(line, '\n'))
	return id
}

// closePath is the path on which the peer's server closes with r and text.
func closePath(id string, r reasons.Reason, text string) string {
	return fmt.Sprintf("/close/%s?code=%d&reason=%s", id, r, url.QueryEscape(hex.EncodeToString([]byte(text))))
}

// checkReport checks a peer's report of the Close it received, r and text,
// against refusedOnReceipt.
func checkReport(t *testing.T, peer string, r reasons.Reason, text string, rep peerReport, err error) {
	t.Helper()
	got, herr := hex.DecodeString(rep.Reason)
	switch {
	case slices.Contains(refusedOnReceipt[peer], r):
		if err == nil && rep.Code == int(r) {
			t.Errorf("%d %q: %s is listed as refusing it, but reported it", r, text, peer)
		}
	case err != nil || herr != nil:
		t.Errorf("%d %q: %s: %v %v", r, text, peer, err, herr)
	case rep.Code != int(r) || string(got) != text:
		t.Errorf("sent %d %q, %s reported %d %q", r, text, peer, rep.Code, got)
	}
}

// TestScriptedPeers runs the pair test's cases through Node's ws and
// Python's websockets, as receivers and as senders, and their close calls'
// refusals.
func TestScriptedPeers(t *testing.T) {
	t.Parallel()
	for _, sp := range scriptedPeers {
		t.Run(sp.name, func(t *testing.T) {
			proc := startScripted(t, sp)
			reference := startServer(t, library{name: "reasons", accept: acceptReference})
			gorilla := startServer(t, libraries[0])
			t.Run("receives", func(t *testing.T) { scriptedReceives(t, sp, proc, reference) })
			t.Run("sends", func(t *testing.T) { scriptedSends(t, sp, proc, reference, gorilla) })
			t.Run("close_refusals", func(t *testing.T) { scriptedRefusals(t, sp, proc, gorilla) })
		})
	}
}

// scriptedReceives: our reference server closes the peer's client
// connection, and a gorilla client closes a connection to the peer's server,
// with every sendable code and text.
func scriptedReceives(t *testing.T, sp scriptedPeer, proc *scriptedProc, reference *server) {
	for _, r := range sendableCodes {
		for _, text := range closeTexts {
			id := proc.command("recv", reference.url+"/", 0, "")
			ep, err := reference.next()
			if err != nil {
				t.Fatal(err)
			}
			body, err := reasons.Format(r, text)
			if err != nil {
				t.Fatal(err)
			}
			ref := ep.(*referenceEndpoint)
			ref.writeClose(body)
			ref.readClose() // the peer's reply
			ep.drop()       // a client waits for the server to close TCP
			rep, err := proc.await(id)
			checkReport(t, sp.name, r, text, rep, err)

			id = proc.newID()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			c, err := dialGorilla(ctx, proc.url+"/recv/"+id)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			// gorilla checks for the echo of its code, and refuses the
			// echo of a code it refuses.
			if err := c.closeWith(r, text); (err != nil) != slices.Contains(refusedOnReceipt["gorilla"], r) {
				t.Errorf("%d %q: gorilla's close, answered by %s: %v", r, text, sp.name, err)
			}
			c.drop()
			rep, err = proc.await(id)
			checkReport(t, sp.name, r, text, rep, err)
		}
	}
}

// scriptedSends: the peer's server and the peer's client close with every
// sendable code and text; reasons.Parse reads the body on the wire, and
// reasons.FromError reads gorilla's error.
func scriptedSends(t *testing.T, sp scriptedPeer, proc *scriptedProc, reference, gorilla *server) {
	want := func(how string, r reasons.Reason, text string, got reasons.Reason, gotText string, ok bool) {
		t.Helper()
		if strings.Contains(how, "gorilla") && slices.Contains(refusedOnReceipt["gorilla"], r) {
			if ok {
				t.Errorf("%s closed with %d: gorilla refuses it, yet %s gives %d %q", sp.name, r, how, got, gotText)
			}
			return
		}
		if !ok || got != r || gotText != text {
			t.Errorf("%s closed with %d %q: %s gives %d %q (%v)", sp.name, r, text, how, got, gotText, ok)
		}
	}
	for _, r := range sendableCodes {
		for _, text := range closeTexts {
			// The peer's server closes: a raw client reads the body, a
			// gorilla client the error.
			c, err := probe.Dial(context.Background(), proc.url+closePath(proc.newID(), r, text), probe.DialOptions{Timeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			reply := c.ReadReply()
			c.Close()
			pr, ptext, perr := reasons.Parse(reply.Body)
			want("Parse on the raw client", r, text, pr, ptext, perr == nil && !reply.Dropped && !reply.TimedOut)

			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			g, err := dialGorilla(ctx, proc.url+closePath(proc.newID(), r, text))
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			fr, ftext, ok := reasons.FromError(g.readErr(timeout))
			g.drop()
			want("FromError on gorilla's error", r, text, fr, ftext, ok)

			// The peer's client closes: our reference server parses the
			// body, a gorilla server's error goes to FromError.
			proc.command("close", reference.url+"/", r, text)
			ep, err := reference.next()
			if err != nil {
				t.Fatal(err)
			}
			ref := ep.(*referenceEndpoint)
			body, err := ref.readClose()
			ep.drop()
			pr, ptext, perr = reasons.Parse(body)
			want("Parse on our server", r, text, pr, ptext, err == nil && perr == nil)

			proc.command("close", gorilla.url+"/", r, text)
			ep, err = gorilla.next()
			if err != nil {
				t.Fatal(err)
			}
			fr, ftext, ok = reasons.FromError(ep.(libraryEndpoint).readErr(timeout))
			ep.drop()
			want("FromError on a gorilla server's error", r, text, fr, ftext, ok)
		}
	}
}

// scriptedRefusals has the peer's client close with each of refusalCodes,
// and with reasons of 123 and 124 bytes, and compares what its close call
// refuses with Valid and MaxTextLen.
func scriptedRefusals(t *testing.T, sp scriptedPeer, proc *scriptedProc, gorilla *server) {
	for _, c := range closeRefusalCases() {
		id := proc.command("close", gorilla.url+"/", reasons.Reason(c.Code), c.Reason)
		ep, err := gorilla.next()
		if err != nil {
			t.Fatal(err)
		}
		go func() { ep.awaitClose(); ep.drop() }()
		rep, err := proc.await(id)
		got := "accepted"
		if rep.Refused != "" {
			got = "refused"
		} else if err != nil {
			t.Errorf("%s: %v", refusalKey(c), err)
			continue
		}
		want := "accepted"
		if !reasons.Reason(c.Code).Valid() || len(c.Reason) > reasons.MaxTextLen {
			want = "refused"
		}
		if dev, ok := sp.closeRefuses[refusalKey(c)]; ok {
			if dev == want {
				t.Errorf("%s's refusal list repeats what Valid and MaxTextLen say for %s", sp.name, refusalKey(c))
			}
			want = dev
		}
		if got != want {
			t.Errorf("close(%s): %s %s (%s), want %s", refusalKey(c), sp.name, got, rep.Refused, want)
		}
	}
}

// closeRefusalCases are refusalCodes with a 1-byte reason, and 1000 with
// reasons of 123 and 124 bytes.
func closeRefusalCases() []browserClose {
	var cases []browserClose
	for _, code := range refusalCodes {
		cases = append(cases, browserClose{Code: code, Reason: "x"})
	}
	return append(cases,
		browserClose{Code: 1000, Reason: closeTexts[3]},
		browserClose{Code: 1000, Reason: closeTexts[3] + "b"})
}
