package interop

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/internal/wsframe"
)

// referenceEndpoint is our own server endpoint: upgraded by gobwas/ws,
// framed by internal/wsframe, and deciding how to answer a Close frame with
// nothing but reasons.Parse and reasons.Format.
type referenceEndpoint struct {
	conn net.Conn
	r    io.Reader
}

func acceptReference(w http.ResponseWriter, r *http.Request) (endpoint, error) {
	conn, buf, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return nil, err
	}
	return &referenceEndpoint{conn, buf}, nil
}

// readClose reads frames until a Close frame and returns its body. It
// echoes every text message that comes in one frame, as the echo servers
// Autobahn TestSuite tests do.
func (e *referenceEndpoint) readClose() ([]byte, error) {
	e.conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		h, payload, err := wsframe.Read(e.r, 1<<20)
		switch {
		case err != nil:
			return nil, err
		case h.Opcode == wsframe.OpClose:
			return payload, nil
		case h.Opcode == wsframe.OpText && h.Fin:
			e.conn.SetWriteDeadline(time.Now().Add(timeout))
			e.conn.Write(wsframe.Append(nil, wsframe.OpText, payload, nil))
		}
	}
}

func (e *referenceEndpoint) writeClose(body []byte) error {
	return writeServerClose(e.conn, body)
}

// awaitClose waits for a Close frame, then replies: with the received code
// on success (no code for an empty body), or with the code Parse names for a
// malformed body.
func (e *referenceEndpoint) awaitClose() (int, string, error) {
	payload, err := e.readClose()
	if err != nil {
		return 0, "", err
	}
	r, text, perr := reasons.Parse(payload)
	// r is the code to echo or the code to reply with: either way one that
	// Format accepts, or NoStatus, which it turns into an empty body.
	reply, err := reasons.Format(r, "")
	if err != nil {
		return 0, "", err
	}
	// The peer may have gone already: gws closes the connection right
	// after its Close frame.
	e.writeClose(reply)
	if perr != nil {
		return 0, "", perr
	}
	return int(r), text, nil
}

func (e *referenceEndpoint) closeWith(r reasons.Reason, text string) error {
	body, err := reasons.Format(r, text)
	if err != nil {
		return err
	}
	if err := e.writeClose(body); err != nil {
		return err
	}
	reply, err := e.readClose()
	if err != nil {
		return err
	}
	got, _, err := reasons.Parse(reply)
	if err == nil && got != r {
		err = fmt.Errorf("peer replied with %d", got)
	}
	return err
}

func (e *referenceEndpoint) drop() { e.conn.Close() }
