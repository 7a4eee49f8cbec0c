"""The ASGI application object for uvicorn workers (`sio.casework.asgi:app`).

`sio serve` migrates the store before the workers start; each worker has its own engine without
pre-ping (decision 0009: a round trip less per request), and compiles the pages' templates and
reads their catalogs before it serves (`sio.web.warm_up`).
"""

from sio.casework.api import create_app
from sio.store.db import make_engine
from sio.web import warm_up

app = create_app(make_engine(pre_ping=False))
warm_up(app)
