"""Python websockets' own reconnect loop, as its documentation shows it:
`async for websocket in connect(url)`, with ConnectionClosed caught in the
body so that the loop goes on. Its back-off applies to failed handshakes
only and starts again after every successful one, so a server that closes
each connection right after the handshake sees it come back at once, again
and again. Usage: connect_loop.py URL [N], N loops at once (a fleet), 1
without it. The Go test kills it."""
import asyncio
import sys

import websockets


async def main(url):
    async for ws in websockets.connect(url):
        try:
            async for _ in ws:
                pass
        except websockets.ConnectionClosed:
            continue


async def fleet(url, n):
    await asyncio.gather(*(main(url) for _ in range(n)))


asyncio.run(fleet(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1))
