package interop

import (
	"encoding/json"
	"maps"
	"os/exec"
	"path/filepath"
	"testing"

	coderws "github.com/coder/websocket"
	gorillaws "github.com/gorilla/websocket"
)

// TestLibraryNames checks that wsreason takes gorilla's and coder's constant
// names for the codes those libraries give them: the values come from the
// libraries themselves, not from wsreason's own table.
func TestLibraryNames(t *testing.T) {
	t.Parallel()
	names := map[string]int{
		"CloseNormalClosure": gorillaws.CloseNormalClosure, "CloseGoingAway": gorillaws.CloseGoingAway,
		"CloseProtocolError": gorillaws.CloseProtocolError, "CloseUnsupportedData": gorillaws.CloseUnsupportedData,
		"CloseNoStatusReceived": gorillaws.CloseNoStatusReceived, "CloseAbnormalClosure": gorillaws.CloseAbnormalClosure,
		"CloseInvalidFramePayloadData": gorillaws.CloseInvalidFramePayloadData, "ClosePolicyViolation": gorillaws.ClosePolicyViolation,
		"CloseMessageTooBig": gorillaws.CloseMessageTooBig, "CloseMandatoryExtension": gorillaws.CloseMandatoryExtension,
		"CloseInternalServerErr": gorillaws.CloseInternalServerErr, "CloseServiceRestart": gorillaws.CloseServiceRestart,
		"CloseTryAgainLater": gorillaws.CloseTryAgainLater, "CloseTLSHandshake": gorillaws.CloseTLSHandshake,

		"StatusNormalClosure": int(coderws.StatusNormalClosure), "StatusGoingAway": int(coderws.StatusGoingAway),
		"StatusProtocolError": int(coderws.StatusProtocolError), "StatusUnsupportedData": int(coderws.StatusUnsupportedData),
		"StatusNoStatusRcvd": int(coderws.StatusNoStatusRcvd), "StatusAbnormalClosure": int(coderws.StatusAbnormalClosure),
		"StatusInvalidFramePayloadData": int(coderws.StatusInvalidFramePayloadData), "StatusPolicyViolation": int(coderws.StatusPolicyViolation),
		"StatusMessageTooBig": int(coderws.StatusMessageTooBig), "StatusMandatoryExtension": int(coderws.StatusMandatoryExtension),
		"StatusInternalError": int(coderws.StatusInternalError), "StatusServiceRestart": int(coderws.StatusServiceRestart),
		"StatusTryAgainLater": int(coderws.StatusTryAgainLater), "StatusBadGateway": int(coderws.StatusBadGateway),
		"StatusTLSHandshake": int(coderws.StatusTLSHandshake),
	}
	bin := buildWsreason(t)
	for name, want := range names {
		out, err := exec.Command(bin, "-json", name).Output()
		if err != nil {
			t.Errorf("wsreason %s: %v", name, err)
			continue
		}
		var doc struct {
			Codes []struct{ Code int } `json:"codes"`
		}
		if err := json.Unmarshal(out, &doc); err != nil || len(doc.Codes) != 1 || doc.Codes[0].Code != want {
			t.Errorf("wsreason %s gave %s (%v), want code %d", name, out, err, want)
		}
	}
	// and wsreason lists, as these libraries' names, exactly those
	listed := tableNames(t, bin)
	got := listed("gorilla/websocket")
	maps.Copy(got, listed("coder/websocket"))
	if !maps.Equal(got, names) {
		t.Errorf("wsreason lists for gorilla and coder %v; the modules declare %v", got, names)
	}
}

// buildWsreason builds the wsreason command into a temporary directory and
// returns its path.
func buildWsreason(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wsreason")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/wsreasons/reasons/cmd/wsreason").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
