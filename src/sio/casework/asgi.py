"""The ASGI application object for uvicorn workers (`sio.casework.asgi:app`)."""

from sio.casework.api import create_app

app = create_app()
