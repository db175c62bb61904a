"""A reconnecting client on Python's websockets, written as a careful user
would: after each close it decides from the code whether and when to come
back. It connects to the URL given as its argument until it decides to
stop or has connected 10 times, and prints one line per close."""
import asyncio
import random
import sys

import websockets

# Codes after which it does not come back on its own: done (1000), another
# server (1013), or a refusal that a retry would repeat.
STOP = {1000, 1002, 1003, 1007, 1008, 1009, 1010, 1013, 1015, 3000, 3003}


async def main(url):
    backoff = 0.1
    for _ in range(10):
        try:
            async with websockets.connect(url) as ws:
                try:
                    async for _ in ws:
                        pass
                except websockets.ConnectionClosed:
                    pass
                code = ws.close_code
        except (OSError, websockets.InvalidHandshake):
            code = 1006
        print(code, flush=True)
        if code in STOP:
            return
        if code == 1012:
            # The server restarts: the registry asks for a random 5-30 s;
            # this test client keeps to the low end, 5-6 s.
            await asyncio.sleep(random.uniform(5, 6))
            continue
        await asyncio.sleep(backoff * random.uniform(1, 1.5))
        backoff = min(backoff * 2, 10)


asyncio.run(main(sys.argv[1]))
