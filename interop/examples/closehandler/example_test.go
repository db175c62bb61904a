package closehandler_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	coderws "github.com/coder/websocket"
	gorillaws "github.com/gorilla/websocket"

	"github.com/wsreasons/reasons"
	"github.com/wsreasons/reasons/interop/examples/closehandler"
)

// closingServer serves /close/CODE, which closes the connection with CODE
// and the text "bye", and /drop, which drops it without a Close frame.
func closingServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&gorillaws.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/close/"))
		if err != nil { // /drop
			return
		}
		rc, err := reasons.Get(code)
		if err != nil {
			return
		}
		body, err := reasons.Format(rc, "bye")
		if err != nil {
			return
		}
		c.WriteControl(gorillaws.CloseMessage, body, time.Now().Add(time.Second))
		c.SetReadDeadline(time.Now().Add(time.Second))
		c.ReadMessage() // wait for the client's reply
	}))
}

var paths = []string{"/close/1000", "/close/1001", "/close/1012", "/close/1008", "/close/3000", "/close/4001", "/drop"}

func Example_gorilla() {
	srv := closingServer()
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	for _, path := range paths {
		c, _, err := gorillaws.DefaultDialer.Dial(url+path, nil)
		if err != nil {
			fmt.Println(err)
			continue
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		r, action := closehandler.Gorilla(c)
		c.Close()
		fmt.Printf("%-12s %d %-16v %v\n", path, r, r, action)
	}
	// Output:
	// /close/1000  1000 Normal           done
	// /close/1001  1001 GoingAway        reconnect with back-off
	// /close/1012  1012 ServiceRestart   reconnect with back-off
	// /close/1008  1008 PolicyViolation  give up
	// /close/3000  3000 Unauthorized     give up
	// /close/4001  4001 Reason(4001)     give up
	// /drop        1006 AbnormalClose    reconnect with back-off
}

func Example_coder() {
	srv := closingServer()
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	for _, path := range paths {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, _, err := coderws.Dial(ctx, url+path, nil)
		if err != nil {
			fmt.Println(err)
			cancel()
			continue
		}
		r, action := closehandler.Coder(ctx, c)
		c.CloseNow()
		cancel()
		fmt.Printf("%-12s %d %-16v %v\n", path, r, r, action)
	}
	// Output:
	// /close/1000  1000 Normal           done
	// /close/1001  1001 GoingAway        reconnect with back-off
	// /close/1012  1012 ServiceRestart   reconnect with back-off
	// /close/1008  1008 PolicyViolation  give up
	// /close/3000  3000 Unauthorized     give up
	// /close/4001  4001 Reason(4001)     give up
	// /drop        1006 AbnormalClose    reconnect with back-off
}

func ExampleDecide() {
	for _, r := range []reasons.Reason{reasons.Normal, reasons.TryAgainLater, reasons.Forbidden, 4404} {
		fmt.Printf("%v: %v\n", r, closehandler.Decide(r))
	}
	// Output:
	// Normal: done
	// TryAgainLater: try another server
	// Forbidden: give up
	// Reason(4404): give up
}
