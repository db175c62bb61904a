package main

import (
	"errors"
	"fmt"
	"slices"
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

// fold reduces a name to what every spelling of it shares: lower case, no
// spaces, underscores, dashes, dots or colons. "Mandatory Ext." and
// "MANDATORY_EXT" both fold to "mandatoryext".
func fold(name string) string {
	return strings.Map(func(c rune) rune {
		switch c {
		case ' ', '_', '-', '.', ':':
			return -1
		}
		return c
	}, strings.ToLower(name))
}

// meaning is one code a name stands for, and whose name it is.
type meaning struct {
	code  reasons.Reason
	whose string
}

// errNotAName is byName's error for a word that is nobody's name for a code.
var errNotAName = errors.New("not a close code name")

// byName finds the code a name stands for, in any case and with or without
// underscores: our Go name, the registry's name, or a name from one of the
// stacks in stacks, bare or qualified by its type (CloseCode.GOING_AWAY,
// CloseCode::Away, reasons.GoingAway). A name that stands for different
// codes in different stacks is refused with each meaning, never guessed.
func byName(name string) (reasons.Reason, error) {
	var found []meaning
	add := func(r reasons.Reason, whose string) {
		found = append(found, meaning{r, whose})
	}
	whole := fold(name)
	qualifier, bare := "", ""
	if i := strings.LastIndexAny(name, ".:"); i > 0 && i < len(name)-1 {
		qualifier, bare = fold(name[:i]), fold(name[i+1:])
	}
	for _, r := range reasons.Named() {
		if whole == fold(r.String()) || qualifier == "reasons" && bare == fold(r.String()) {
			add(r, "reasons."+r.String())
		}
		if registryNames[r] != "" && whole == fold(registryNames[r]) {
			add(r, fmt.Sprintf("the IANA registry's %q", registryNames[r]))
		}
	}
	for _, s := range stacks {
		qualified := bare != "" && slices.ContainsFunc(s.Types, func(t string) bool { return fold(t) == qualifier })
		for _, n := range s.Names {
			if whole == fold(n.Name) || qualified && bare == fold(n.Name) {
				add(n.Code, s.Stack+" "+n.Name)
			}
		}
	}
	if len(found) == 0 {
		return 0, errNotAName
	}
	codes, whose := grouped(found, func(m meaning) (reasons.Reason, string) { return m.code, m.whose })
	if len(codes) > 1 {
		meanings := make([]string, len(codes))
		for i, c := range codes {
			meanings[i] = fmt.Sprintf("%d (%s)", c, strings.Join(whose[c], ", "))
		}
		return 0, fmt.Errorf("%q names different codes in different stacks: %s; give the number instead", name, strings.Join(meanings, " but "))
	}
	return codes[0], nil
}

// grouped splits items by key: it returns the keys in the order they first
// appear, and the values that came with each.
func grouped[T any, K comparable](items []T, split func(T) (K, string)) ([]K, map[K][]string) {
	var keys []K
	values := map[K][]string{}
	for _, it := range items {
		k, v := split(it)
		if _, ok := values[k]; !ok {
			keys = append(keys, k)
		}
		values[k] = append(values[k], v)
	}
	return keys, values
}
