package wsframe

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// The frames of RFC 6455 §5.7, written out from the RFC's examples.
func TestDecodeRFCExamples(t *testing.T) {
	tests := []struct {
		name    string
		frame   []byte
		fin     bool
		op      Opcode
		masked  bool
		payload string
	}{
		{"unmasked text Hello", []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, true, OpText, false, "Hello"},
		{"masked text Hello", []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, true, OpText, true, "Hello"},
		{"first fragment Hel", []byte{0x01, 0x03, 0x48, 0x65, 0x6c}, false, OpText, false, "Hel"},
		{"unmasked Ping", []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, true, OpPing, false, "Hello"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, p, rest, err := Decode(append(tc.frame, 0xaa))
			if err != nil {
				t.Fatal(err)
			}
			if h.Fin != tc.fin || h.Opcode != tc.op || h.Masked != tc.masked || string(p) != tc.payload || h.Length != uint64(len(tc.payload)) {
				t.Errorf("Decode = %+v, %q; want fin %v, opcode %v, masked %v, %q", h, p, tc.fin, tc.op, tc.masked, tc.payload)
			}
			if !bytes.Equal(rest, []byte{0xaa}) {
				t.Errorf("rest = % x, want aa", rest)
			}
		})
	}
}

func TestDecodeLengthForms(t *testing.T) {
	// 256 bytes in the 16-bit form (RFC 6455 §5.7: 0x7E 0x01 0x00).
	f16 := append([]byte{0x82, 0x7e, 0x01, 0x00}, bytes.Repeat([]byte{'x'}, 256)...)
	h, p, _, err := Decode(f16)
	if err != nil || h.LengthForm != 16 || len(p) != 256 {
		t.Errorf("16-bit form: %+v, %d bytes, %v", h, len(p), err)
	}
	// 5 bytes in the 64-bit form, which the RFC forbids for small lengths
	// but which Decode must still read.
	f64 := append([]byte{0x88, 0x7f, 0, 0, 0, 0, 0, 0, 0, 5}, "hello"...)
	h, p, _, err = Decode(f64)
	if err != nil || h.LengthForm != 64 || string(p) != "hello" {
		t.Errorf("64-bit form: %+v, %q, %v", h, p, err)
	}
}

func TestDecodeShort(t *testing.T) {
	for _, b := range [][]byte{nil, {0x88}, {0x88, 0x7e, 0x01}, {0x88, 0x7f, 0}, {0x88, 0x85, 1, 2}, {0x88, 0x05, 'a'}} {
		if _, _, _, err := Decode(b); !errors.Is(err, ErrShort) {
			t.Errorf("Decode(% x) error = %v, want ErrShort", b, err)
		}
	}
}

func TestAppendRoundTrip(t *testing.T) {
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	// RFC 6455 §5.7's masked "Hello", written by Append.
	if got, want := Append(nil, OpText, []byte("Hello"), &mask), []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}; !bytes.Equal(got, want) {
		t.Errorf("Append = % x, want % x", got, want)
	}
	for _, n := range []int{0, 1, 125, 126, 65535, 65536} {
		payload := []byte(strings.Repeat("z", n))
		for _, m := range []*[4]byte{nil, &mask} {
			h, p, rest, err := Decode(Append(nil, OpClose, payload, m))
			if err != nil || !bytes.Equal(p, payload) || len(rest) != 0 || h.Opcode != OpClose || !h.Fin || h.Masked != (m != nil) {
				t.Errorf("%d bytes, masked %v: %+v, %d bytes back, %v", n, m != nil, h, len(p), err)
			}
		}
	}
}

func TestOpcodeString(t *testing.T) {
	for op, want := range map[Opcode]string{OpClose: "0x8 (Close)", OpText: "0x1 (text)", 0x3: "0x3 (reserved)", OpPong: "0xa (Pong)"} {
		if got := op.String(); got != want {
			t.Errorf("%d: %q, want %q", op, got, want)
		}
	}
}

