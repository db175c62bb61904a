package wsframe

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// Upgrade completes the server's side of the opening handshake (RFC 6455
// §4.2.2) by hand, so that every byte after it is the caller's to choose.
// A request that is no WebSocket handshake gets a 400 that says why. br
// reads what the client sent, including bytes already buffered.
func Upgrade(w http.ResponseWriter, r *http.Request) (conn net.Conn, br *bufio.Reader, err error) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if r.Method != http.MethodGet || key == "" || r.Header.Get("Sec-WebSocket-Version") != "13" {
		const why = "a WebSocket handshake needs GET, Sec-WebSocket-Key and Sec-WebSocket-Version: 13 (RFC 6455 §4.2.1)"
		http.Error(w, why, http.StatusBadRequest)
		return nil, nil, errors.New(why)
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		AcceptKey(key))
	return conn, brw.Reader, nil
}
