// Package reasons gives WebSocket close status codes a type, names, validity
// rules and a codec for the body of a Close frame.
//
// A WebSocket endpoint ends a connection by sending a Close frame. Its body is
// either empty or a 2-byte big-endian status code followed by up to 123 bytes
// of UTF-8 text, the reason (RFC 6455 §5.5.1). The codes are defined in
// RFC 6455 §7.4 and kept in the IANA WebSocket Close Code Number Registry:
// https://www.iana.org/assignments/websocket/websocket.xhtml#close-code-number.
//
// # Ranges
//
// RFC 6455 §7.4.2 splits the code space into parts, each a [Range]:
//
//   - 0-999 ([RangeUnused]) are never used.
//   - 1000-2999 ([RangeProtocol]) belong to the protocol. 1000-1003 and
//     1007-1014 may be sent; 1004 is reserved, and 1005, 1006 and 1015 are
//     reported by a library to its caller but never sent. The rest are
//     unassigned.
//   - 3000-3999 ([RangeRegistered]) are registered with IANA by libraries,
//     frameworks and applications, such as [Unauthorized] (3000).
//   - 4000-4999 ([RangePrivate]) are for applications to define among
//     themselves.
//   - 5000 and above ([RangeOutside]) are not close codes.
//
// [Reason.Valid] tells whether a code may be sent in, or accepted from, a
// Close frame. [Reason.Reserved] singles out the four named codes that must
// never be sent. [Reason.BrowserCloseable] tells which codes a page's script
// may pass to WebSocket.close() in a browser: only 1000 and 3000-4999.
//
// # Close handlers
//
// [FromError] reads how a connection ended from the error a WebSocket
// library's read returned, on gorilla/websocket, coder/websocket, gobwas/ws,
// lxzan/gws and fasthttp/websocket alike, and [Reason.Advice] says what a
// client should do next, so one switch serves them all:
//
//	_, _, err := conn.ReadMessage()
//	r, text, ok := reasons.FromError(err)
//	if !ok {
//		return err // not a close: a timeout, a cancelled context, another error
//	}
//	switch advice := r.Advice(); advice {
//	case reasons.AdviceDone:
//		return nil
//	case reasons.AdviceReconnect:
//		return reconnectWithBackoff()
//	case reasons.AdviceReconnectLater:
//		lo, hi := advice.Delay()
//		return reconnectAfter(lo + rand.N(hi-lo))
//	case reasons.AdviceElsewhere:
//		return tryAnotherServer()
//	case reasons.AdviceFix, reasons.AdviceDenied, reasons.AdviceApplication:
//		return fmt.Errorf("closed with %v %q: %s", r, text, r.Description())
//	}
//
// # Reconnect advice
//
// Each code's [Advice], and where it comes from:
//
//	code                          advice           source
//	1000                          done             RFC 6455 §7.4.1: the purpose is fulfilled
//	1001                          reconnect        §7.4.1: the server went down or away
//	1005, 1006                    reconnect        §7.1.5: no code, or the connection was lost;
//	                                               graphql-ws retries both
//	1011                          reconnect        §7.4.1, IANA: a condition on the server, not in
//	                                               the request (graphql-ws gives up here)
//	1012                          reconnect later  IANA registration: after a random 5-30 s
//	1013                          elsewhere        IANA registration: not the same server on
//	                                               the client's own initiative
//	1014                          reconnect        IANA: a gateway got a bad answer upstream;
//	                                               graphql-ws retries it
//	1002, 1003, 1007, 1009, 1010  fix              §7.4.1: each names a fault in what was sent;
//	                                               graphql-ws gives up on all of them
//	1015                          fix              §7.4.1: the TLS handshake failed; it fails
//	                                               again until the certificate is fixed
//	1008                          denied           §7.4.1: a policy refused the client
//	3000, 3003                    denied           IANA: Unauthorized, Forbidden
//	3008                          reconnect        IANA: the session timed out
//	other 3000-3999               application      IANA: each is registered to a library or
//	                                               framework, which gives its meaning
//	4000-4999                     application      §7.4.2: private to applications
//	0-999, 1004, 1016-2999, 5000+ fix              §7.4.1, §7.4.2: no peer may send them; one
//	                                               that does is broken
//
// graphql-ws is the client of the GraphQL over WebSocket protocol; its list
// is isFatalInternalCloseCode in its src/client.ts.
//
// For a code from anywhere else, [Get] checks its range and converts it.
//
// # Close frame bodies
//
// [Parse] decodes and validates a received body and, when it is malformed,
// returns the code to close with in reply. [Format] and [Append] build a body
// and refuse codes and texts a peer would reject.
//
// # Text and JSON
//
// A Reason marshals to text as its name ("GoingAway") or, without a name, its
// number, and reads back the number or the name in any case, with
// underscores between all of its words or none ("GoingAway", "GOING_AWAY",
// "going_away", "goingaway"), so it works with [flag.TextVar]. A JSON value of type Reason
// is a number, like on the wire. A map key is different: encoding/json writes
// map keys with MarshalText, so a map[Reason]int encodes as
// {"GoingAway":1,"4001":2}, and reads back the same way.
//
// All functions and methods are safe for concurrent use.
package reasons
