package interop

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/wsreasons/reasons/internal/probe"
)

// body builds a Close frame body by hand, without package reasons.
func body(code int, text string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), text...)
}

// rawCases are the Close frames of TestRawCloseFrames, the browser test and
// wsreason probe: one list, in internal/probe, with the rules that judge each
// answer.
var rawCases = probe.Cases()

// rawServers are the servers the raw frames go to. want holds what each
// library's server actually replies where that differs from the reply of
// package reasons (probe's Case.Want); every other case must get that reply.
var rawServers = []struct {
	lib  library
	want map[string]string
}{
	{library{name: "reasons", accept: acceptReference}, nil},
	{libraries[0], onBadUTF8("1002", map[string]string{ // gorilla
		"1014 (IANA)": "1002",  // not in its list of valid codes
		"1-byte body": "empty", // taken as a Close frame with no code
	})},
	// coder does not check the reason's UTF-8; it echoes the code.
	{libraries[1], onBadUTF8("1000", map[string]string{})},
	{libraries[2], onBadUTF8("1002", map[string]string{ // gobwas, through wsutil
		"1014 (IANA)":   "1002",    // 1012-1014 are unknown to it
		"126-byte body": "dropped", // fails the connection without a Close frame (allowed by §7.1.7)
		"code 5000":     "5000",    // codes from 5000 up pass its checks
		"code 65535":    "65535",
	})},
	// gws, with its default options: it does not check the reason's UTF-8
	// (CheckUtf8Enabled is off) and replies 1000 to every valid code below
	// 1016.
	{libraries[3], onBadUTF8("1000", map[string]string{
		"1014 (IANA)": "1002", // reported to the application, but answered as an error
	})},
	{libraries[4], onBadUTF8("1002", map[string]string{ // fasthttp: gorilla's code
		"1014 (IANA)": "1002",
		"1-byte body": "empty",
	})},
}

// onBadUTF8 adds reply to m for every case whose reason is not UTF-8.
func onBadUTF8(reply string, m map[string]string) map[string]string {
	for _, c := range rawCases {
		if c.Want().String() == "1007" {
			m[c.Name] = reply
		}
	}
	return m
}

// TestRawCloseFrames sends hand-made Close frames to a server on each
// library and to our reference endpoint, and checks the reply on the wire.
func TestRawCloseFrames(t *testing.T) {
	for _, s := range rawServers {
		srv := startServer(t, s.lib)
		for _, c := range rawCases {
			t.Run(s.lib.name+"/"+c.Name, func(t *testing.T) {
				got, err := rawReply(srv, c.Payload)
				if err != nil {
					t.Fatal(err)
				}
				want, deviates := s.want[c.Name]
				if !deviates {
					want = c.Want().String()
				}
				if got.String() != want {
					t.Errorf("% x: %s replied %s, want %s (reasons: %s)", c.Payload, s.lib.name, got, want, c.Want())
				}
				if deviates && want == c.Want().String() {
					t.Errorf("deviation table lists the reply of package reasons, %s", want)
				}
			})
		}
	}
}

// rawReply writes payload in a Close frame to srv and returns the reply.
func rawReply(srv *server, payload []byte) (probe.Reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := dialRaw(ctx, srv.url)
	if err != nil {
		return probe.Reply{}, err
	}
	defer c.conn.Close()
	ep, err := srv.next()
	if err != nil {
		return probe.Reply{}, err
	}
	defer ep.drop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The library answers as it would in production, and the
		// application then closes the connection.
		ep.awaitClose()
		ep.drop()
	}()
	defer func() {
		select {
		case <-done:
		case <-time.After(timeout):
		}
	}()

	if err := c.writeClose(payload); err != nil {
		return probe.Reply{}, err
	}
	return replyOf(c.readReply()), nil
}
