package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

type cliCase struct {
	name       string
	args       []string
	wantExit   int
	wantStdout []string // substrings, each required
	wantStderr []string
}

var cliCases = []cliCase{
	{"number", []string{"1006"}, 0, []string{
		"1006 AbnormalClose\n", "range        Protocol (1000-2999)", "may be sent  no", "reserved     yes",
		"connection dropped without a Close frame",
	}, nil},
	{"reserved 1005", []string{"1005"}, 0, []string{"1005 NoStatus", "Close frame had no code"}, nil},
	{"reserved 1015", []string{"1015"}, 0, []string{"1015 TLSHandshakeFailure", "TLS handshake failed"}, nil},
	{"Go name", []string{"GoingAway"}, 0, []string{"1001 GoingAway", "may be sent  yes", "reserved     no"}, nil},
	{"upper snake", []string{"GOING_AWAY"}, 0, []string{"1001 GoingAway"}, nil},
	{"lower snake", []string{"try_again_later"}, 0, []string{"1013 TryAgainLater"}, nil},
	{"lower Go name", []string{"tlshandshakefailure"}, 0, []string{"1015 TLSHandshakeFailure"}, nil},
	{"unnamed private", []string{"4001"}, 0, []string{"4001 unnamed", "Private (4000-4999)", "may be sent  yes"}, nil},
	{"unnamed protocol", []string{"2999"}, 0, []string{"2999 unnamed", "may be sent  no"}, nil},
	{"several", []string{"1000", "3008"}, 0, []string{"1000 Normal", "\n\n3008 Timeout"}, nil},
	{"flag after argument", []string{"1000", "-json"}, 0, []string{`"code": 1000`}, nil},

	{"payload", []string{"-payload", "03 e9 62 79 65"}, 0, []string{"code    1001 GoingAway", `reason  "bye"`}, nil},
	{"payload 0x", []string{"-payload", "0x03e8"}, 0, []string{"1000 Normal"}, nil},
	{"payload 0x per byte", []string{"-payload", "0x03 0xE8 0x68 0x69"}, 0, []string{"1000 Normal", `"hi"`}, nil},
	{"empty payload", []string{"-payload", ""}, 0, []string{"1005 NoStatus", "carries no code"}, nil},
	{"payload one byte", []string{"-payload", "03"}, 1, []string{"1 byte is too short", "reply    1002 ProtocolError"}, nil},
	{"payload code 1005", []string{"-payload=03ed"}, 1, []string{"1005 (NoStatus) may not appear", "1002 ProtocolError"}, nil},
	{"payload bad UTF-8", []string{"-payload", "03e8 6f6b ed a0 80"}, 1, []string{"byte 0xed at offset 2", "1007 InconsistentData"}, nil},
	{"payload too long", []string{"-payload", "03e8" + strings.Repeat("61", 124)}, 1, []string{"126 bytes is over the 125-byte limit", "1002"}, nil},

	{"format", []string{"-format", "1001", "bye"}, 0, []string{"03e9627965\n"}, nil},
	{"format by name", []string{"-format", "private_use_is_not_a_name"}, 2, nil, []string{`"private_use_is_not_a_name"`}},
	{"format name", []string{"-format", "ServiceRestart"}, 0, []string{"03f4\n"}, nil},
	{"format NoStatus", []string{"-format", "1005"}, 0, []string{"\n"}, nil},
	{"format reserved", []string{"-format", "1006"}, 1, nil, []string{"1006 (AbnormalClose) may not appear"}},
	{"format too long", []string{"-format", "1000", strings.Repeat("x", 124)}, 1, nil, []string{"124 bytes is over the 123-byte limit"}},
	{"format two texts", []string{"-format", "1000", "a", "b"}, 2, nil, []string{"one TEXT argument"}},

	{"unknown name", []string{"GoingAwayy"}, 2, nil, []string{`"GoingAwayy" is not a close code`}},
	{"out of range", []string{"65536"}, 2, nil, []string{"code 65536 is out of range 0..65535"}},
	{"negative", []string{"-1"}, 2, nil, []string{"wsreason: code -1 is out of range 0..65535\n"}},
	{"negative after --", []string{"--", "-70000"}, 2, nil, []string{"wsreason: code -70000 is out of range 0..65535\n"}},
	{"hex code", []string{"0x3f6"}, 0, []string{"1014 BadGateway\n"}, nil},
	{"hex code upper", []string{"0X03E8"}, 0, []string{"1000 Normal\n"}, nil},
	{"hex code too big", []string{"0x10000"}, 2, nil, []string{"wsreason: code 0x10000 is out of range 0..65535 (0x0-0xffff)\n"}},
	{"hex code not hex", []string{"0x3g"}, 2, nil, []string{"wsreason: \"0x3g\" is not a hexadecimal number\n"}},
	{"payload Wireshark colons", []string{"-payload", "03:e9:62:79:65"}, 0, []string{"code    1001 GoingAway", `reason  "bye"`}, nil},
	{"payload dashes", []string{"-payload", "03-e9-62-79-65"}, 0, []string{"code    1001 GoingAway", `reason  "bye"`}, nil},
	{"payload \\x escapes", []string{"-payload", `\x03\xe9\x62\x79\x65`}, 0, []string{"code    1001 GoingAway", `reason  "bye"`}, nil},
	{"payload tcpdump 0x and spaces", []string{"-payload", "0x03e9 0x6279 65"}, 0, []string{"code    1001 GoingAway", `reason  "bye"`}, nil},
	{"odd hex", []string{"-payload", "3e8"}, 2, nil, []string{`payload "3e8" has an odd number of hex digits`}},
	{"non-hex", []string{"-payload", "03g8"}, 2, nil, []string{`payload "03g8"`, "'g'"}},
	{"unknown flag", []string{"-verbose"}, 2, nil, []string{"-verbose"}},
	{"both modes", []string{"-payload", "03e8", "-format", "1000"}, 2, nil, []string{"cannot be used together"}},
	{"payload with argument", []string{"-payload", "03e8", "1000"}, 2, nil, []string{`got "1000"`}},
	{"help", []string{"-h"}, 0, []string{"Usage:", "Examples:", "wsreason -payload"}, nil},
}

