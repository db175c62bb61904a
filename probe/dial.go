package probe

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/wsreasons/reasons/internal/wsframe"
)

// DialOptions are the settings of a connection.
type DialOptions struct {
	Header   http.Header   // added to the opening handshake's request
	Insecure bool          // skip verifying the TLS certificate of a wss:// server
	Timeout  time.Duration // bounds the handshake and each wait for the server
}

// Conn is a raw WebSocket client connection: it writes frames exactly as
// given, including ones that break the rules, and reads what comes back
// frame by frame. It is the probe's client and the interop tests' one.
type Conn struct {
	tcp     net.Conn           // for deadlines; under TLS for wss://
	rw      io.ReadWriteCloser // the upgraded stream, after the handshake
	timeout time.Duration
	server  bool // this end is the server: it does not mask, and its peer must
}

// ServerConn is a Conn on the server's end of conn, whose opening
// handshake the caller has completed; r reads what the client sent (a
// *bufio.Reader holding bytes already read, or conn itself). Its frames
// are not masked, and the client's must be.
func ServerConn(conn net.Conn, r io.Reader, timeout time.Duration) *Conn {
	return &Conn{tcp: conn, rw: readWriteCloser{r, conn}, timeout: timeout, server: true}
}

type readWriteCloser struct {
	io.Reader
	net.Conn
}

func (rw readWriteCloser) Read(p []byte) (int, error) { return rw.Reader.Read(p) }

// A HandshakeError says why the opening handshake failed.
type HandshakeError struct {
	URL string
	Msg string // what was wrong with the server's answer; with Err, a hint on what to do
	Err error  // the error that stopped the handshake, if one did
}

func (e *HandshakeError) Error() string {
	if e.Err != nil && e.Msg != "" {
		return fmt.Sprintf("handshake with %s: %v; %s", e.URL, e.Err, e.Msg)
	}
	if e.Err != nil {
		return fmt.Sprintf("handshake with %s: %v", e.URL, e.Err)
	}
	return fmt.Sprintf("handshake with %s: %s", e.URL, e.Msg)
}

func (e *HandshakeError) Unwrap() error { return e.Err }

// maxHeaderBytes bounds the handshake response's header.
const maxHeaderBytes = 64 << 10

// ParseURL checks that s is a ws:// or wss:// URL with a host. It takes
// http:// and https://, which httptest and browsers' address bars give, as
// ws:// and wss://; the URL it returns has the WebSocket scheme.
func ParseURL(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		return nil, fmt.Errorf("URL %q has no ws:// or wss:// scheme: try ws://%s", s, strings.TrimPrefix(s, "//"))
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("URL %q: %v", s, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		u.Scheme = "ws"
	case "wss", "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("URL %q: the scheme must be ws:// or wss:// (or http:// or https://, taken as those)", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("URL %q has no host", s)
	}
	return u, nil
}

