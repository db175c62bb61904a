package reasonstest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/wsreasons/reasons/internal/rawserver"
	"github.com/wsreasons/reasons/reasonstest"
)

// A server that answers every Close frame with code 1005, which RFC 6455
// §7.4.1 forbids in a Close frame, gets a wrong verdict on every case;
// Autobahn's client refuses the frame, so the close is unclean.
func ExampleRunServer() {
	srv := httptest.NewServer(rawserver.Handler(rawserver.Answer([]byte{0x88, 0x02, 0x03, 0xed})))
	defer srv.Close()

	rep, err := reasonstest.RunServer(context.Background(), rawserver.URL(srv), reasonstest.Timeout(2*time.Second))
	if err != nil {
		fmt.Println(err)
		return
	}
	s := rep.Summary()
	fmt.Printf("%d cases: %d ok, %d tolerated, %d wrong\n", len(rep.Results), s.OK, s.Tolerated, s.Wrong)
	for _, r := range rep.Results {
		if r.Autobahn == "7.7.2" {
			fmt.Printf("%s %s: got %s, %s\n", r.Autobahn, r.Case, r.Got, r.Verdict)
			fmt.Println(r.Rule)
			fmt.Println("Autobahn:", r.Grade)
		}
	}
	// Output:
	// 47 cases: 0 ok, 0 tolerated, 47 wrong
	// 7.7.2 valid code 1001: got 1005, wrong
	// sent code 1005, which must not be set in a Close frame (§7.4.1)
	// Autobahn: UNCLEAN
}
