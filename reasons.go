package reasons

import "slices"

// Reason is a WebSocket close status code: the first two bytes of a Close
// frame's body, defined in RFC 6455 §7.4 and kept in the IANA "WebSocket Close
// Code Number Registry"
// (https://www.iana.org/assignments/websocket/websocket.xhtml#close-code-number).
//
// Every uint16 is a Reason, named or not. The named constants below are the
// codes the RFC and the registry define; String returns their Go name, or
// "Reason(N)" for any other code. The zero value, Reason(0), is not a usable
// close code.
type Reason uint16

// Codes defined by RFC 6455 §7.4.1, and 1012-1014 added to the IANA registry
// after the RFC was published. The registry's entries for 1012 and 1013 cite
// the message that defined them on the IETF hybi list, "Additional WebSocket
// Close Error Codes" (https://www.ietf.org/mail-archive/web/hybi/current/msg09649.html):
// after 1012 a client may reconnect after a random delay of 5 to 30 seconds;
// after 1013 it should not reconnect to the same server by itself, because
// that server is shedding load, but may try another address or wait for its
// user.
const (
	Normal              Reason = iota + 1000 // 1000, RFC 6455 §7.4.1
	GoingAway                                // 1001, RFC 6455 §7.4.1
	ProtocolError                            // 1002, RFC 6455 §7.4.1
	UnacceptableData                         // 1003, RFC 6455 §7.4.1
	Reserved                                 // 1004, RFC 6455 §7.4.1; never sent
	NoStatus                                 // 1005, RFC 6455 §7.4.1; never sent
	AbnormalClose                            // 1006, RFC 6455 §7.4.1; never sent
	InconsistentData                         // 1007, RFC 6455 §7.4.1
	PolicyViolation                          // 1008, RFC 6455 §7.4.1
	MessageTooBig                            // 1009, RFC 6455 §7.4.1
	ExtensionNotPresent                      // 1010, RFC 6455 §7.4.1
	UnexpectedCondition                      // 1011, RFC 6455 §7.4.1 and IANA registry
	ServiceRestart                           // 1012, IANA registry
	TryAgainLater                            // 1013, IANA registry
	BadGateway                               // 1014, IANA registry
	TLSHandshakeFailure                      // 1015, RFC 6455 §7.4.1; never sent
)

// Codes registered in the IANA registry's 3000-3999 range for libraries and
// frameworks.
const (
	Unauthorized Reason = 3000 // 3000, IANA registry
	Forbidden    Reason = 3003 // 3003, IANA registry
	Timeout      Reason = 3008 // 3008, IANA registry
)

// named lists every named Reason in numeric order.
var named = [...]Reason{
	Normal, GoingAway, ProtocolError, UnacceptableData, Reserved, NoStatus,
	AbnormalClose, InconsistentData, PolicyViolation, MessageTooBig,
	ExtensionNotPresent, UnexpectedCondition, ServiceRestart, TryAgainLater,
	BadGateway, TLSHandshakeFailure, Unauthorized, Forbidden, Timeout,
}

// Named returns the 19 named codes in numeric order. The slice is a fresh
// copy on each call.
func Named() []Reason {
	s := named
	return s[:]
}

// Get returns the Reason for code, which is typically an int that another
// library handed over, such as gorilla/websocket's CloseError.Code. Every code
// from 0 to 65535 succeeds, named or not. Anything outside that range returns
// an error that matches [ErrOutOfRange].
//
// coder/websocket's CloseStatus returns -1 when no Close frame was received:
// Get reports that as out of range, and a handler usually treats it as
// [AbnormalClose].
func Get(code int) (Reason, error) {
	if code < 0 || code > 0xffff {
		return 0, errorf(ErrOutOfRange, "code %d is out of range 0..65535", code)
	}
	return Reason(code), nil
}

// Valid reports whether r may be sent in a Close frame, and so whether a
// received Close frame carrying r is acceptable (RFC 6455 §7.4 and the IANA
// registry). The valid codes are 1000-1003, 1007-1014 and 3000-4999.
func (r Reason) Valid() bool {
	// validProtocol has bit i set when 1000+i may be sent.
	const validProtocol = 0b0111_1111_1000_1111
	return r-3000 < 2000 || r-1000 < 16 && validProtocol>>(r-1000)&1 != 0
}

// BrowserCloseable reports whether a script in a web browser may pass r to
// WebSocket.close(): only 1000 and 3000-4999, under the WHATWG WebSockets
// standard. Browsers throw an InvalidAccessError for any other code, even one
// that is [Reason.Valid] for servers and other clients, such as [GoingAway].
func (r Reason) BrowserCloseable() bool {
	return r == Normal || r-3000 < 2000
}

// Reserved reports whether r is one of the named codes that an endpoint must
// never put in a Close frame: [Reserved], [NoStatus], [AbnormalClose] and
// [TLSHandshakeFailure]. The last three exist so that a library can report,
// after the fact, how a connection ended.
func (r Reason) Reserved() bool {
	return r-Reserved < 3 || r == TLSHandshakeFailure
}