// TestRead reads the frames of RFC 6455 §5.7 from a stream, one after the
// other, and a frame built by Append in each length form.
func TestRead(t *testing.T) {
	stream := []byte{
		0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58, // masked text Hello
		0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f, // unmasked Pong Hello
	}
	mask := [4]byte{1, 2, 3, 4}
	stream = Append(stream, OpBinary, bytes.Repeat([]byte{'y'}, 300), &mask)
	stream = Append(stream, OpClose, []byte{0x03, 0xe8}, nil)
	r := bytes.NewReader(stream)
	want := []struct {
		op      Opcode
		payload string
	}{{OpText, "Hello"}, {OpPong, "Hello"}, {OpBinary, strings.Repeat("y", 300)}, {OpClose, "\x03\xe8"}}
	for _, w := range want {
		h, p, err := Read(r, 1000)
		if err != nil || h.Opcode != w.op || string(p) != w.payload {
			t.Fatalf("Read = %v, %q, %v; want %v, %q", h.Opcode, p, err, w.op, w.payload)
		}
	}
	if _, _, err := Read(r, 1000); err != io.EOF {
		t.Errorf("at the end of the stream: %v, want io.EOF", err)
	}
}

func TestReadErrors(t *testing.T) {
	big := Append(nil, OpBinary, make([]byte, 200), nil)
	tests := []struct {
		name  string
		frame []byte
		max   uint64
		want  error
	}{
		{"too large", big, 100, ErrTooLarge},
		{"ends in the header", []byte{0x81}, 100, io.ErrUnexpectedEOF},
		{"ends in the length", []byte{0x82, 0x7e, 0x01}, 1000, io.ErrUnexpectedEOF},
		{"ends in the mask", []byte{0x81, 0x85, 0x37, 0xfa}, 100, io.ErrUnexpectedEOF},
		{"ends in the payload", big[:50], 1000, io.ErrUnexpectedEOF},
		{"64-bit length with its top bit set", []byte{0x88, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 2, 0x03, 0xe8}, 1000, ErrBadLength},
	}
	for _, tc := range tests {
		if _, _, err := Read(bytes.NewReader(tc.frame), tc.max); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestAppendFrame writes headers that break the rules on purpose and reads
// them back bit by bit, with the Size of the bytes before the payload.
func TestAppendFrame(t *testing.T) {
	mask := [4]byte{9, 8, 7, 6}
	tests := []struct {
		name string
		h    Header
		n    int
		head []byte // the bytes before the payload
	}{
		{"FIN clear", Header{Opcode: OpText}, 3, []byte{0x01, 0x03}},
		{"RSV1 and RSV3", Header{Fin: true, Rsv: 0x5, Opcode: OpClose}, 2, []byte{0xd8, 0x02}},
		{"masked", Header{Fin: true, Opcode: OpClose, Masked: true, Mask: mask}, 2, []byte{0x88, 0x82, 9, 8, 7, 6}},
		{"16-bit form for 5 bytes", Header{Fin: true, Opcode: OpBinary, LengthForm: 16}, 5, []byte{0x82, 0x7e, 0, 5}},
		{"64-bit form for 2 bytes", Header{Fin: true, Opcode: OpClose, LengthForm: 64}, 2, []byte{0x88, 0x7f, 0, 0, 0, 0, 0, 0, 0, 2}},
		{"7-bit form asked for 200 bytes", Header{Fin: true, Opcode: OpBinary, LengthForm: 7}, 200, []byte{0x82, 0x7e, 0, 200}},
		{"masked, 16-bit form", Header{Fin: true, Opcode: OpBinary, Masked: true, Mask: mask, LengthForm: 16}, 3, []byte{0x82, 0xfe, 0, 3, 9, 8, 7, 6}},
	}
	for _, tc := range tests {
		payload := bytes.Repeat([]byte{'p'}, tc.n)
		got := AppendFrame(nil, tc.h, payload)
		if !bytes.Equal(got[:len(tc.head)], tc.head) || len(got) != len(tc.head)+tc.n {
			t.Errorf("%s: % x, want % x and %d payload bytes", tc.name, got, tc.head, tc.n)
			continue
		}
		h, p, rest, err := Decode(got)
		if err != nil || !bytes.Equal(p, payload) || len(rest) != 0 {
			t.Errorf("%s: Decode = %q, %q, %v", tc.name, p, rest, err)
		}
		if h.Fin != tc.h.Fin || h.Rsv != tc.h.Rsv || h.Opcode != tc.h.Opcode || h.Masked != tc.h.Masked || h.Length != uint64(tc.n) {
			t.Errorf("%s: Decode header %+v, wrote %+v", tc.name, h, tc.h)
		}
		if h.Size() != len(tc.head) {
			t.Errorf("%s: Size() = %d, want %d", tc.name, h.Size(), len(tc.head))
		}
	}
}

// FuzzRead: Read never panics, never returns a payload over its limit, and
// a frame it reads is written back byte for byte by AppendFrame with the
// same header, its length form included.
func FuzzRead(f *testing.F) {
	mask := [4]byte{1, 2, 3, 4}
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, uint16(100))
	f.Add(Append(nil, OpClose, []byte{0x03, 0xe8}, nil), uint16(125))
	f.Add(Append(nil, OpBinary, bytes.Repeat([]byte{'y'}, 300), &mask), uint16(1000))
	f.Add(Append(nil, OpBinary, make([]byte, 200), nil), uint16(100))
	f.Add([]byte{0x88, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 2, 0x03, 0xe8}, uint16(10))
	f.Add([]byte{0x88, 0x7f, 0, 0, 0, 0, 0, 0, 0, 2, 0x03, 0xe8}, uint16(10))
	f.Fuzz(func(t *testing.T, data []byte, max uint16) {
		r := bytes.NewReader(data)
		h, p, err := Read(r, uint64(max))
		if err != nil {
			if errors.Is(err, ErrTooLarge) && h.Length <= uint64(max) {
				t.Fatalf("ErrTooLarge for %d bytes with a limit of %d", h.Length, max)
			}
			return
		}
		if uint64(len(p)) != h.Length || h.Length > uint64(max) {
			t.Fatalf("payload of %d bytes, header says %d, limit %d", len(p), h.Length, max)
		}
		used := data[:len(data)-r.Len()]
		if back := AppendFrame(nil, h, p); !bytes.Equal(back, used) {
			t.Fatalf("read % x, wrote back % x", used, back)
		}
	})
}

// TestAcceptKey checks the example of RFC 6455 §1.3.
func TestAcceptKey(t *testing.T) {
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("AcceptKey = %q", got)
	}
}

