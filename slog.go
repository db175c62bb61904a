package reasons

import "log/slog"

// LogValue makes a Reason log through [log/slog] as a group of its number
// and its name: reason.code=1001 reason.name=GoingAway in text, and
// "reason":{"code":1001,"name":"GoingAway"} in JSON. The number stays a
// number, so a log query can compare it (code >= 4000) or match it exactly
// whatever a library calls it, and the name stays beside it for people. A
// code without a name has no name attribute.
func (r Reason) LogValue() slog.Value {
	if r.named() {
		return slog.GroupValue(slog.Int("code", int(r)), slog.String("name", r.String()))
	}
	return slog.GroupValue(slog.Int("code", int(r)))
}
