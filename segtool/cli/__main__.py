"""``python -m segtool.cli``: the same as the ``segtool`` command."""

from segtool.cli import main

main()
