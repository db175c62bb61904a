"""Prints, as one JSON object, the close code names two Python stacks
declare, read from the installed modules: aiohttp's WSCloseCode and
Starlette's status.WS_* constants."""
import json

import aiohttp
import starlette.status

names = {
    "aiohttp": {c.name: int(c) for c in aiohttp.WSCloseCode},
    "Starlette/FastAPI": {
        n: v for n, v in vars(starlette.status).items() if n.startswith("WS_")
    },
}
print(json.dumps(names))
