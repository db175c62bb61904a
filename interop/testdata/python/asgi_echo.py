"""An echo server on uvicorn (Debian's python3-uvicorn), the ASGI server
most Python WebSocket applications run on: every message is sent back, as
Autobahn's echo servers do. It listens on a free port of 127.0.0.1 and
prints {"port": N} once it is ready, as peer.py does; the Go test kills
it.
"""
import asyncio
import json
import socket
import sys

import uvicorn


async def app(scope, receive, send):
    if scope["type"] != "websocket":
        return
    while True:
        event = await receive()
        if event["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif event["type"] == "websocket.receive":
            if event.get("text") is not None:
                await send({"type": "websocket.send", "text": event["text"]})
            else:
                await send({"type": "websocket.send", "bytes": event["bytes"]})
        elif event["type"] == "websocket.disconnect":
            return


async def main():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, fd=sock.fileno(), log_level="warning", ws="websockets"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    sys.stdout.write(json.dumps({"port": sock.getsockname()[1]}) + "\n")
    sys.stdout.flush()
    await task


asyncio.run(main())
