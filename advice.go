package reasons

import (
	"fmt"
	"strconv"
	"time"
)

// Advice is what a client should do once its connection ended with a code:
// a value to switch on in a close handler. Every code 0..65535 has exactly
// one Advice; the zero value is none of them. The package documentation's
// table gives the source of each choice.
type Advice uint8

// The seven pieces of advice.
const (
	// AdviceDone: the connection served its purpose (1000); do not
	// reconnect on your own.
	AdviceDone Advice = iota + 1
	// AdviceReconnect: the connection was lost or the server went away
	// (1001, 1005, 1006, 1011, 1014, 3008); reconnect with capped
	// exponential back-off and jitter, so that clients do not all return
	// at once.
	AdviceReconnect
	// AdviceReconnectLater: the server is restarting (1012); reconnect
	// after a random delay between the bounds [Advice.Delay] returns, 5 to
	// 30 seconds, as the IANA registration asks.
	AdviceReconnectLater
	// AdviceElsewhere: the server is overloaded (1013); connect to another
	// server, or to the same one only when the user asks, as the IANA
	// registration asks.
	AdviceElsewhere
	// AdviceFix: one side broke the protocol or sent what the other cannot
	// take (1002, 1003, 1007, 1009, 1010, 1015, and codes no peer may
	// send); reconnecting unchanged repeats the failure.
	AdviceFix
	// AdviceDenied: credentials or policy refused the client (1008, 3000,
	// 3003); do not reconnect in a loop, ask the user or renew them first.
	AdviceDenied
	// AdviceApplication: the code's meaning belongs to an application or
	// framework (4000-4999, and 3000-3999 but for 3000, 3003 and 3008);
	// the application decides.
	AdviceApplication
)

var adviceNames = [...]string{
	AdviceDone:           "done",
	AdviceReconnect:      "reconnect",
	AdviceReconnectLater: "reconnect later",
	AdviceElsewhere:      "elsewhere",
	AdviceFix:            "fix",
	AdviceDenied:         "denied",
	AdviceApplication:    "application",
}

// String names a in a word or two, such as "reconnect later", or
// "Advice(N)" for a value that is none of the seven.
func (a Advice) String() string {
	if a >= AdviceDone && int(a) < len(adviceNames) {
		return adviceNames[a]
	}
	return "Advice(" + strconv.Itoa(int(a)) + ")"
}

// MarshalText writes a as [Advice.String] names it, so that JSON carries
// "reconnect later"; a value that is none of the seven is an error.
func (a Advice) MarshalText() ([]byte, error) {
	if a < AdviceDone || int(a) >= len(adviceNames) {
		return nil, fmt.Errorf("reasons: advice %d is none of the seven", a)
	}
	return []byte(adviceNames[a]), nil
}

// UnmarshalText reads a name that [Advice.MarshalText] writes.
func (a *Advice) UnmarshalText(text []byte) error {
	for i, name := range adviceNames {
		if name != "" && name == string(text) {
			*a = Advice(i)
			return nil
		}
	}
	return fmt.Errorf("reasons: %q is no advice: give one of done, reconnect, reconnect later, elsewhere, fix, denied, application", text)
}

// The bounds of the random delay the IANA registration of 1012 (Service
// Restart) asks a client to wait before it reconnects.
const (
	serviceRestartMinDelay = 5 * time.Second
	serviceRestartMaxDelay = 30 * time.Second
)

// Delay returns the bounds of the random delay a client should wait before
// it reconnects: 5 and 30 seconds for [AdviceReconnectLater], from the IANA
// registration of 1012; zero for the others, which name no delay (the
// back-off of [AdviceReconnect] is the client's to choose).
func (a Advice) Delay() (min, max time.Duration) {
	if a == AdviceReconnectLater {
		return serviceRestartMinDelay, serviceRestartMaxDelay
	}
	return 0, 0
}

// Advice tells what a client should do once its connection ended with r.
// Codes that no peer may send (0-999, 1004, 1016-2999, 5000 and up) get
// [AdviceFix]: a peer that sends one is broken.
func (r Reason) Advice() Advice {
	switch r {
	case Normal:
		return AdviceDone
	case GoingAway, NoStatus, AbnormalClose, UnexpectedCondition, BadGateway, Timeout:
		return AdviceReconnect
	case ServiceRestart:
		return AdviceReconnectLater
	case TryAgainLater:
		return AdviceElsewhere
	case PolicyViolation, Unauthorized, Forbidden:
		return AdviceDenied
	}
	switch r.Range() {
	case RangeRegistered, RangePrivate:
		return AdviceApplication
	}
	return AdviceFix
}
