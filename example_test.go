package reasons_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/wsreasons/reasons"
)

func ExampleGet() {
	// An int from another library, such as gorilla/websocket's CloseError.Code.
	for _, code := range []int{1001, 4001, -1} {
		r, err := reasons.Get(code)
		if err != nil {
			fmt.Println(err, errors.Is(err, reasons.ErrOutOfRange))
			continue
		}
		fmt.Println(int(r), r)
	}
	// Output:
	// 1001 GoingAway
	// 4001 Reason(4001)
	// reasons: code -1 is out of range 0..65535 true
}

func ExampleReason_Valid() {
	for _, r := range []reasons.Reason{reasons.Normal, reasons.NoStatus, reasons.BadGateway, 2999, 4000, 5000} {
		fmt.Printf("%d %v\n", r, r.Valid())
	}
	// Output:
	// 1000 true
	// 1005 false
	// 1014 true
	// 2999 false
	// 4000 true
	// 5000 false
}

func ExampleReason_Reserved() {
	for _, r := range reasons.Named() {
		if r.Reserved() {
			fmt.Println(int(r), r)
		}
	}
	// Output:
	// 1004 Reserved
	// 1005 NoStatus
	// 1006 AbnormalClose
	// 1015 TLSHandshakeFailure
}

func ExampleReason_BrowserCloseable() {
	// A server may close with GoingAway, but a page's script may not.
	for _, r := range []reasons.Reason{reasons.Normal, reasons.GoingAway, reasons.Unauthorized, 4000, 5000} {
		fmt.Printf("%d valid=%v browser=%v\n", r, r.Valid(), r.BrowserCloseable())
	}
	// Output:
	// 1000 valid=true browser=true
	// 1001 valid=true browser=false
	// 3000 valid=true browser=true
	// 4000 valid=true browser=true
	// 5000 valid=false browser=false
}

func ExampleReason_Range() {
	for _, r := range []reasons.Reason{999, reasons.GoingAway, reasons.Forbidden, 4404, 5000} {
		fmt.Printf("%d %v\n", r, r.Range())
	}
	// Output:
	// 999 Unused
	// 1001 Protocol
	// 3003 Registered
	// 4404 Private
	// 5000 Outside
}

func ExampleParse() {
	payloads := [][]byte{
		{0x03, 0xe9, 'b', 'y', 'e'}, // 1001 "bye"
		{},                          // no code at all
		{0x03},                      // one byte
		{0x03, 0xed},                // 1005, which must not be sent
		{0x03, 0xe8, 0xff},          // a reason that is not UTF-8
	}
	for _, p := range payloads {
		r, text, err := reasons.Parse(p)
		if err != nil {
			fmt.Printf("reply with %d: %v\n", r, err)
			continue
		}
		fmt.Printf("%d %v %q\n", r, r, text)
	}
	// Output:
	// 1001 GoingAway "bye"
	// 1005 NoStatus ""
	// reply with 1002: reasons: Close frame body of 1 byte is too short to hold a code
	// reply with 1002: reasons: close code 1005 (NoStatus) may not appear in a Close frame
	// reply with 1007: reasons: close reason is not valid UTF-8: byte 0xff at offset 0
}

func ExampleFormat() {
	p, err := reasons.Format(reasons.GoingAway, "restarting")
	fmt.Printf("% x %v\n", p, err)

	_, err = reasons.Format(reasons.AbnormalClose, "")
	fmt.Println(err)
	// Output:
	// 03 e9 72 65 73 74 61 72 74 69 6e 67 <nil>
	// reasons: close code 1006 (AbnormalClose) may not appear in a Close frame
}

func ExampleAppend() {
	// Reuse one buffer for every Close frame body.
	buf := make([]byte, 0, reasons.MaxPayloadLen)
	buf, err := reasons.Append(buf[:0], reasons.TryAgainLater, "overloaded")
	fmt.Printf("% x %v\n", buf, err)
	// Output:
	// 03 f5 6f 76 65 72 6c 6f 61 64 65 64 <nil>
}

func ExampleTruncateText() {
	long := ""
	for range 50 {
		long += "né " // 4 bytes each
	}
	text := reasons.TruncateText(long)
	_, err := reasons.Format(reasons.PolicyViolation, text)
	fmt.Println(len(long), len(text), err)
	// Output:
	// 200 123 <nil>
}

// frameClosed is an application's own error for a Close frame it read; by
// implementing reasons.CloseReasoner it tells FromError the code and text.
type frameClosed struct {
	code reasons.Reason
	text string
}

func (e *frameClosed) Error() string                         { return fmt.Sprintf("closed: %d %s", e.code, e.text) }
func (e *frameClosed) CloseReason() (reasons.Reason, string) { return e.code, e.text }

