package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// benchLogLines are the lines of the generated log: ordinary lines of a
// server (requests with their status, timings, ports) and, one line in a
// hundred, a close in one of the stacks' forms.
var (
	benchPlain = []string{
		`2026-12-05T08:00:00.123Z INFO http: request method=GET path=/api/items/%d status=200 bytes=%d dur=%dms`,
		`2026-12-05T08:00:00.456Z INFO http: request method=POST path=/api/orders status=201 bytes=%d dur=%dms remote=10.0.%d.7:443`,
		`2026-12-05T08:00:00.789Z DEBUG cache: hit key=user:%d ttl=%ds size=%d`,
		`2026-12-05T08:00:01.012Z INFO ws: message from client id=%d type=text len=%d seq=%d`,
		`2026-12-05T08:00:01.345Z WARN db: slow query table=events rows=%d took=%dms conn=%d`,
		`2026-12-05T08:00:01.678Z INFO worker: job done id=%d attempts=%d queue=default port=%d`,
	}
	benchCloses = []string{
		`2026-12-05T08:00:02.000Z INFO ws: connection %d ended: websocket: close 1006 (abnormal closure): unexpected EOF`,
		`2026-12-05T08:00:02.100Z INFO ws: conn %d: failed to get reader: received close frame: status = StatusGoingAway and reason = ""`,
		`2026-12-05T08:00:02.200Z ERROR client %d: websockets.exceptions.ConnectionClosedError: no close frame received or sent`,
		`2026-12-05T08:00:02.300Z INFO client %d: websockets.exceptions.ConnectionClosedOK: received 1001 (going away); then sent 1001 (going away)`,
		`2026-12-05T08:00:02.400Z WARN session %d closed: CloseStatus[code=1011, reason=null]`,
		`2026-12-05T08:00:02.500Z INFO ws closed conn=%d code=4001 reason=logout`,
	}
)

// writeBenchLog writes a log of about size bytes to path: one line in a
// hundred a close.
func writeBenchLog(tb testing.TB, path string, size int64) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	var n int64
	for i := 0; n < size; i++ {
		var line string
		if i%100 == 99 {
			line = fmt.Sprintf(benchCloses[rng.IntN(len(benchCloses))], rng.IntN(100000))
		} else {
			line = fmt.Sprintf(benchPlain[rng.IntN(len(benchPlain))], rng.IntN(100000), rng.IntN(10000), rng.IntN(1000))
		}
		k, _ := w.WriteString(line + "\n")
		n += int64(k)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkLog reads a generated log (1 GiB unless WSREASON_BENCH_LOG_MB
// says otherwise) with -log's scanner, and with grep -c -E 'close|code' on
// the same file in the same run, for comparison. With WSREASON_BENCH_LOG
// set, the log is that file, written there when it is not there yet, so
// that whole commands can be timed on it too (BENCHMARKS.md).
func BenchmarkLog(b *testing.B) {
	mb := int64(1024)
	if s := os.Getenv("WSREASON_BENCH_LOG_MB"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		mb = v
	}
	path := os.Getenv("WSREASON_BENCH_LOG")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.log")
	}
	if _, err := os.Stat(path); err != nil {
		writeBenchLog(b, path, mb<<20)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("wsreason", func(b *testing.B) {
		b.SetBytes(st.Size())
		b.ReportAllocs()
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			s, err := scanLog(f, maxLogLine)
			f.Close()
			if err != nil || s.CloseLines == 0 {
				b.Fatalf("%v, %+v", err, s)
			}
		}
	})
	b.Run("grep", func(b *testing.B) {
		grep, err := exec.LookPath("grep")
		if err != nil {
			b.Skip("no grep")
		}
		b.SetBytes(st.Size())
		for b.Loop() {
			cmd := exec.Command(grep, "-c", "-E", "close|code", path)
			cmd.Stdout = io.Discard
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
