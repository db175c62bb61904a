"""Prints the line Python's websockets gives a closed connection, as a log
shows it: the exception's class and message. It connects to the URL given
as its first argument; with a code and a reason after it, the client closes
first with them, else it reads until the server closes."""
import asyncio
import sys

import websockets


async def main(url, close=None):
    async with websockets.connect(url) as ws:
        if close:
            await ws.close(int(close[0]), close[1])
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as e:
            print(f"{type(e).__module__}.{type(e).__qualname__}: {e}", flush=True)
            return
    print("no ConnectionClosed", flush=True)


asyncio.run(main(sys.argv[1], sys.argv[2:4] or None))
