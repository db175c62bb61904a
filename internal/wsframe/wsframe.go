// Package wsframe reads and writes single WebSocket frames (RFC 6455 §5.2)
// byte for byte, including frames that break the rules, for the tools and
// tests that need to see or send exactly what is on the wire, and the
// accept key of the opening handshake ([AcceptKey]) that both ends compute.
package wsframe

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcode is a frame's opcode (RFC 6455 §5.2).
type Opcode byte

// The opcodes RFC 6455 §5.2 defines.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xa
)

// String names o as RFC 6455 §5.2 does, with its number.
func (o Opcode) String() string {
	names := map[Opcode]string{
		OpContinuation: "continuation", OpText: "text", OpBinary: "binary",
		OpClose: "Close", OpPing: "Ping", OpPong: "Pong",
	}
	if n, ok := names[o]; ok {
		return fmt.Sprintf("%#x (%s)", byte(o), n)
	}
	return fmt.Sprintf("%#x (reserved)", byte(o))
}

// Control reports whether o is a control opcode (0x8-0xf).
func (o Opcode) Control() bool { return o&0x8 != 0 }

// Header is the part of a frame before its payload.
type Header struct {
	Fin    bool
	Rsv    byte // the three RSV bits, as the low bits
	Opcode Opcode
	Masked bool
	Mask   [4]byte
	Length uint64 // payload length
	// LengthForm is how the length was written: 7 for the 7-bit field
	// alone, 16 or 64 for the extended fields (RFC 6455 §5.2).
	LengthForm int
}

// Size is the number of bytes h takes before the payload: two, the
// extended length its LengthForm names, and the masking key if Masked.
func (h Header) Size() int {
	n := 2
	switch h.LengthForm {
	case 16:
		n += 2
	case 64:
		n += 8
	}
	if h.Masked {
		n += 4
	}
	return n
}

// ErrShort reports bytes that end before the header or payload does.
var ErrShort = errors.New("wsframe: frame ends early")

