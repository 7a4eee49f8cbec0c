"""The ASGI application object for uvicorn workers (`sio.casework.asgi:app`).

`sio serve` migrates the store before the workers start; each worker has its own engine without
pre-ping (decision 0009: a round trip less per request).
"""

from sio.casework.api import create_app
from sio.store.db import make_engine

app = create_app(make_engine(pre_ping=False))
