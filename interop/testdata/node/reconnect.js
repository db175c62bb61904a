"use strict";
// A reconnecting client on Node's ws, written as a careful user would:
// after each close it decides from the code whether and when to come back.
// It connects to the URL given as its argument until it decides to stop or
// has connected 10 times, and prints one line per close.
const { WebSocket } = require("ws");

// Codes after which it does not come back on its own: done (1000), another
// server (1013), or a refusal that a retry would repeat.
const stop = new Set([1000, 1002, 1003, 1007, 1008, 1009, 1010, 1013, 1015, 3000, 3003]);

let tries = 0;
let backoff = 100; // ms

function connect() {
  tries++;
  const ws = new WebSocket(process.argv[2]);
  ws.on("error", () => {}); // the close event follows
  ws.on("close", (code) => {
    console.log(code);
    if (stop.has(code) || tries >= 10) {
      return;
    }
    let wait;
    if (code === 1012) {
      // The server restarts: the registry asks for a random 5-30 s; this
      // test client keeps to the low end, 5-6 s.
      wait = 5000 + Math.random() * 1000;
    } else {
      wait = backoff * (1 + Math.random() / 2);
      backoff = Math.min(backoff * 2, 10000);
    }
    setTimeout(connect, wait);
  });
}

connect();
