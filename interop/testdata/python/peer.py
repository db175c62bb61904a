"""A peer of the interop tests on Python's websockets (Debian's
python3-websockets), driven by the Go test over JSON lines, the same
protocol as ../node/peer.js: see that file and interop/scripted_test.go.
"""
import asyncio
import json
import sys
import urllib.parse

import websockets

TIMEOUT = 5


def report(r):
    sys.stdout.write(json.dumps(r) + "\n")
    sys.stdout.flush()


def ended(ws):
    """How ws ended: the code and reason websockets reports."""
    reason = (ws.close_reason or "").encode("utf-8", "surrogateescape")
    return {"code": ws.close_code, "reason": reason.hex()}


async def wait_end(ws):
    """Reads until the connection ends, as an application that only reads."""
    try:
        async for _ in ws:
            pass
    except websockets.ConnectionClosed:
        pass
    await ws.wait_closed()


async def echo(ws):
    """Sends back every message until the connection ends, as Autobahn's
    echo servers do."""
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass
    await ws.wait_closed()


async def close_with(ws, code, reason_hex):
    """Closes with code and reason; returns close()'s refusal, if any."""
    try:
        reason = bytes.fromhex(reason_hex).decode("utf-8")
        await ws.close(code, reason)
    except Exception as e:  # the refusal is the result
        ws.transport.abort()
        return f"{type(e).__name__}: {e}"
    return None


async def serve(ws, path):
    parsed = urllib.parse.urlparse(path)
    parts = parsed.path.split("/")
    kind, id_ = (parts + ["", ""])[1:3]
    try:
        if kind == "answer":
            await asyncio.wait_for(wait_end(ws), TIMEOUT)
        elif kind == "echo":
            await asyncio.wait_for(echo(ws), TIMEOUT)
        elif kind == "recv":
            await asyncio.wait_for(wait_end(ws), TIMEOUT)
            report({"id": id_, **ended(ws)})
        elif kind == "close":
            q = urllib.parse.parse_qs(parsed.query)
            refused = await close_with(ws, int(q["code"][0]), q.get("reason", [""])[0])
            report({"id": id_, "refused": refused} if refused else {"id": id_, **ended(ws)})
    except asyncio.TimeoutError:
        report({"id": id_, "error": "timeout"})


async def client(cmd):
    id_ = cmd["id"]
    try:
        ws = await asyncio.wait_for(websockets.connect(cmd["url"]), TIMEOUT)
        if cmd["action"] == "close":
            refused = await asyncio.wait_for(close_with(ws, cmd["code"], cmd["reason"]), TIMEOUT)
            if refused:
                report({"id": id_, "refused": refused})
                return
        await asyncio.wait_for(wait_end(ws), TIMEOUT)
        report({"id": id_, **ended(ws)})
    except asyncio.TimeoutError:
        report({"id": id_, "error": "timeout"})
    except Exception as e:
        report({"id": id_, "error": f"{type(e).__name__}: {e}"})


async def main():
    server = await websockets.serve(serve, "127.0.0.1", 0)
    report({"port": server.sockets[0].getsockname()[1]})
    loop = asyncio.get_running_loop()
    tasks = set()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        task = asyncio.create_task(client(json.loads(line)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


asyncio.run(main())