// named reports whether r is one of the constants listed by [Named]. It
// searches that list, so that the list is the one place the names live.
func (r Reason) named() bool {
	_, found := slices.BinarySearch(named[:], r)
	return found
}

// Range returns the part of the close code space that r belongs to.
func (r Reason) Range() Range {
	switch {
	case r < 1000:
		return RangeUnused
	case r < 3000:
		return RangeProtocol
	case r < 4000:
		return RangeRegistered
	case r < 5000:
		return RangePrivate
	}
	return RangeOutside
}

// Description returns a short explanation of r: what it means, who sends it
// and, where it matters, what a close handler should do about it. A code
// without a name gets the description of its [Range].
func (r Reason) Description() string {
	switch r {
	case Normal:
		return "The connection did what it was opened for and both sides are done with it."
	case GoingAway:
		return "The endpoint is leaving, for example a server shutting down or a browser tab navigating away. A client may reconnect later."
	case ProtocolError:
		return "The endpoint received something that breaks the WebSocket protocol, such as a malformed frame or Close payload."
	case UnacceptableData:
		return "The endpoint received a kind of data it does not handle, for example a binary message where only text is expected."
	case Reserved:
		return "Reserved by RFC 6455 with no meaning yet. It must never be sent."
	case NoStatus:
		return "Reported locally when the peer's Close frame carried no status code. It must never be sent in a Close frame."
	case AbnormalClose:
		return "Reported locally when the connection ended without any Close frame, such as a dropped TCP connection. It must never be sent; a client usually reconnects with back-off."
	case InconsistentData:
		return "A message's content did not match its type, most often a text message or close reason that is not valid UTF-8."
	case PolicyViolation:
		return "The endpoint refuses a message under its own policy. It is the generic choice when no more specific code fits or the details should stay hidden."
	case MessageTooBig:
		return "A message was larger than the endpoint is willing to process."
	case ExtensionNotPresent:
		return "Sent by a client whose required extensions the server did not agree to in the handshake; the reason may name them. Servers never send it."
	case UnexpectedCondition:
		return "The endpoint hit an internal error that stopped it from serving the connection."
	case ServiceRestart:
		return "The server is restarting. A client may reconnect, after waiting a random 5 to 30 seconds so that its clients do not all return at once."
	case TryAgainLater:
		return "The server is shedding load for now, for example because it is overloaded. A client should not reconnect to the same server by itself; it may try another address, or reconnect when its user asks."
	case BadGateway:
		return "A gateway or proxy got an invalid response from the upstream server it was relaying to."
	case TLSHandshakeFailure:
		return "Reported locally when the TLS handshake failed, for example because the certificate could not be verified. It must never be sent in a Close frame."
	case Unauthorized:
		return "The request needs authentication that was missing or did not succeed, as HTTP 401 does."
	case Forbidden:
		return "The peer is known but not allowed to use this resource, as HTTP 403 does."
	case Timeout:
		return "The endpoint closed the connection because something took too long, as HTTP 408 does."
	}
	return r.Range().Description()
}

// Range is a part of the close code space, as divided by RFC 6455 §7.4.2 and
// the IANA registry. Every [Reason] belongs to exactly one Range.
type Range uint8

// The five ranges, in numeric order.
const (
	RangeUnused     Range = iota // 0-999: never used as close codes
	RangeProtocol                // 1000-2999: defined by RFC 6455 and its extensions
	RangeRegistered              // 3000-3999: registered with IANA by libraries and frameworks
	RangePrivate                 // 4000-4999: free for applications to agree on privately
	RangeOutside                 // 5000-65535: not close codes at all
)

// Bounds returns the first and last code of g. For an unknown Range both are 0.
func (g Range) Bounds() (first, last Reason) {
	switch g {
	case RangeUnused:
		return 0, 999
	case RangeProtocol:
		return 1000, 2999
	case RangeRegistered:
		return 3000, 3999
	case RangePrivate:
		return 4000, 4999
	case RangeOutside:
		return 5000, 0xffff
	}
	return 0, 0
}

// Description explains what the codes in g are for. It is also the description
// of every code in g that has no name.
func (g Range) Description() string {
	switch g {
	case RangeUnused:
		return "Not used: codes below 1000 are never valid in a Close frame."
	case RangeProtocol:
		return "Kept for the WebSocket protocol itself. Codes here without a name are unassigned and must not be sent until a standard defines them."
	case RangeRegistered:
		return "Registered with IANA for libraries, frameworks and applications; both sides may send them."
	case RangePrivate:
		return "Private use: applications agree on their meaning between themselves; both sides may send them."
	case RangeOutside:
		return "Outside the close code space: codes from 5000 up are never valid in a Close frame."
	}
	return "Not a range of close codes."
}
