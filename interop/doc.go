// Package interop holds the tests that check package reasons against the Go
// WebSocket libraries people use with it: github.com/gorilla/websocket,
// github.com/coder/websocket, github.com/gobwas/ws, github.com/lxzan/gws and
// github.com/fasthttp/websocket, over real loopback connections, plus
// side-by-side benchmarks. It is a module of its own so that
// the reasons module itself has no dependencies.
//
// The results are written up in README.md beside this file.
package interop