func TestRun(t *testing.T) {
	for _, tc := range cliCases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
			checkResult(t, code, stdout.String(), stderr.String(), tc)
		})
	}
}

func checkResult(t *testing.T, code int, stdout, stderr string, tc cliCase) {
	t.Helper()
	if code != tc.wantExit {
		t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantExit, stdout, stderr)
	}
	for _, want := range tc.wantStdout {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	for _, want := range tc.wantStderr {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if tc.wantExit == exitUsage {
		if stdout != "" {
			t.Errorf("usage error wrote to stdout:\n%s", stdout)
		}
		if lines := strings.Count(stderr, "\n"); lines != 1 || !strings.HasPrefix(stderr, "wsreason: ") {
			t.Errorf("usage error is not one line starting with \"wsreason: \":\n%s", stderr)
		}
	}
	if tc.wantExit == exitOK && stderr != "" {
		t.Errorf("success wrote to stderr:\n%s", stderr)
	}
}

func TestJSONOutput(t *testing.T) {
	decode := func(t *testing.T, args ...string) (map[string]any, int) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"-json"}, args...), strings.NewReader(""), &stdout, &stderr)
		var doc map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
			t.Fatalf("%v: stdout is not one JSON document: %v\n%s", args, err, stdout.String())
		}
		return doc, code
	}

	t.Run("table", func(t *testing.T) {
		doc, code := decode(t)
		codes, _ := doc["codes"].([]any)
		ranges, _ := doc["ranges"].([]any)
		if code != 0 || len(codes) != 19 || len(ranges) != 5 {
			t.Fatalf("exit %d, %d codes, %d ranges; want 0, 19, 5", code, len(codes), len(ranges))
		}
		last := ranges[4].(map[string]any)
		if last["first"] != 5000.0 || last["last"] != 65535.0 || last["range"] != "Outside" {
			t.Errorf("last range = %v", last)
		}
	})
	t.Run("explain", func(t *testing.T) {
		doc, code := decode(t, "1006", "4001")
		codes := doc["codes"].([]any)
		first, second := codes[0].(map[string]any), codes[1].(map[string]any)
		if code != 0 || first["code"] != 1006.0 || first["name"] != "AbnormalClose" ||
			first["may_send"] != false || first["reserved"] != true || first["note"] == nil {
			t.Errorf("1006 = %v", first)
		}
		if _, named := second["name"]; named || second["code"] != 4001.0 || second["range"] != "Private" {
			t.Errorf("4001 = %v", second)
		}
	})
	t.Run("payload", func(t *testing.T) {
		doc, code := decode(t, "-payload", "03e9627965")
		if code != 0 || doc["valid"] != true || doc["code"] != 1001.0 || doc["name"] != "GoingAway" || doc["reason"] != "bye" {
			t.Errorf("exit %d, %v", code, doc)
		}
	})
	t.Run("invalid payload", func(t *testing.T) {
		doc, code := decode(t, "-payload", "03e8c0af")
		if code != 1 || doc["valid"] != false || doc["reply_code"] != 1007.0 || !strings.Contains(doc["error"].(string), "0xc0") {
			t.Errorf("exit %d, %v", code, doc)
		}
	})
	t.Run("format", func(t *testing.T) {
		doc, code := decode(t, "-format", "GOING_AWAY", "bye")
		if code != 0 || doc["code"] != 1001.0 || doc["payload"] != "03e9627965" {
			t.Errorf("exit %d, %v", code, doc)
		}
	})
	t.Run("format error", func(t *testing.T) {
		doc, code := decode(t, "-format", "1015")
		if code != 1 || doc["payload"] != nil || !strings.Contains(doc["error"].(string), "1015") {
			t.Errorf("exit %d, %v", code, doc)
		}
	})
}

