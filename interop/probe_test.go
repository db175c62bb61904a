package interop

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	gorillaws "github.com/gorilla/websocket"

	"github.com/wsreasons/reasons/probe"
	"github.com/wsreasons/reasons/reasonstest"
)

// probeRun is one run of the built wsreason probe.
type probeRun struct {
	exit           int
	stdout, stderr string
	took           time.Duration
}

func runProbe(t *testing.T, bin string, args ...string) probeRun {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"probe"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	start := time.Now()
	err := cmd.Run()
	var exit *exec.ExitError
	run := probeRun{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	switch {
	case errors.As(err, &exit):
		run.exit = exit.ExitCode()
	case err != nil:
		t.Fatalf("wsreason probe %v: %v", args, err)
	}
	return run
}

// probeCase is one case of wsreason probe -json's document, every field.
type probeCase struct {
	Case            string `json:"case"`
	Autobahn        string `json:"autobahn"`
	AutobahnLike    string `json:"autobahn_like"`
	Sent            string `json:"sent"`
	Requires        string `json:"requires"`
	Want            string `json:"want"`
	AutobahnAccepts string `json:"autobahn_accepts"`
	Got             string `json:"got"`
	GotText         string `json:"got_text"`
	GotBytes        string `json:"got_bytes"`
	Verdict         string `json:"verdict"`
	Rule            string `json:"rule"`
	Grade           string `json:"autobahn_grade"`
	Note            string `json:"autobahn_note"`
}

// probeDoc is wsreason probe -json's document.
type probeDoc struct {
	URL, Timeout, Error string
	Cases               []probeCase
	Summary             struct {
		OK, Tolerated, Wrong int
		AutobahnFails        int `json:"autobahn_fails"`
	}
}

func parseProbeJSON(t *testing.T, run probeRun) probeDoc {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(run.stdout))
	dec.DisallowUnknownFields() // a field this test does not compare fails it
	var doc probeDoc
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("wsreason probe -json printed no JSON document of the known fields (%v):\n%s\nstderr: %s", err, run.stdout, run.stderr)
	}
	if len(doc.Cases) != len(rawCases) {
		t.Fatalf("%d cases in the JSON document, want %d", len(doc.Cases), len(rawCases))
	}
	return doc
}

