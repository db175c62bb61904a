package reasonstest

import (
	"testing"

	"github.com/wsreasons/reasons/internal/probe"
)

// TestNames: the public verdicts and grades are the engine's, which
// result converts by value.
func TestNames(t *testing.T) {
	pairs := [][2]string{
		{string(OK), string(probe.OK)}, {string(Tolerated), string(probe.Tolerated)}, {string(Wrong), string(probe.Wrong)},
		{string(GradeOK), string(probe.GradeOK)}, {string(GradeNonStrict), string(probe.GradeNonStrict)},
		{string(GradeFailed), string(probe.GradeFailed)}, {string(GradeWrongCode), string(probe.GradeWrongCode)},
		{string(GradeUnclean), string(probe.GradeUnclean)}, {string(GradeInformational), string(probe.GradeInformational)},
	}
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("reasonstest says %q where the engine says %q", p[0], p[1])
		}
	}
}
