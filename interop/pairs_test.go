package interop

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wsreasons/reasons"
)

// sendableCodes are the codes sent across every pair of libraries: every
// valid code from 1000 to 1014, the registered ones, and the edges of the
// application ranges.
var sendableCodes = []reasons.Reason{
	reasons.Normal, reasons.GoingAway, reasons.ProtocolError, reasons.UnacceptableData,
	reasons.InconsistentData, reasons.PolicyViolation, reasons.MessageTooBig,
	reasons.ExtensionNotPresent, reasons.UnexpectedCondition, reasons.ServiceRestart,
	reasons.TryAgainLater, reasons.BadGateway,
	reasons.Unauthorized, reasons.Forbidden, reasons.Timeout, 3999, 4000, 4001, 4999,
}

// closeTexts are the reason texts sent with each code.
var closeTexts = []string{
	"",
	"goodbye",
	"κόσμε 🙂 ünïcödé",
	strings.Repeat("é", 60) + "abc", // exactly 123 bytes
}

// refusedOnReceipt lists, for each library, the valid codes it refuses when
// they arrive in a Close frame: instead of reporting the code it fails the
// connection with 1002. These are the libraries' deviations from the IANA
// registry, asserted here so that a fix upstream shows up as a failure to
// update the table and interop/README.md.
var refusedOnReceipt = map[string][]reasons.Reason{
	"reasons":  nil,
	"gorilla":  {reasons.BadGateway},
	"coder":    nil,
	"gobwas":   {reasons.ServiceRestart, reasons.TryAgainLater, reasons.BadGateway},
	"gws":      nil,
	"fasthttp": {reasons.BadGateway},

	// Outside Go (TestScriptedPeers):
	"node-ws":           nil,
	"python-websockets": nil,
}

// otherReply lists, for each library, the valid codes it reports to its
// caller but answers with another code, and that code. RFC 6455 §5.5.1 lets
// an endpoint reply with any code, though it typically echoes the one it
// received; the senders here check for the echo.
var otherReply = map[string]map[reasons.Reason]reasons.Reason{
	"gws": gwsReplies(),
}

// gwsReplies: gws answers every valid code below 1016 with 1000, except
// 1014, which it reports and answers with 1002.
func gwsReplies() map[reasons.Reason]reasons.Reason {
	m := map[reasons.Reason]reasons.Reason{reasons.BadGateway: reasons.ProtocolError}
	for r := reasons.GoingAway; r <= reasons.TryAgainLater; r++ {
		if r.Valid() {
			m[r] = reasons.Normal
		}
	}
	return m
}

// readsNoReply lists the libraries that close the TCP connection right
// after sending their Close frame, so never see the peer's reply.
var readsNoReply = map[string]bool{"gws": true}

func TestSendableCodesAreValid(t *testing.T) {
	t.Parallel()
	for _, r := range sendableCodes {
		if !r.Valid() {
			t.Errorf("%d is in sendableCodes but not Valid", r)
		}
	}
	for c := 1000; c <= 1014; c++ {
		if r := reasons.Reason(c); r.Valid() && !slices.Contains(sendableCodes, r) {
			t.Errorf("valid code %d is missing from sendableCodes", c)
		}
	}
	if got := len(closeTexts[3]); got != reasons.MaxTextLen {
		t.Errorf("the longest text is %d bytes, want %d", got, reasons.MaxTextLen)
	}
}

// TestPairs closes connections between every pair of libraries, in both
// roles, with every sendable code and text, and checks what the receiving
// library reports. Our reference endpoint takes part as a server.
func TestPairs(t *testing.T) {
	t.Parallel()
	for _, srvLib := range pairServers() {
		srv := startServer(t, srvLib)
		for _, cliLib := range libraries {
			for _, serverSends := range []bool{true, false} {
				sender, receiver := srvLib, cliLib
				if !serverSends {
					sender, receiver = cliLib, srvLib
				}
				name := fmt.Sprintf("%s_server/%s_client/%s_closes", srvLib.name, cliLib.name, sender.name)
				if sender.name == receiver.name {
					name += "_as_" + map[bool]string{true: "server", false: "client"}[serverSends]
				}
				t.Run(name, func(t *testing.T) {
					for _, r := range sendableCodes {
						for _, text := range closeTexts {
							got, ok := closeOnce(t, srv, cliLib, serverSends, r, text)
							if !ok {
								continue
							}
							checkReceived(t, sender.name, receiver.name, r, text, got)
						}
					}
				})
			}
		}
	}
}

// pairServers are the servers of TestPairs: every library, and our reference
// endpoint.
func pairServers() []library {
	return append(slices.Clone(libraries), library{name: "reasons", accept: acceptReference})
}

// received is what the receiving library reported, and what the sending
// one made of the reply.
type received struct {
	code    int
	text    string
	err     error // the receiver's error instead of a code
	sendErr error
}

// closeOnce opens one connection, has one side close it with r and text,
// and returns what the other side reported.
func closeOnce(t *testing.T, srv *server, client library, serverSends bool, r reasons.Reason, text string) (received, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	serverEnd, clientEnd, err := connect(ctx, srv, client)
	if err != nil {
		t.Errorf("%d %q: %v", r, text, err)
		return received{}, false
	}
	defer serverEnd.drop()
	defer clientEnd.drop()
	sender, receiver := serverEnd, clientEnd
	if !serverSends {
		sender, receiver = clientEnd, serverEnd
	}
	sent := make(chan error, 1)
	go func() { sent <- sender.closeWith(r, text) }()
	var got received
	got.code, got.text, got.err = receiver.awaitClose()
	if got.err != nil {
		receiver.drop() // a refusing library may leave the sender waiting
	}
	got.sendErr = <-sent
	return got, true
}

func checkReceived(t *testing.T, sender, receiver string, r reasons.Reason, text string, got received) {
	t.Helper()
	if slices.Contains(refusedOnReceipt[receiver], r) {
		if got.err == nil {
			t.Errorf("%d %q: %s accepted the code it is listed as refusing (reported %d %q)", r, text, receiver, got.code, got.text)
		}
		return
	}
	if got.err != nil {
		t.Errorf("%d %q: %s reported an error instead of the code: %v", r, text, receiver, got.err)
		return
	}
	back, err := reasons.Get(got.code)
	if err != nil || back != r || got.text != text {
		t.Errorf("sent %d %q, %s reported %d %q (%v)", r, text, receiver, got.code, got.text, err)
	}
	// The sender fails its close when the reply is not the echo it expects,
	// or is a code it refuses on receipt, unless it does not read the reply.
	reply, other := otherReply[receiver][r]
	if !other {
		reply = r
	}
	wantErr := !readsNoReply[sender] && (reply != r || slices.Contains(refusedOnReceipt[sender], reply))
	if wantErr != (got.sendErr != nil) {
		t.Errorf("%d %q: %s replies %d, so closing from %s should fail: %v, but it reported %v", r, text, receiver, reply, sender, wantErr, got.sendErr)
	}
}