// Decode reads one whole frame from b: its header and its payload, unmasked
// into a new slice. The rest of b, after the frame, is returned too.
func Decode(b []byte) (h Header, payload, rest []byte, err error) {
	if len(b) < 2 {
		return h, nil, nil, fmt.Errorf("%w: %d bytes, a header has at least 2", ErrShort, len(b))
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = b[0] >> 4 & 0x7
	h.Opcode = Opcode(b[0] & 0xf)
	h.Masked = b[1]&0x80 != 0
	n, i := uint64(b[1]&0x7f), 2
	h.LengthForm = 7
	switch n {
	case 126:
		if len(b) < 4 {
			return h, nil, nil, fmt.Errorf("%w: the 16-bit length needs 4 header bytes, got %d", ErrShort, len(b))
		}
		n, i, h.LengthForm = uint64(binary.BigEndian.Uint16(b[2:])), 4, 16
	case 127:
		if len(b) < 10 {
			return h, nil, nil, fmt.Errorf("%w: the 64-bit length needs 10 header bytes, got %d", ErrShort, len(b))
		}
		n, i, h.LengthForm = binary.BigEndian.Uint64(b[2:]), 10, 64
	}
	h.Length = n
	if n>>63 != 0 {
		return h, nil, nil, fmt.Errorf("%w: the 64-bit length 0x%016x has its most significant bit set (RFC 6455 §5.2)", ErrBadLength, n)
	}
	if h.Masked {
		if len(b) < i+4 {
			return h, nil, nil, fmt.Errorf("%w: the masking key needs %d header bytes, got %d", ErrShort, i+4, len(b))
		}
		copy(h.Mask[:], b[i:])
		i += 4
	}
	if uint64(len(b)-i) < n {
		return h, nil, nil, fmt.Errorf("%w: the header says %d payload bytes, %d follow", ErrShort, n, len(b)-i)
	}
	payload = append([]byte{}, b[i:i+int(n)]...)
	if h.Masked {
		Unmask(payload, h.Mask)
	}
	return h, payload, b[i+int(n):], nil
}

// ErrBadLength reports a 64-bit payload length whose most significant bit
// is set, which RFC 6455 §5.2 forbids.
var ErrBadLength = errors.New("wsframe: bad payload length")

// ErrTooLarge reports a frame whose payload is longer than the reader
// accepts.
var ErrTooLarge = errors.New("wsframe: frame too large")

// Read reads one frame from r and returns its header and its payload,
// unmasked. A payload longer than max bytes is not read: Read returns the
// header and an error wrapping ErrTooLarge. When r ends before the frame
// does, the error wraps io.ErrUnexpectedEOF, or is io.EOF if r ended before
// the first byte.
func Read(r io.Reader, max uint64) (h Header, payload []byte, err error) {
	var b [14]byte // the longest header: 2 + 8 length bytes + 4 mask bytes
	if _, err := io.ReadFull(r, b[:2]); err != nil {
		return h, nil, err
	}
	need := 0
	switch b[1] & 0x7f {
	case 126:
		need = 2
	case 127:
		need = 8
	}
	if b[1]&0x80 != 0 {
		need += 4
	}
	if _, err := io.ReadFull(r, b[2:2+need]); err != nil {
		return h, nil, noEOF(err)
	}
	h, _, _, err = Decode(b[:2+need])
	if err != nil && !errors.Is(err, ErrShort) { // ErrShort: the payload is still to come
		return h, nil, err
	}
	if h.Length > max {
		return h, nil, fmt.Errorf("%w: %d bytes, at most %d are read", ErrTooLarge, h.Length, max)
	}
	payload = make([]byte, h.Length)
	if _, err := io.ReadFull(r, payload); err != nil {
		return h, nil, noEOF(err)
	}
	if h.Masked {
		Unmask(payload, h.Mask)
	}
	return h, payload, nil
}

// noEOF turns an io.EOF inside a frame into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Unmask applies mask to p in place; masking and unmasking are the same
// operation (RFC 6455 §5.3).
func Unmask(p []byte, mask [4]byte) {
	for i := range p {
		p[i] ^= mask[i&3]
	}
}

// Append appends a frame to dst with FIN set, opcode op and payload as it
// is, in the shortest length form, masked with mask when mask is not nil.
// It does not check payload against any rule, so it can write frames that
// break them.
func Append(dst []byte, op Opcode, payload []byte, mask *[4]byte) []byte {
	h := Header{Fin: true, Opcode: op}
	if mask != nil {
		h.Masked, h.Mask = true, *mask
	}
	return AppendFrame(dst, h, payload)
}

// AppendFrame appends a frame with header h and payload to dst. FIN, the RSV
// bits, the opcode and the mask are written as h gives them; the length is
// len(payload), in the form h.LengthForm names (7, 16 or 64), or in the
// shortest form when LengthForm is 0 or too small for it. h.Length is not
// used. Like Append it checks no rule.
func AppendFrame(dst []byte, h Header, payload []byte) []byte {
	b0 := byte(h.Opcode) & 0xf
	if h.Fin {
		b0 |= 0x80
	}
	dst = append(dst, b0|(h.Rsv&0x7)<<4)
	var maskBit byte
	if h.Masked {
		maskBit = 0x80
	}
	form := h.LengthForm
	switch n := len(payload); {
	case n > 0xffff:
		form = 64
	case n > 125 && form != 64:
		form = 16
	}
	switch n := len(payload); form {
	case 16:
		dst = binary.BigEndian.AppendUint16(append(dst, maskBit|126), uint16(n))
	case 64:
		dst = binary.BigEndian.AppendUint64(append(dst, maskBit|127), uint64(n))
	default:
		dst = append(dst, maskBit|byte(n))
	}
	if !h.Masked {
		return append(dst, payload...)
	}
	dst = append(dst, h.Mask[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	Unmask(dst[start:], h.Mask)
	return dst
}

// acceptGUID is the GUID of RFC 6455 §1.3 that a server appends to the
// client's key to prove it speaks WebSocket.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey is the Sec-WebSocket-Accept value a server must answer key
// with (RFC 6455 §4.2.2).
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}
