package main

import (
	"strings"

	"github.com/wsreasons/reasons"
)

// registryNames are the names the IANA WebSocket Close Code Number Registry
// gives the named codes, as it spells them.
var registryNames = map[reasons.Reason]string{
	reasons.Normal:              "Normal Closure",
	reasons.GoingAway:           "Going Away",
	reasons.ProtocolError:       "Protocol error",
	reasons.UnacceptableData:    "Unsupported Data",
	reasons.Reserved:            "Reserved",
	reasons.NoStatus:            "No Status Rcvd",
	reasons.AbnormalClose:       "Abnormal Closure",
	reasons.InconsistentData:    "Invalid frame payload data",
	reasons.PolicyViolation:     "Policy Violation",
	reasons.MessageTooBig:       "Message Too Big",
	reasons.ExtensionNotPresent: "Mandatory Ext.",
	reasons.UnexpectedCondition: "Internal Error",
	reasons.ServiceRestart:      "Service Restart",
	reasons.TryAgainLater:       "Try Again Later",
	reasons.TLSHandshakeFailure: "TLS handshake",
	reasons.Unauthorized:        "Unauthorized",
	reasons.Forbidden:           "Forbidden",
	reasons.Timeout:             "Timeout",
}

// libraryNames are the names gorilla/websocket (after its Close prefix) and
// coder/websocket (after its Status prefix) give codes, where they differ
// from both ours and the registry's.
var libraryNames = map[string]reasons.Reason{
	"nostatusreceived":   reasons.NoStatus,            // gorilla CloseNoStatusReceived
	"mandatoryextension": reasons.ExtensionNotPresent, // gorilla and coder
	"internalservererr":  reasons.UnexpectedCondition, // gorilla CloseInternalServerErr
}

// fold reduces a name to what every spelling of it shares: lower case, no
// spaces, underscores, dashes or dots. "Mandatory Ext." and "MANDATORY_EXT"
// both fold to "mandatoryext".
func fold(name string) string {
	return strings.Map(func(c rune) rune {
		switch c {
		case ' ', '_', '-', '.':
			return -1
		}
		return c
	}, strings.ToLower(name))
}

// byName finds the code a name stands for: our Go name in any case or in
// snake case, the registry's name, or gorilla's and coder's constant names
// (CloseNormalClosure, StatusNormalClosure).
func byName(name string) (reasons.Reason, bool) {
	f := fold(name)
	if r, ok := byFolded(f); ok {
		return r, true
	}
	for _, prefix := range []string{"close", "status"} {
		if rest, ok := strings.CutPrefix(f, prefix); ok {
			if r, ok := byFolded(rest); ok {
				return r, true
			}
		}
	}
	return 0, false
}

func byFolded(f string) (reasons.Reason, bool) {
	for _, r := range reasons.Named() {
		if f == fold(r.String()) || f == fold(registryNames[r]) {
			return r, true
		}
	}
	r, ok := libraryNames[f]
	return r, ok
}
