"use strict";
// A peer of the interop tests on Node's ws, driven by the Go test over JSON
// lines (see interop/scripted_test.go). It serves WebSockets on 127.0.0.1
// and prints {"port": N} first. By path:
//   /answer          lets ws answer the client's Close frame, as an
//                    application that only reads would
//   /recv/ID         the same, and reports the code and reason it received
//   /close/ID?code=C&reason=HEX
//                    closes with code C and the reason (hex of its bytes)
// Each line on stdin is a client command, {"id", "url", "action"}, with
// action "recv" (connect and report the server's Close) or "close" (connect
// and close with "code" and "reason", hex). Every connection reports once,
// in one line: {"id", "code", "reason" (hex)} from its close event, or
// {"id", "refused"} with the error close() threw, or {"id", "error"}.
const { WebSocket, WebSocketServer } = require("ws");
const readline = require("readline");

const timeoutMs = 5000;

function report(r) {
  process.stdout.write(JSON.stringify(r) + "\n");
}

// watch reports once how ws ended: the code and reason of its close event,
// or close()'s refusal, or a timeout.
function watch(ws, id) {
  let done = false;
  const once = (r) => {
    if (!done) {
      done = true;
      clearTimeout(timer);
      report(Object.assign({ id }, r));
    }
  };
  const timer = setTimeout(() => {
    once({ error: "timeout" });
    ws.terminate();
  }, timeoutMs);
  ws.on("error", () => {}); // the close event follows
  ws.on("close", (code, reason) => once({ code, reason: reason.toString("hex") }));
  return once;
}

// closeWith calls ws.close(code, reason) and reports a refusal.
function closeWith(ws, once, code, reasonHex) {
  try {
    ws.close(code, Buffer.from(reasonHex, "hex"));
  } catch (e) {
    once({ refused: e.message });
    ws.terminate();
  }
}

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
wss.on("listening", () => report({ port: wss.address().port }));
wss.on("connection", (ws, req) => {
  const url = new URL(req.url, "http://x");
  const [, kind, id] = url.pathname.split("/");
  switch (kind) {
    case "answer":
      ws.on("error", () => {});
      return;
    case "recv":
      watch(ws, id);
      return;
    case "close":
      closeWith(ws, watch(ws, id), Number(url.searchParams.get("code")), url.searchParams.get("reason") || "");
      return;
  }
  ws.terminate();
});

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line);
  const ws = new WebSocket(cmd.url);
  const once = watch(ws, cmd.id);
  if (cmd.action === "close") {
    ws.on("open", () => closeWith(ws, once, cmd.code, cmd.reason));
  }
});
