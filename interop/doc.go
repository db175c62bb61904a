// Package interop holds the tests that check package reasons against the Go
// WebSocket libraries people use with it: github.com/gorilla/websocket,
// github.com/coder/websocket, github.com/gobwas/ws, github.com/lxzan/gws and
// github.com/fasthttp/websocket, over real loopback connections; against
// outside peers (Node's ws, Python's websockets, aiohttp and Starlette, JSR
// 356's API on Java, headless Chromium and Firefox), for close handling and
// for the names and log lines wsreason reads; plus side-by-side benchmarks. It is a module of its own so that
// the reasons module itself has no dependencies.
//
// The results are written up in README.md beside this file.
package interop