// checkAgainstTable checks a -json document against lib's column of the
// raw table (reply and verdict, written by hand), and every other field
// against the case list and the same server's report from reasonstest.
func checkAgainstTable(t *testing.T, doc probeDoc, lib, url string, opts ...reasonstest.Option) {
	t.Helper()
	var want map[string]string
	for _, s := range rawServers {
		if s.lib.name == lib {
			want = s.want
		}
	}
	rep, err := reasonstest.RunServer(context.Background(), url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var counts [3]int
	for i, c := range rawCases {
		got, res := doc.Cases[i], rep.Results[i]
		reply, verdict, _ := expected(t, want, c)
		counts[slices.Index([]probe.Verdict{probe.OK, probe.Tolerated, probe.Wrong}, verdict)]++
		grade := string(c.Grade(parseReplyTo(t, c, reply)))
		wantCase := probeCase{
			Case: c.Name, Autobahn: c.Autobahn, AutobahnLike: c.Expect.Like, Sent: hex.EncodeToString(c.Payload),
			Requires: c.Requires(), Want: c.Want().String(), AutobahnAccepts: c.AutobahnAccepts(),
			Got: reply, GotText: viaJSON(res.GotText), GotBytes: hex.EncodeToString(res.GotBytes),
			Verdict: string(verdict), Rule: res.Rule, Grade: grade, Note: res.GradeNote,
		}
		// The bytes that came back start with the code the table writes.
		if r := parseReplyTo(t, c, reply); !r.Dropped && !r.TimedOut && !strings.HasPrefix(got.GotBytes, hex.EncodeToString(r.Body)) {
			t.Errorf("%s: got_bytes %q, but the table's reply %s is the body %x", c.Name, got.GotBytes, reply, r.Body)
		}
		if got != wantCase {
			t.Errorf("%s: the probe's JSON says\n%+v\nwant\n%+v", c.Name, got, wantCase)
		}
		if (got.Rule == "") != (verdict == probe.OK) {
			t.Errorf("%s: verdict %s with rule %q", c.Name, verdict, got.Rule)
		}
	}
	if s := doc.Summary; s.OK != counts[0] || s.Tolerated != counts[1] || s.Wrong != counts[2] || s.AutobahnFails != rep.Summary().AutobahnFails {
		t.Errorf("summary %+v, want %d ok, %d tolerated, %d wrong by the table", s, counts[0], counts[1], counts[2])
	}
}

// probeLibrary runs wsreason probe -json against a server on lib.
func probeLibrary(t *testing.T, bin string, lib library) {
	url := startAnswering(t, lib)
	run := runProbe(t, bin, "-json", url)
	doc := parseProbeJSON(t, run)
	checkAgainstTable(t, doc, lib.name, url)
	wantExit := 0
	if doc.Summary.Wrong > 0 {
		wantExit = 1
	}
	if run.exit != wantExit {
		t.Errorf("exit %d with %d wrong, want %d", run.exit, doc.Summary.Wrong, wantExit)
	}
	if lib.name == "reasons" && doc.Summary.OK != len(rawCases) {
		t.Errorf("reference endpoint: %+v, want every case ok", doc.Summary)
	}
}

// TestProbeCommand runs the wsreason binary's probe against real servers:
// the libraries' and ours, over ws:// and wss://, and servers that refuse,
// are not WebSocket servers, or never answer.
func TestProbeCommand(t *testing.T) {
	t.Parallel()
	bin := buildWsreason(t)

	t.Run("every library", func(t *testing.T) {
		for _, s := range rawServers {
			t.Run(s.lib.name, func(t *testing.T) { probeLibrary(t, bin, s.lib) })
		}
	})

	t.Run("text", func(t *testing.T) {
		run := runProbe(t, bin, startAnswering(t, library{name: "reasons", accept: acceptReference}))
		if run.exit != 0 || !strings.HasSuffix(run.stdout, "\n47 cases: 47 ok, 0 tolerated, 0 wrong; Autobahn fails 0 of its cases.\n") || run.stderr != "" {
			t.Errorf("exit %d, stdout:\n%s\nstderr: %s", run.exit, run.stdout, run.stderr)
		}
	})

	t.Run("TLS with a self-signed certificate", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ep, err := acceptGorilla(w, r)
			if err == nil {
				ep.awaitClose()
				ep.drop()
			}
		}))
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused certificate is expected
		srv.StartTLS()
		defer srv.Close()
		url := "wss" + strings.TrimPrefix(srv.URL, "https")
		run := runProbe(t, bin, url)
		if run.exit != 2 || !strings.Contains(run.stderr, "certificate") || !strings.Contains(run.stderr, "add -insecure") || strings.Contains(run.stdout, "VERDICT") {
			t.Errorf("without -insecure: exit %d, stderr %q, stdout %q; want 2 and a certificate error", run.exit, run.stderr, run.stdout)
		}
		run = runProbe(t, bin, "-insecure", "-json", url)
		checkAgainstTable(t, parseProbeJSON(t, run), "gorilla", url, reasonstest.Insecure())
		if run.exit != 1 {
			t.Errorf("with -insecure: exit %d, want 1 (gorilla refuses 1014)", run.exit)
		}
	})

	t.Run("handshake refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, status, body, want string
		}{
			{"403", "403", "no token", `403 Forbidden, not 101 Switching Protocols (body: "no token")`},
			{"not WebSocket", "200", "<html>hello</html>", `200 OK, not 101 Switching Protocols (body: "hello")`},
		} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status == "403" {
					w.WriteHeader(http.StatusForbidden)
				}
				io.WriteString(w, tc.body+"\n")
			}))
			url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
			run := runProbe(t, bin, url)
			srv.Close()
			want := "wsreason probe: handshake with " + url + ": the server answered " + tc.want + "\n"
			wantOut := "Probing " + url + ", one connection per case, 4 at a time (timeout 5s per case).\n\n"
			if run.exit != 2 || run.stderr != want || run.stdout != wantOut {
				t.Errorf("%s: exit %d, stderr %q, stdout %q; want 2 and %q", tc.name, run.exit, run.stderr, run.stdout, want)
			}
		}
	})

	t.Run("server that never answers", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := (&gorillaws.Upgrader{}).Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			select { // holds the connection, reading nothing
			case <-release:
			case <-time.After(30 * time.Second):
			}
		}))
		defer srv.Close()
		defer close(release)
		run := runProbe(t, bin, "-json", "-timeout", "300ms", "ws"+strings.TrimPrefix(srv.URL, "http"))
		doc := parseProbeJSON(t, run)
		for _, c := range doc.Cases {
			if c.Got != "timed out" || c.Verdict != "wrong" {
				t.Errorf("%s: %s %s, want timed out, wrong", c.Case, c.Got, c.Verdict)
			}
		}
		if run.exit != 1 {
			t.Errorf("exit %d, want 1", run.exit)
		}
		// 47 cases, 4 at a time after the first, 300ms each: about 3.9s.
		if run.took > 10*time.Second {
			t.Errorf("took %v with -timeout 300ms", run.took)
		}
	})
}

