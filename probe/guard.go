package probe

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// The bounds a Handler and its server keep on every input. Each is in the
// doc of what it bounds, and a test drives past it.
const (
	// DefaultMaxConns bounds the TCP connections a server built with
	// [Handler.HTTPServer] and [LimitListener] holds at once, WebSockets
	// and idle keep-alive connections alike; one more is answered 503 and
	// closed.
	DefaultMaxConns = 256
	// DefaultKeepEvents bounds the events a Handler keeps: a ring, the oldest
	// dropped first.
	DefaultKeepEvents = 1000
	// maxTextKept bounds a reason kept in an event, in bytes; a Close frame
	// carries at most 123 (§5.5), so only a frame that breaks the rule is
	// cut, and the cut is shown.
	maxTextKept = 125
	// maxPathKept bounds the request URI kept in an event.
	maxPathKept = 256
	// maxReasonParam bounds /close/CODE's reason= parameter: room for a
	// Close frame that breaks §5.5's 125 bytes, not for megabytes.
	maxReasonParam = 1024
	// idleTimeout ends an HTTP connection that sends no request.
	idleTimeout = 30 * time.Second
	// maxHeaderBytes bounds a request's header.
	maxHeaderBytes16 = 16 << 10
)

// HTTPServer returns an http.Server for h with every bound set: the
// header within h's client timeout (ReadHeaderTimeout and ReadTimeout; a
// WebSocket sets its own deadlines once upgraded), idle connections closed
// after 30 s, headers of at most 16 KiB. Serve it on a [LimitListener].
func (h *Handler) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: h.timeout,
		ReadTimeout:       h.timeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes16,
	}
}

// LimitListener wraps ln so that at most n connections are open at once
// (n <= 0 means DefaultMaxConns). A connection beyond them is answered
// "503 Service Unavailable" with a line that says why, and closed: a clear
// refusal, where a plain limit would leave clients waiting unanswered.
func LimitListener(ln net.Listener, n int) net.Listener {
	if n <= 0 {
		n = DefaultMaxConns
	}
	return &limitListener{Listener: ln, slots: make(chan struct{}, n)}
}

type limitListener struct {
	net.Listener
	slots chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			go refuse(c, cap(l.slots))
		}
	}
}

// refuse answers a connection over the limit and closes it.
func refuse(c net.Conn, n int) {
	defer c.Close()
	msg := fmt.Sprintf("too many open connections: this server holds at most %d at once; try again later\n", n)
	c.SetWriteDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\nRetry-After: 1\r\n\r\n%s", len(msg), msg)
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// AllowHost lets requests name host in their Host header, besides the
// loopback names (localhost, 127.0.0.0/8, ::1), which are always allowed;
// wsreason serve allows its -addr's host. Any other Host is refused, so a
// page on another name that resolves here (DNS rebinding) reads nothing.
func AllowHost(hosts ...string) HandlerOption {
	return func(h *Handler) { h.hosts = append(h.hosts, hosts...) }
}

// AllowOrigin lets pages of origin (such as "http://localhost:3000") open
// WebSockets to the Handler; "*" lets any. A handshake with no Origin
// header (any client that is not a browser) and a page of the Handler's
// own origin are always allowed.
func AllowOrigin(origins ...string) HandlerOption {
	return func(h *Handler) { h.origins = append(h.origins, origins...) }
}

// hostAllowed reports whether r's Host names this server.
func (h *Handler) hostAllowed(r *http.Request) bool {
	host := r.Host
	if name, _, err := net.SplitHostPort(host); err == nil {
		host = name
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") || slices.Contains(h.hosts, host) {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// originAllowed reports whether r's Origin is absent (not a browser), the
// server's own (the page at /), or, when others is set, one AllowOrigin
// lets in.
func (h *Handler) originAllowed(r *http.Request, others bool) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if u, err := url.Parse(origin); err == nil && u.Host == r.Host && (u.Scheme == "http" || u.Scheme == "https") {
		return true
	}
	return others && (slices.Contains(h.origins, origin) || slices.Contains(h.origins, "*"))
}

// guard refuses a request whose Host is not this server's, or whose
// Origin may not do what it asks; it reports whether it refused.
func (h *Handler) guard(w http.ResponseWriter, r *http.Request, websocket bool) bool {
	switch {
	case !h.hostAllowed(r):
		http.Error(w, fmt.Sprintf("Host %q is not this server's name: it answers localhost, 127.0.0.1 and [::1] (and the hosts it was told to allow), which keeps pages that rebind a name to it out", cut(r.Host, 100)), http.StatusForbidden)
	case websocket && !h.originAllowed(r, true):
		http.Error(w, fmt.Sprintf("a page of origin %q may not open WebSockets here: allow it with -origin (AllowOrigin)", cut(r.Header.Get("Origin"), 100)), http.StatusForbidden)
	case r.Method == http.MethodPost && !h.originAllowed(r, false):
		http.Error(w, fmt.Sprintf("a page of origin %q may not post here: only the server's own page may", cut(r.Header.Get("Origin"), 100)), http.StatusForbidden)
	default:
		return false
	}
	return true
}

// cut shortens s to at most n bytes, saying how long it was. The result
// is a copy, so that a long s does not stay in memory behind it.
func cut(s string, n int) string {
	if len(s) <= n {
		return strings.Clone(s)
	}
	i := n
	for i > 0 && i < len(s) && s[i]&0xc0 == 0x80 { // not inside a UTF-8 sequence
		i--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:i], len(s))
}