// TestLengthFormBoundaries holds the length rules of RFC 6455 §5.2 at
// their edges: 65,535 bytes is the largest the 16-bit form carries; a
// 64-bit form asked for stays 64-bit even for a short payload; a 16-bit
// form asked for gives way to the 64-bit one when the payload needs it,
// rather than writing a truncated length.
func TestLengthFormBoundaries(t *testing.T) {
	b := Append(nil, OpBinary, make([]byte, 65535), nil)
	if !bytes.Equal(b[:4], []byte{0x82, 0x7e, 0xff, 0xff}) || len(b) != 4+65535 {
		t.Errorf("65535 bytes: header % x, %d bytes in all; want 82 7e ff ff and the payload", b[:4], len(b))
	}
	b = Append(nil, OpBinary, make([]byte, 65536), nil)
	if !bytes.Equal(b[:10], []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}) {
		t.Errorf("65536 bytes: header % x, want the 64-bit form", b[:10])
	}
	b = AppendFrame(nil, Header{Fin: true, Opcode: OpBinary, LengthForm: 64}, make([]byte, 200))
	if !bytes.Equal(b[:10], []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 200}) {
		t.Errorf("200 bytes in the 64-bit form: header % x", b[:10])
	}
	b = AppendFrame(nil, Header{Fin: true, Opcode: OpBinary, LengthForm: 16}, make([]byte, 70000))
	h, payload, rest, err := Decode(b)
	if err != nil || h.LengthForm != 64 || h.Length != 70000 || len(payload) != 70000 || len(rest) != 0 {
		t.Errorf("70,000 bytes asked in the 16-bit form: %v, form %d, length %d", err, h.LengthForm, h.Length)
	}
}

// TestReadEdges: a payload of exactly the reader's bound is read; a header
// that promises a payload that never comes is an unexpected EOF, not a
// clean end.
func TestReadEdges(t *testing.T) {
	frame := Append(nil, OpText, []byte("hello"), nil)
	h, payload, err := Read(bytes.NewReader(frame), 5)
	if err != nil || h.Length != 5 || string(payload) != "hello" {
		t.Errorf("a 5-byte payload with max 5: %v, %q", err, payload)
	}
	if _, _, err := Read(bytes.NewReader([]byte{0x81, 0x05}), 1<<16); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("81 05 alone: %v, want io.ErrUnexpectedEOF", err)
	}
}
