"""segtool: documents → sentences → retrieval-ready chunks, with exact offsets."""

from __future__ import annotations

__version__ = "0.1.0"
