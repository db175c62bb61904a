"use strict";
// The reconnecting clients of npm, as their users run them: with their
// default options, on Node's ws. Usage: node reconnecting.js LIB URL [N],
// LIB one of reconnecting-websocket and partysocket; N sockets at once (a
// fleet), 1 without it. They reconnect on their own after every close,
// with their own back-off; the Go test kills the process.
const WS = require("ws");

const libs = {
  "reconnecting-websocket": () => require("reconnecting-websocket"),
  partysocket: () => require("partysocket/ws").default,
};
const [lib, url, n] = process.argv.slice(2);
if (!libs[lib] || !url) {
  console.error("usage: node reconnecting.js reconnecting-websocket|partysocket URL [N]");
  process.exit(2);
}
const ReconnectingWebSocket = libs[lib]();
for (let i = 0; i < Number(n || 1); i++) {
  const ws = new ReconnectingWebSocket(url, [], { WebSocket: WS });
  ws.addEventListener("error", () => {}); // a close follows
  ws.addEventListener("close", (e) => console.log(e.code));
}
