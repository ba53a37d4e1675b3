"""Incremental, resumable runs into an output directory (``-o DIR/``).

One shard per input file (:mod:`.shards`), a manifest of what each shard was
made from (:mod:`.manifest`), the decision what to skip (:mod:`.plan`) and the
making of shards, in this process or in workers (:mod:`.runner`).  The
command side is :mod:`segtool.cli.incremental`.
"""