func ExampleFromError() {
	for _, err := range []error{
		&frameClosed{reasons.TryAgainLater, "overloaded"},
		fmt.Errorf("read: %w", &frameClosed{4001, "kicked"}),
		fmt.Errorf("failed to read frame header: %w", io.EOF),
		fmt.Errorf("read: %w", context.DeadlineExceeded),
		nil,
	} {
		r, text, ok := reasons.FromError(err)
		fmt.Printf("%d %v %q %v\n", r, r, text, ok)
	}
	// Output:
	// 1013 TryAgainLater "overloaded" true
	// 4001 Reason(4001) "kicked" true
	// 1006 AbnormalClose "" true
	// 0 Reason(0) "" false
	// 0 Reason(0) "" false
}

// A close handler decides what to do from the error its library's read
// returned and the code's advice.
func Example_closeHandler() {
	decide := func(err error) string {
		r, text, ok := reasons.FromError(err)
		if !ok {
			return "no close: " + err.Error()
		}
		switch advice := r.Advice(); advice {
		case reasons.AdviceDone:
			return "done"
		case reasons.AdviceReconnect:
			return "reconnect with back-off"
		case reasons.AdviceReconnectLater:
			lo, hi := advice.Delay()
			return fmt.Sprintf("reconnect after a random %v to %v", lo, hi)
		case reasons.AdviceElsewhere: // the server sheds load: not the same one again
			return "try another server"
		case reasons.AdviceFix, reasons.AdviceDenied, reasons.AdviceApplication:
			return fmt.Sprintf("give up (%v): %v %q: %s", advice, r, text, r.Description())
		}
		return "unreachable"
	}
	for _, err := range []error{
		&frameClosed{reasons.Normal, ""},
		&frameClosed{reasons.ServiceRestart, "deploying"},
		&frameClosed{reasons.TryAgainLater, ""},
		io.ErrUnexpectedEOF,
		&frameClosed{reasons.MessageTooBig, "max 1 MiB"},
		&frameClosed{reasons.Unauthorized, "token expired"},
		context.Canceled,
	} {
		fmt.Println(decide(err))
	}
	// Output:
	// done
	// reconnect after a random 5s to 30s
	// try another server
	// reconnect with back-off
	// give up (fix): MessageTooBig "max 1 MiB": A message was larger than the endpoint is willing to process.
	// give up (denied): Unauthorized "token expired": The request needs authentication that was missing or did not succeed, as HTTP 401 does.
	// no close: context canceled
}

// Advice tells a client what to do once its connection has ended.
func ExampleReason_Advice() {
	for _, r := range []reasons.Reason{reasons.Normal, reasons.GoingAway, reasons.ServiceRestart, reasons.TryAgainLater,
		reasons.ProtocolError, reasons.PolicyViolation, 4001, 999} {
		fmt.Printf("%d %v: %v\n", r, r, r.Advice())
	}
	// Output:
	// 1000 Normal: done
	// 1001 GoingAway: reconnect
	// 1012 ServiceRestart: reconnect later
	// 1013 TryAgainLater: elsewhere
	// 1002 ProtocolError: fix
	// 1008 PolicyViolation: denied
	// 4001 Reason(4001): application
	// 999 Reason(999): fix
}

func Example_flagTextVar() {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	var shutdown reasons.Reason
	fs.TextVar(&shutdown, "shutdown-code", reasons.GoingAway, "close code sent on shutdown")

	fmt.Println(shutdown)
	for _, args := range [][]string{{"-shutdown-code=SERVICE_RESTART"}, {"-shutdown-code", "4001"}} {
		if err := fs.Parse(args); err != nil {
			fmt.Println(err)
		}
		fmt.Println(shutdown, int(shutdown))
	}
	// Output:
	// GoingAway
	// ServiceRestart 1012
	// Reason(4001) 4001
}

func ExampleReason_MarshalJSON() {
	type closed struct {
		Code   reasons.Reason `json:"code"`
		Reason string         `json:"reason"`
	}
	out, _ := json.Marshal(closed{reasons.GoingAway, "bye"})
	fmt.Println(string(out))

	var in closed
	err := json.Unmarshal([]byte(`{"code":"TRY_AGAIN_LATER","reason":""}`), &in)
	fmt.Println(in.Code, err)

	err = json.Unmarshal([]byte(`{"code":"Bogus"}`), &in)
	fmt.Println(err)
	// Output:
	// {"code":1001,"reason":"bye"}
	// TryAgainLater <nil>
	// reasons: "Bogus" is neither a close code name nor a decimal number
}

// A Reason logs through log/slog as its code and its name.
func ExampleReason_LogValue() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{} // a fixed output for the example
			}
			return a
		},
	}))
	logger.Info("connection closed", "reason", reasons.GoingAway, "peer", "203.0.113.7")
	logger.Info("connection closed", "reason", reasons.Reason(4001))
	// Output:
	// {"level":"INFO","msg":"connection closed","reason":{"code":1001,"name":"GoingAway"},"peer":"203.0.113.7"}
	// {"level":"INFO","msg":"connection closed","reason":{"code":4001}}
}