func TestPayloadFromStdin(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-payload", "-"}, strings.NewReader("03:e9:62:79:65\n"), &stdout, &stderr)
	checkResult(t, code, stdout.String(), stderr.String(), cliCase{
		wantStdout: []string{"code    1001 GoingAway\n", `reason  "bye"` + "\n"},
	})

	stdout.Reset()
	stderr.Reset()
	code = run([]string{"-payload", "-"}, strings.NewReader(strings.Repeat("0", maxStdin+1)), &stdout, &stderr)
	checkResult(t, code, stdout.String(), stderr.String(), cliCase{
		wantExit:   exitUsage,
		wantStderr: []string{"wsreason: standard input holds more than 65536 bytes"},
	})
}

// TestTableGolden keeps the no-argument table in testdata, so that any change
// to a name or a description shows up as a diff. Rewrite it with
// go test -run TestTableGolden -update.
func TestTableGolden(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(nil, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	golden := filepath.Join("testdata", "table.golden")
	if *update {
		if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if !bytes.Equal(stdout.Bytes(), want) {
		t.Errorf("table differs from %s; if the change is intended, rerun with -update\ngot:\n%s", golden, stdout.String())
	}
}

// TestBinary builds the command and runs it as a user would.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build wsreason: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "wsreason")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "table.golden"))
	if err != nil {
		t.Fatal(err)
	}
	cases := append([]cliCase{{"table", nil, 0, []string{string(golden)}, nil}}, cliCases...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tc.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			if err != nil && code <= 0 {
				t.Fatalf("running %v: %v", tc.args, err)
			}
			checkResult(t, code, stdout.String(), stderr.String(), tc)
		})
	}
}

// TestREADMEOutput keeps the output shown in the README true.
func TestREADMEOutput(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const prompt = "$ go run ./cmd/wsreason 1006\n"
	_, shown, ok := strings.Cut(string(readme), prompt)
	if !ok {
		t.Fatalf("README.md has no %q", prompt)
	}
	shown, _, _ = strings.Cut(shown, "```")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"1006"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if shown != stdout.String() {
		t.Errorf("README.md shows:\n%s\nbut wsreason 1006 prints:\n%s", shown, stdout.String())
	}
}
