package interop

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	gorillaws "github.com/gorilla/websocket"
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

// probeDoc is the part of wsreason probe -json's document the test reads.
type probeDoc struct {
	Cases []struct {
		Case, Autobahn, Sent, Want, Got, Verdict string
		Grade                                    string `json:"autobahn_grade"`
	}
	Summary struct{ OK, Tolerated, Wrong int }
}

func parseProbeJSON(t *testing.T, run probeRun) probeDoc {
	t.Helper()
	var doc probeDoc
	if err := json.Unmarshal([]byte(run.stdout), &doc); err != nil {
		t.Fatalf("wsreason probe -json printed no JSON document (%v):\n%s\nstderr: %s", err, run.stdout, run.stderr)
	}
	if len(doc.Cases) != len(rawCases) {
		t.Fatalf("%d cases in the JSON document, want %d", len(doc.Cases), len(rawCases))
	}
	return doc
}

// checkAgainstTable checks a -json document against lib's column of the
// raw table, which TestRawCloseFrames asserts.
func checkAgainstTable(t *testing.T, doc probeDoc, lib string) {
	t.Helper()
	var want map[string]string
	for _, s := range rawServers {
		if s.lib.name == lib {
			want = s.want
		}
	}
	for i, c := range rawCases {
		got := doc.Cases[i]
		reply, deviates := want[c.Name]
		if !deviates {
			reply = c.Want().String()
		}
		verdict := string(c.Judge(parseReply(t, reply)).Verdict)
		grade := string(c.Grade(parseReplyTo(t, c, reply)))
		if got.Case != c.Name || got.Got != reply || got.Verdict != verdict || got.Want != c.Want().String() ||
			got.Autobahn != c.Autobahn || got.Grade != grade {
			t.Errorf("%s: the probe says %+v; the table: got %s, want %s, verdict %s, Autobahn %s %s", c.Name, got, reply, c.Want(), verdict, c.Autobahn, grade)
		}
	}
}

// probeLibrary runs wsreason probe -json against a server on lib.
func probeLibrary(t *testing.T, bin string, lib library) {
	run := runProbe(t, bin, "-json", startAnswering(t, lib))
	doc := parseProbeJSON(t, run)
	checkAgainstTable(t, doc, lib.name)
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
		checkAgainstTable(t, parseProbeJSON(t, run), "gorilla")
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
