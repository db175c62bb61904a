package reasonstest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wsreasons/reasons/internal/rawserver"
	"github.com/wsreasons/reasons/reasonstest"
)

// TestRunServerOptions: without Timeout, the report says the 5 s its doc
// promises; two Header options with one name send both values; a Close
// frame's reason comes back in the result's GotText.
func TestRunServerOptions(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen [][]string
	answer := rawserver.Handler(rawserver.Answer([]byte{0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e'}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Values("X-Token"))
		mu.Unlock()
		answer.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := reasonstest.RunServer(ctx, rawserver.URL(srv), reasonstest.Header("X-Token", "a"), reasonstest.Header("X-Token", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Timeout != 5*time.Second {
		t.Errorf("the report's timeout is %v, want the default 5s", rep.Timeout)
	}
	mu.Lock()
	for _, v := range seen {
		if !slices.Equal(v, []string{"a", "b"}) {
			t.Errorf("a handshake carried X-Token %q, want both a and b", v)
			break
		}
	}
	mu.Unlock()
	if len(rep.Results) == 0 || rep.Results[0].GotText != "bye" {
		t.Errorf("the first result's GotText is %q, want bye", rep.Results[0].GotText)
	}
}
