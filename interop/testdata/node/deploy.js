"use strict";
// A fleet of clients on Node's ws that a server's deploy ends. Usage:
// deploy.js URL N. It opens N connections to URL, prints {"open":N} once all
// are open, then one line per connection as it closes: the code and reason
// ws reports (1006 when no Close frame came) and the time, in ms since the
// epoch. ws answers a Close frame by itself. It exits when all have closed;
// the Go test kills it otherwise.
const { WebSocket } = require("ws");

const url = process.argv[2];
const n = Number(process.argv[3]);
let open = 0;
let closed = 0;
for (let i = 0; i < n; i++) {
  const ws = new WebSocket(url);
  ws.on("error", (err) => console.error(String(err)));
  ws.on("open", () => {
    if (++open === n) {
      console.log(JSON.stringify({ open }));
    }
  });
  ws.on("close", (code, reason) => {
    console.log(JSON.stringify({ code, reason: reason.toString(), at: Date.now() }));
    if (++closed === n) {
      process.exit(0);
    }
  });
}