// TestProbeREADME checks that the root README shows the real output of
// wsreason probe against a gorilla/websocket server, with the server's
// address written as 127.0.0.1:8080. With -update it rewrites that block.
func TestProbeREADME(t *testing.T) {
	t.Parallel()
	bin := buildWsreason(t)
	url := startAnswering(t, libraries[0]) + "/" // gorilla
	run := runProbe(t, bin, url)
	if run.exit != 1 || run.stderr != "" {
		t.Fatalf("exit %d, stderr %q", run.exit, run.stderr)
	}
	out := strings.ReplaceAll(run.stdout, url, "ws://127.0.0.1:8080/")
	block := "```console\n$ go run ./cmd/wsreason probe ws://127.0.0.1:8080/\n" + out + "$ echo $?\n1\n```\n"
	checkSection(t, "../README.md", "probe", block)
}

// viaJSON is s as it reads back from a JSON string: a reason that is not
// UTF-8 has each bad byte turned into U+FFFD.
func viaJSON(s string) string {
	b, _ := json.Marshal(s)
	json.Unmarshal(b, &s)
	return s
}

// uvicornEcho is an echo server on uvicorn, the ASGI server most Python
// WebSocket applications run on (testdata/python/asgi_echo.py).
var uvicornEcho = scriptedPeer{name: "uvicorn", dir: "testdata/python", script: "asgi_echo.py",
	peer: outsidePeer{name: "uvicorn", path: "/usr/bin/python3",
		files:   []string{"/usr/lib/python3/dist-packages/uvicorn/__init__.py", "/usr/lib/python3/dist-packages/websockets/__init__.py"},
		install: "Debian package python3-uvicorn"}}

// TestProbeEchoServers probes servers that echo messages, as Autobahn's
// test servers do, on Python's websockets and on uvicorn: with Autobahn's
// own sequence (the text alone, the Close once the echo is back), 7.1.1
// grades OK, and probe -strict exits 0.
func TestProbeEchoServers(t *testing.T) {
	t.Parallel()
	bin := buildWsreason(t)
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"python-websockets", func(t *testing.T) string { return startScripted(t, pythonWebsockets).url + "/echo" }},
		{"uvicorn", func(t *testing.T) string { return startScripted(t, uvicornEcho).url + "/" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url(t)
			run := runProbe(t, bin, "-strict", "-json", url)
			doc := parseProbeJSON(t, run)
			if run.exit != 0 {
				t.Errorf("probe -strict exited %d, want 0: %+v", run.exit, doc.Summary)
			}
			for _, c := range doc.Cases {
				if c.Verdict != "ok" || c.Autobahn != "" && (c.Grade == "FAILED" || c.Grade == "WRONG CODE" || c.Grade == "UNCLEAN") {
					t.Errorf("%s %s: got %s, %s, Autobahn %s (%s%s)", c.Autobahn, c.Case, c.Got, c.Verdict, c.Grade, c.Rule, c.Note)
				}
				if c.Autobahn == "7.1.1" && (c.Got != "text(12) then 1000" || c.Grade != "OK") {
					t.Errorf("7.1.1: got %s, Autobahn %s; want the echo, then 1000, OK", c.Got, c.Grade)
				}
			}
			t.Logf("the probe took %v", run.took.Round(time.Millisecond))
		})
	}
}