// Dial opens a connection to the ws:// or wss:// URL u and completes the
// opening handshake of RFC 6455 §4.1 through net/http, checking the
// server's Sec-WebSocket-Accept. Errors are *HandshakeError. ctx bounds
// the handshake only; the connection lives until Close.
func Dial(ctx context.Context, u string, opts DialOptions) (*Conn, error) {
	parsed, err := ParseURL(u)
	if err != nil {
		return nil, &HandshakeError{URL: u, Err: err}
	}
	hu := *parsed
	hu.Scheme = map[string]string{"ws": "http", "wss": "https"}[parsed.Scheme]
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hu.String(), nil)
	if err != nil {
		return nil, &HandshakeError{URL: u, Err: err}
	}
	for name, values := range opts.Header {
		if strings.EqualFold(name, "Host") {
			req.Host = values[0]
			continue
		}
		req.Header[name] = values
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")

	var tcp net.Conn
	dialer := &net.Dialer{Timeout: opts.Timeout}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			tcp = c
			return c, err
		},
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: opts.Insecure},
		TLSNextProto:           map[string]func(string, *tls.Conn) http.RoundTripper{}, // HTTP/1.1 only
		TLSHandshakeTimeout:    opts.Timeout,
		ResponseHeaderTimeout:  opts.Timeout,
		MaxResponseHeaderBytes: maxHeaderBytes,
		DisableKeepAlives:      true,
	}
	client := &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &HandshakeError{URL: u, Err: unwrapURLError(err), Msg: hint(parsed.Scheme, err)}
	}
	fail := func(msg string) (*Conn, error) {
		resp.Body.Close()
		return nil, &HandshakeError{URL: u, Msg: msg}
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodyPeek))
		msg := fmt.Sprintf("the server answered %s, not 101 Switching Protocols", resp.Status)
		if loc := resp.Header.Get("Location"); loc != "" {
			msg += fmt.Sprintf(" (redirect to %q, which the probe does not follow)", loc)
		}
		line := firstTextLine(body)
		if line != "" {
			msg += fmt.Sprintf(" (body: %q)", line)
		}
		if parsed.Scheme == "ws" && strings.Contains(line, "HTTPS") {
			msg += "; the port speaks TLS: use wss://"
		}
		return fail(msg)
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		return fail(fmt.Sprintf("101 without Upgrade: websocket (Upgrade: %q)", resp.Header.Get("Upgrade")))
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), wsframe.AcceptKey(key); got != want {
		return fail(fmt.Sprintf("bad Sec-WebSocket-Accept %q, want %q (RFC 6455 §4.2.2)", got, want))
	}
	rw, ok := resp.Body.(io.ReadWriteCloser)
	if !ok || tcp == nil {
		return fail("net/http gave no connection to upgrade")
	}
	return &Conn{tcp: tcp, rw: rw, timeout: opts.Timeout}, nil
}

// maxBodyPeek bounds how much of a refusal's body the probe reads to find
// its first line of text.
const maxBodyPeek = 4 << 10

// firstTextLine is the first line of body with text in it, HTML tags
// removed, at most 200 characters: what an error page says.
func firstTextLine(body []byte) string {
	var b strings.Builder
	inTag := false
	for _, r := range string(body) {
		switch {
		case r == '<':
			inTag = true
		case r == '>' && inTag:
			inTag = false
			b.WriteByte(' ')
		case !inTag:
			b.WriteRune(r)
		}
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			if r := []rune(line); len(r) > 200 {
				line = string(r[:200]) + "…"
			}
			return line
		}
	}
	return ""
}

// hint says what to do about a handshake error the user can fix: a
// certificate the probe cannot verify, or TLS on a ws:// port.
func hint(scheme string, err error) string {
	var cert *tls.CertificateVerificationError
	switch {
	case errors.As(err, &cert):
		return "add -insecure to skip verifying a self-signed certificate"
	case scheme == "ws" && strings.Contains(err.Error(), "malformed HTTP response \"\\x15\\x03"):
		return "the port speaks TLS: use wss://"
	}
	return ""
}

// unwrapURLError drops the *url.Error around a client error, whose text
// repeats the method and URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// WriteClose sends a masked Close frame carrying payload as it is.
func (c *Conn) WriteClose(payload []byte) error {
	return c.WriteFrames([]Frame{{Op: wsframe.OpClose, Payload: payload}})
}

// WriteFrames sends frames in one write, each masked with a fresh key from
// a client, unmasked from a server.
func (c *Conn) WriteFrames(frames []Frame) error {
	var b []byte
	for _, f := range frames {
		h := wsframe.Header{Fin: !f.More, Opcode: f.Op, Masked: !c.server}
		if h.Masked {
			rand.Read(h.Mask[:])
		}
		b = wsframe.AppendFrame(b, h, f.Payload)
	}
	c.tcp.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.rw.Write(b)
	return err
}

// Write sends b as it is: frames the caller built, rule-breaking or not.
func (c *Conn) Write(b []byte) error {
	c.tcp.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.rw.Write(b)
	return err
}

// maxFrame bounds the payload ReadReply keeps of one frame; it skips longer
// ones.
const maxFrame = 1 << 16

// ReadReply reads frames until the server's Close frame, the end of the
// connection, or the timeout. It records the messages, pings and pongs
// that come before the Close frame, and the first rule a frame header
// breaks.
func (c *Conn) ReadReply() Reply {
	return c.ReadReplyBy(time.Now().Add(c.timeout))
}

