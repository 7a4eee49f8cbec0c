"""``python -m sio.cli``: run the `sio` command (without the entry point's early ``--lang``)."""

from sio.cli.application import main

main()
