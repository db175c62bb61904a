package interop

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

// body builds a Close frame body by hand, without package reasons.
func body(code int, text string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), text...)
}

// rawCases are Close frame bodies, most of them malformed, with the reply
// RFC 6455 asks of the receiver, written out by hand: "1002" for a protocol
// error (§5.5, §7.4), "1007" for a reason that is not UTF-8 (§8.1), the code
// itself for an echo, "empty" for a Close frame without a body.
var rawCases = []struct {
	name    string
	payload []byte
	rfc     string
}{
	{"empty body", nil, "empty"},
	{"1000 with reason", body(1000, "bye"), "1000"},
	{"1014 (IANA)", body(1014, ""), "1014"},
	{"4999 (private)", body(4999, ""), "4999"},
	{"1-byte body", []byte{0x03}, "1002"},
	{"126-byte body", body(1000, strings.Repeat("x", 124)), "1002"},
	{"code 0", body(0, ""), "1002"},
	{"code 999", body(999, ""), "1002"},
	{"code 1004", body(1004, ""), "1002"},
	{"code 1005", body(1005, ""), "1002"},
	{"code 1006", body(1006, ""), "1002"},
	{"code 1015", body(1015, ""), "1002"},
	{"code 1016", body(1016, ""), "1002"},
	{"code 2999", body(2999, ""), "1002"},
	{"code 5000", body(5000, ""), "1002"},
	{"code 65535", body(65535, ""), "1002"},
	{"UTF-8: lone continuation byte", body(1000, "ok\x80"), "1007"},
	{"UTF-8: overlong '/'", body(1000, "\xc0\xaf"), "1007"},
	{"UTF-8: surrogate U+D800", body(1000, "\xed\xa0\x80"), "1007"},
	{"UTF-8: above U+10FFFF", body(1000, "\xf4\x90\x80\x80"), "1007"},
	{"UTF-8: truncated sequence", body(1000, "ok\xe2\x82"), "1007"},
	{"UTF-8: byte 0xff", body(1000, "\xff"), "1007"},
}

// rawServers are the servers the raw frames go to. want holds what each
// library's server actually replies where that differs from the RFC; every
// other case must get the RFC's reply.
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
}

// onBadUTF8 adds reply to m for every case whose reason is not UTF-8.
func onBadUTF8(reply string, m map[string]string) map[string]string {
	for _, c := range rawCases {
		if c.rfc == "1007" {
			m[c.name] = reply
		}
	}
	return m
}

// TestRawCloseFrames sends hand-made Close frames to a server on each
// library and to our reference endpoint, and checks the reply on the wire.
func TestRawCloseFrames(t *testing.T) {
	for _, s := range rawServers {
		srv := startServer(t, s.lib.accept)
		for _, c := range rawCases {
			t.Run(s.lib.name+"/"+c.name, func(t *testing.T) {
				got, err := rawReply(srv, c.payload)
				if err != nil {
					t.Fatal(err)
				}
				want, deviates := s.want[c.name]
				if !deviates {
					want = c.rfc
				}
				if got != want {
					t.Errorf("% x: %s replied %s, want %s (RFC: %s)", c.payload, s.lib.name, got, want, c.rfc)
				}
				if deviates && want == c.rfc {
					t.Errorf("deviation table lists the RFC's own reply %s", want)
				}
			})
		}
	}
}

// rawReply writes payload in a Close frame to srv and describes the reply:
// its code, "empty" for a Close frame without a body, or "dropped" when the
// connection ended without a Close frame.
func rawReply(srv *server, payload []byte) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := dialRaw(ctx, srv.wsURL())
	if err != nil {
		return "", err
	}
	defer c.conn.Close()
	ep, err := srv.next()
	if err != nil {
		return "", err
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
		return "", err
	}
	return describeReply(c.readReply()), nil
}