// ReadReplyBy is ReadReply with a deadline instead of the timeout.
func (c *Conn) ReadReplyBy(deadline time.Time) Reply {
	rr := replyReader{r: Reply{FromClient: c.server}}
	rr.read(c, deadline, nil)
	return rr.r
}

// replyReader reads a reply in one go or in phases, keeping what it has
// seen in between.
type replyReader struct {
	r   Reply
	msg *Event // the message whose fragments are coming in
}

// read reads frames into rr.r until the peer's Close frame, the end of the
// connection, or deadline, and reports whether the reply ended. With
// enough set, it also stops, not ended, once enough(rr.r) is true after a
// frame, and the deadline is then no timeout: it stops there, not ended.
func (rr *replyReader) read(c *Conn, deadline time.Time, enough func(Reply) bool) (ended bool) {
	c.tcp.SetReadDeadline(deadline)
	r := &rr.r
	record := func(e Event) {
		if len(r.Events) < MaxEvents {
			r.Events = append(r.Events, e)
		}
	}
	for {
		if enough != nil && enough(*r) {
			return false
		}
		h, payload, err := wsframe.Read(c.rw, maxFrame)
		switch {
		case errors.Is(err, wsframe.ErrBadLength):
			r.Broken = "a 64-bit payload length with its most significant bit set (§5.2)"
			return true
		case errors.Is(err, wsframe.ErrTooLarge) && h.Opcode.Control():
			r.Broken = fmt.Sprintf("a %s frame of %d bytes: a control frame carries at most 125 (§5.5)", h.Opcode, h.Length)
			return true
		case errors.Is(err, wsframe.ErrTooLarge):
			if _, err := io.CopyN(io.Discard, c.rw, int64(h.Length)); err != nil {
				*r = r.ended(err)
				return true
			}
		case enough != nil && errors.Is(err, os.ErrDeadlineExceeded):
			return false
		case err != nil:
			*r = r.ended(err)
			return true
		}
		if h.Opcode == wsframe.OpClose {
			r.Body = payload
			r.Masked, r.RSV, r.FINClear = h.Masked, h.Rsv, !h.Fin
			if r.Body == nil {
				r.Body = []byte{}
			}
			return true
		}
		r.Frames++
		if rule := headerRule(h, c.server); rule != "" && r.FrameRule == "" {
			r.FrameRule = fmt.Sprintf("a %s frame before the Close: %s", h.Opcode, rule)
		}
		data := string(payload[:min(len(payload), 125)])
		switch h.Opcode {
		case wsframe.OpText, wsframe.OpBinary:
			rr.msg = &Event{Op: h.Opcode, Len: int(h.Length), Data: data}
		case wsframe.OpContinuation:
			if rr.msg == nil {
				rr.msg = &Event{Op: h.Opcode}
			}
			rr.msg.Len += int(h.Length)
			rr.msg.Data += data[:min(len(data), 125-len(rr.msg.Data))]
		default:
			record(Event{Op: h.Opcode, Len: int(h.Length), Data: data})
			continue
		}
		if h.Fin && rr.msg != nil {
			record(*rr.msg)
			rr.msg = nil
		}
	}
}

// ended is r for a read that failed with err: timed out or dropped.
func (r Reply) ended(err error) Reply {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		r.TimedOut = true
	} else {
		r.Dropped = true
	}
	return r
}

// AwaitTCPClose tells whether the server closes the connection within the
// timeout, as RFC 6455 §7.1.1 asks of a server after the closing handshake.
func (c *Conn) AwaitTCPClose() bool {
	return c.AwaitTCPCloseBy(time.Now().Add(c.timeout))
}

// AwaitTCPCloseBy is AwaitTCPClose with a deadline instead of the timeout.
func (c *Conn) AwaitTCPCloseBy(deadline time.Time) bool {
	c.tcp.SetReadDeadline(deadline)
	_, err := io.Copy(io.Discard, c.rw)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

// Close closes the connection.
func (c *Conn) Close() error { return c.rw.Close() }
