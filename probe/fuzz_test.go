package probe

import (
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsreasons/reasons/internal/wsframe"
)

// FuzzReadReply feeds ReadReply whatever a server might send after the
// handshake: it never panics, keeps at most MaxEvents events of at most
// 125 bytes each, and returns within its deadline.
func FuzzReadReply(f *testing.F) {
	f.Add(wsframe.Append(nil, wsframe.OpClose, []byte{0x03, 0xe8}, nil))
	f.Add(append(wsframe.Append(nil, wsframe.OpText, []byte("hello"), nil), wsframe.Append(nil, wsframe.OpClose, nil, nil)...))
	f.Add(append(wsframe.Append(nil, wsframe.OpPing, []byte("p"), nil), wsframe.Append(nil, wsframe.OpClose, []byte{0x03}, &[4]byte{1, 2, 3, 4})...))
	f.Add([]byte{0x88, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 2, 0x03, 0xe8})
	f.Add([]byte{0x01, 0x03, 'a', 'b', 'c', 0x80, 0x02, 'd', 'e', 0x88, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		defer client.Close()
		go func() {
			server.Write(data)
			server.Close()
		}()
		c := &Conn{tcp: client, rw: client, timeout: time.Second}
		start := time.Now()
		r := c.ReadReplyBy(start.Add(200 * time.Millisecond))
		if time.Since(start) > time.Second {
			t.Fatalf("took %v", time.Since(start))
		}
		if len(r.Events) > MaxEvents {
			t.Fatalf("%d events", len(r.Events))
		}
		for _, e := range r.Events {
			if len(e.Data) > 125 {
				t.Fatalf("an event keeps %d bytes", len(e.Data))
			}
		}
		_ = r.String()
		_ = CaseFor("fuzz", data[:min(len(data), 125)]).Judge(r)
	})
}

// FuzzFirstTextLine: what an error page says is one line of at most 200
// characters and an ellipsis, with no markup left.
func FuzzFirstTextLine(f *testing.F) {
	f.Add([]byte("<!doctype html>\n<html><body><h1>502 Bad Gateway</h1></body></html>"))
	f.Add([]byte("no token\n"))
	f.Add([]byte("<a href='x>y'>z</a>"))
	f.Add([]byte(strings.Repeat("é", 300)))
	f.Fuzz(func(t *testing.T, body []byte) {
		line := firstTextLine(body)
		if strings.ContainsAny(line, "\n<") || utf8.RuneCountInString(line) > 201 {
			t.Fatalf("firstTextLine(%q) = %q", body, line)
		}
		if line != strings.TrimSpace(line) {
			t.Fatalf("firstTextLine(%q) = %q, with space at an end", body, line)
		}
	})
}
