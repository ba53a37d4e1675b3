"""The configuration identity: what makes two runs produce the same records.

A component's identity is its registered name, its ``version`` (bumped when
its behaviour changes on purpose), every output-shaping option from its
declaration, and — for components that load something — a fingerprint of
what was actually loaded (model files, tokenizer).  Runtime-only options
(device, batch size, cache paths) are left out, so they never change ids.

Record ids, the embedding cache key and incremental-run manifests are all
derived from :func:`config_key`, so the CLI, the Python API and any other
executor agree byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from segtool.options import output_options


def component_identity(name: str, component: Any) -> dict[str, Any]:
    """``{"name", "version", "options", ["fingerprint"]}`` of a built component."""
    ident: dict[str, Any] = {
        "name": name,
        "version": str(getattr(component, "version", "1")),
        "options": output_options(getattr(component, "options", None)),
    }
    fingerprint = getattr(component, "fingerprint", None)
    if callable(fingerprint):
        ident["fingerprint"] = fingerprint()
    return ident


def config_identity(splitter: tuple[str, Any], chunker: tuple[str, Any] | None
                    ) -> dict[str, Any]:
    """The identity of a whole configuration: its splitter and (optional) chunker."""
    ident = {"splitter": component_identity(*splitter)}
    if chunker is not None:
        ident["chunker"] = component_identity(*chunker)
    return ident


def canonical(value: Mapping[str, Any]) -> str:
    """One JSON spelling of a mapping: sorted keys, no spaces, non-JSON values as str."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def config_key(identity: Mapping[str, Any]) -> str:
    """A short stable digest of an identity (part of every record id)."""
    return hashlib.sha256(canonical(identity).encode()).hexdigest()[:32]


def record_id(doc_id: str, start: int, end: int, key: str) -> str:
    """Same document, span and configuration → same id; never random."""
    digest = hashlib.sha256(f"{doc_id}\x00{start}\x00{end}\x00{key}".encode()).hexdigest()
    return digest[:24]
