package interop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	coderws "github.com/coder/websocket"
	"github.com/gobwas/ws"
	gorillaws "github.com/gorilla/websocket"

	"github.com/wsreasons/reasons"
)

// Each benchmark runs the same job through package reasons and through the
// peers' nearest exported equivalent, as sub-benchmarks named impl=NAME, so
// that benchstat -col /impl puts them side by side. See BENCHMARKS.md.

// The sinks keep results alive, as a real caller would by writing a body to
// the wire or logging a reason, so the compiler cannot drop or stack-allocate
// them in one implementation and not another.
var (
	sink      int
	sinkBytes []byte
	sinkText  string
)

// benchText is a variable, as a reason is in real code, so no implementation
// gets its length folded into a constant.
var (
	benchText   = "server shutting down"
	benchText59 = "the service is restarting for an upgrade, back in a moment."
)

func BenchmarkParse(b *testing.B) {
	payloads := []struct {
		name string
		p    []byte
	}{
		{"code", body(1001, "")},
		{"text", body(1001, benchText)},
	}
	for _, pl := range payloads {
		b.Run(pl.name+"/impl=reasons", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r, text, err := reasons.Parse(pl.p)
				if err != nil {
					b.Fatal(err)
				}
				sink += int(r)
				sinkText = text
			}
		})
		// gobwas splits the job: ParseCloseFrameData decodes, and
		// CheckCloseFrameData validates code and UTF-8.
		b.Run(pl.name+"/impl=gobwas", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				code, text := ws.ParseCloseFrameData(pl.p)
				if err := ws.CheckCloseFrameData(code, text); err != nil {
					b.Fatal(err)
				}
				sink += int(code)
				sinkText = text
			}
		})
	}
}

// BenchmarkBody builds the Close frame body for a code and a reason: 1001
// with a 20-byte reason, and 1012 with a 59-byte one. op=format allocates a
// new body: reasons.Format, gorilla's FormatCloseMessage, gobwas's
// NewCloseFrameBody. op=append fills a reused buffer: reasons.Append, and
// gobwas's PutCloseFrameBody, which fills a buffer the caller sized and
// checks nothing, shown for scale. Neither peer has a checked way to fill a
// reused buffer.
func BenchmarkBody(b *testing.B) {
	buf := make([]byte, 0, reasons.MaxPayloadLen)
	for _, tc := range []struct {
		name string
		code reasons.Reason
		text *string
	}{
		{"text=20B", reasons.GoingAway, &benchText},
		{"text=59B", reasons.ServiceRestart, &benchText59},
	} {
		code, text := tc.code, *tc.text
		b.Run("op=format/"+tc.name+"/impl=reasons", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := reasons.Format(code, text)
				if err != nil {
					b.Fatal(err)
				}
				sinkBytes = p
			}
		})
		b.Run("op=format/"+tc.name+"/impl=gorilla", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBytes = gorillaws.FormatCloseMessage(int(code), text)
			}
		})
		// Format's steps, each measured apart. steps-copy is what the
		// peers do, written inline: allocate, put the code, copy. Format
		// is inlined too, but all after its allocation is one call:
		// steps-call is that call doing just the put and the copy, and
		// steps-checks adds the code and length checks. Format adds the
		// UTF-8 check to that.
		b.Run("op=format/"+tc.name+"/impl=steps-copy", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p := make([]byte, 2+len(text))
				binary.BigEndian.PutUint16(p, uint16(code))
				copy(p[2:], text)
				sinkBytes = p
			}
		})
		b.Run("op=format/"+tc.name+"/impl=steps-call", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := fillCall(make([]byte, 2+min(len(text), reasons.MaxTextLen)), code, text)
				if err != nil {
					b.Fatal(err)
				}
				sinkBytes = p
			}
		})
		b.Run("op=format/"+tc.name+"/impl=steps-checks", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := fillChecks(make([]byte, 2+min(len(text), reasons.MaxTextLen)), code, text)
				if err != nil {
					b.Fatal(err)
				}
				sinkBytes = p
			}
		})
		b.Run("op=format/"+tc.name+"/impl=gobwas", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBytes = ws.NewCloseFrameBody(ws.StatusCode(code), text)
			}
		})
		// A control: gorilla's function again, later in the round. Ours
		// over gorilla and ours over gorilla-again differ only by how
		// much the method moves a ratio.
		b.Run("op=format/"+tc.name+"/impl=gorilla-again", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkBytes = gorillaws.FormatCloseMessage(int(code), text)
			}
		})
		b.Run("op=append/"+tc.name+"/impl=reasons", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var err error
				buf, err = reasons.Append(buf[:0], code, text)
				if err != nil {
					b.Fatal(err)
				}
				sinkBytes = buf
			}
		})
		b.Run("op=append/"+tc.name+"/impl=gobwas-put-unchecked", func(b *testing.B) {
			b.ReportAllocs()
			p := buf[:2+len(text)]
			for b.Loop() {
				ws.PutCloseFrameBody(p, ws.StatusCode(code), text)
				sinkBytes = p
			}
		})
	}
}

