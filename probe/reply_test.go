package probe

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wsreasons/reasons/internal/wsframe"
)

// replyTo reads, as a client (or with fromClient as a server), the reply
// made of frames, each written as given.
func replyTo(t *testing.T, fromClient bool, frames ...[]byte) Reply {
	t.Helper()
	ours, theirs := net.Pipe()
	go func() {
		for _, f := range frames {
			theirs.Write(f)
		}
		theirs.Close()
	}()
	c := &Conn{tcp: ours, rw: ours, timeout: time.Second, server: fromClient}
	defer c.Close()
	return c.ReadReply()
}

// frame builds a frame: opcode, FIN, RSV and mask as given.
func frame(op wsframe.Opcode, fin bool, rsv byte, masked bool, payload string) []byte {
	h := wsframe.Header{Fin: fin, Rsv: rsv, Opcode: op, Masked: masked, Mask: [4]byte{1, 2, 3, 4}}
	return wsframe.AppendFrame(nil, h, []byte(payload))
}

// TestReplyReader holds what the reply reader records of the frames
// before a Close, from the rules of RFC 6455 §5.1-§5.5.
func TestReplyReader(t *testing.T) {
	closeFrame := frame(wsframe.OpClose, true, 0, false, "\x03\xe8")
	for _, c := range []struct {
		name       string
		fromClient bool
		frames     [][]byte
		rule       string // a part of FrameRule, or "" for none
		str        string // the reply's String
	}{
		{"a 126-byte Ping", false, [][]byte{frame(wsframe.OpPing, true, 0, false, strings.Repeat("p", 126)), closeFrame},
			"a control frame carries at most 125 bytes (§5.5)", "ping(126) then 1000"},
		{"RSV on a text frame", false, [][]byte{frame(wsframe.OpText, true, 1, false, "hi"), closeFrame},
			"RSV bits set with no extension negotiated (§5.2)", "text(2) then 1000"},
		{"a fragmented text message", false, [][]byte{frame(wsframe.OpText, false, 0, false, "Hello "), frame(wsframe.OpContinuation, true, 0, false, "World!"), closeFrame},
			"", "text(12) then 1000"},
		{"a stray continuation", false, [][]byte{frame(wsframe.OpContinuation, true, 0, false, "abc"), closeFrame},
			"", "continuation(3) then 1000"},
		{"an unmasked frame from a client", true, [][]byte{frame(wsframe.OpText, true, 0, false, "hi"), frame(wsframe.OpClose, true, 0, true, "\x03\xe8")},
			"a client must mask its frames (§5.3)", "text(2) then 1000"},
		{"two bad frames: the first named", false, [][]byte{frame(wsframe.OpText, true, 2, false, "a"), frame(wsframe.OpPing, false, 0, false, ""), closeFrame},
			"a 0x1 (text) frame before the Close: RSV bits", "text(1) ping(0) then 1000"},
	} {
		got := replyTo(t, c.fromClient, c.frames...)
		if c.rule == "" && got.FrameRule != "" || !strings.Contains(got.FrameRule, c.rule) {
			t.Errorf("%s: frame rule %q, want %q", c.name, got.FrameRule, c.rule)
		}
		if got.String() != c.str {
			t.Errorf("%s: %q, want %q", c.name, got.String(), c.str)
		}
	}
	// Nine pings: the first MaxEvents kept, and the count of all.
	var frames [][]byte
	for range 9 {
		frames = append(frames, frame(wsframe.OpPing, true, 0, false, ""))
	}
	got := replyTo(t, false, append(frames, closeFrame)...)
	if !strings.HasSuffix(got.String(), "… 9 frames in all then 1000") || len(got.Events) != MaxEvents {
		t.Errorf("nine pings: %q, %d events kept", got.String(), len(got.Events))
	}
}
