"""A fleet of clients on Python websockets that a server's deploy ends.
Usage: deploy.py URL N. It opens N connections to URL, prints {"open": N}
once all are open, then one line per connection as it closes: the code and
reason websockets reports (1006 when no Close frame came) and the time, in
ms since the epoch. websockets answers a Close frame by itself. It exits
when all have closed; the Go test kills it otherwise."""
import asyncio
import json
import sys
import time

import websockets


async def client(url, opened, n):
    ws = await websockets.connect(url, ping_interval=None, open_timeout=10)
    opened.append(ws)
    if len(opened) == n:
        print(json.dumps({"open": n}), flush=True)
    try:
        async for _ in ws:
            pass
    except websockets.ConnectionClosed:
        pass
    await ws.wait_closed()  # close_code is set once TCP is closed
    print(json.dumps({"code": ws.close_code, "reason": ws.close_reason,
                      "at": int(time.time() * 1000)}), flush=True)


async def main(url, n):
    opened = []
    await asyncio.gather(*(client(url, opened, n) for _ in range(n)))


asyncio.run(main(sys.argv[1], int(sys.argv[2])))