// benchCodes mixes named, unnamed, valid and invalid codes.
var benchCodes = [16]uint16{1000, 1001, 1005, 1006, 1011, 1012, 1014, 1015, 1016, 2999, 3000, 3008, 4001, 4999, 5000, 999}

func BenchmarkString(b *testing.B) {
	// Named codes only: for unnamed ones both build "Name(N)" and allocate.
	named := [8]uint16{1000, 1001, 1002, 1006, 1008, 1011, 1013, 1015}
	b.Run("impl=reasons", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sinkText = reasons.Reason(named[i&7]).String()
		}
	})
	b.Run("impl=coder", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sinkText = coderws.StatusCode(named[i&7]).String()
		}
	})
}

// gobwasValid is the validity rule gobwas's CheckCloseFrameData applies,
// written with its StatusCode predicates.
func gobwasValid(c ws.StatusCode) bool {
	return !c.IsNotUsed() && !c.IsProtocolReserved() && c != ws.StatusNoMeaningYet &&
		!(c.IsProtocolSpec() && !c.IsProtocolDefined())
}

func BenchmarkValid(b *testing.B) {
	b.Run("impl=reasons", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if reasons.Reason(benchCodes[i&15]).Valid() {
				sink++
			}
		}
	})
	b.Run("impl=gobwas", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if gobwasValid(ws.StatusCode(benchCodes[i&15])) {
				sink++
			}
		}
	})
}

// BenchmarkFromError reads the code and text out of a read error as a close
// handler does: reasons.FromError against each library's own errors.As on
// its close error type, for the error that library returns.
func BenchmarkFromError(b *testing.B) {
	gorillaErr := fmt.Errorf("read: %w", &gorillaws.CloseError{Code: 1001, Text: benchText})
	coderErr := fmt.Errorf("failed to get reader: %w", coderws.CloseError{Code: 1001, Reason: benchText})
	for _, c := range []struct {
		name string
		err  error
		own  func(error) (int, string, bool)
	}{
		{"gorilla", gorillaErr, gorillaCloseOf},
		{"coder", coderErr, coderEndpoint{}.closeOf},
	} {
		b.Run(c.name+"/impl=reasons", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r, text, ok := reasons.FromError(c.err)
				if !ok {
					b.Fatal("not a close")
				}
				sink += int(r)
				sinkText = text
			}
		})
		b.Run(c.name+"/impl="+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				code, text, ok := c.own(c.err)
				if !ok {
					b.Fatal("not a close")
				}
				sink += code
				sinkText = text
			}
		})
	}
}

// fillCall is what Format calls after its allocation, less every check: it
// puts the code and copies the text.
//
//go:noinline
func fillCall(p []byte, code reasons.Reason, text string) ([]byte, error) {
	binary.BigEndian.PutUint16(p, uint16(code))
	copy(p[2:], text)
	return p, nil
}

var errBench = errors.New("refused")

// fillChecks is fillCall with Format's code and length checks.
//
//go:noinline
func fillChecks(p []byte, code reasons.Reason, text string) ([]byte, error) {
	if len(text) > reasons.MaxTextLen || !code.Valid() {
		return nil, errBench
	}
	binary.BigEndian.PutUint16(p, uint16(code))
	copy(p[2:], text)
	return p, nil
}
