"""The ``segtool score --html`` report: one self-contained file, no network.

Plots are drawn by matplotlib (``Figure`` objects, no pyplot state) and
embedded as inline SVG; the page is a Jinja2 template with autoescaping, so
chunk text cannot break the markup.  Nothing is fetched when the page opens:
no scripts, fonts or stylesheets from elsewhere (SVG text is drawn as paths).

Contents: the ranking table, a comparison chart when several chunkings are
scored, and per chunking its token-length histogram, per-document scores and
the weakest boundaries (lowest ``PPL(c|prev)/PPL(c)``) with the text on both
sides of the cut highlighted.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>segtool score report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:nth-child(2),td:nth-child(2){text-align:left}
figure{margin:1em 0}
figure svg{max-width:100%;height:auto;display:block}
.boundary{border:1px solid #ddd;padding:8px;margin:8px 0;font-family:monospace;
 white-space:pre-wrap;font-size:13px}
.before{color:#777;background:#f3f3f3}
.cut{background:#d33;color:#fff;padding:0 4px;margin:0 2px;font-weight:bold}
.after{background:#fff3b0}
.meta{color:#555;font-size:90%}
</style></head><body>
<h1>Chunk quality report</h1>
<p class="meta">{{ models }} · λ = {{ config.get('lambda') }} · α = {{ config.get('alpha') }}
{% if config.get('sample_chars') %} · model measures on each document's first
{{ config.sample_chars }} characters{% endif %}</p>
<h2>Ranking</h2>
<table id="ranking"><tr><th>#</th><th>chunking</th><th>chunks</th><th>p50 tokens</th>
<th>p95 tokens</th><th>sentence end %</th><th>over limit</th><th>empty</th><th>duplicates</th>
<th>LI</th><th>SD</th><th>ChunkScore</th><th>BC</th><th>CS</th></tr>
{% for r in rows %}<tr><td>{{ r.rank }}</td><td>{{ r.name }}</td><td>{{ r.chunks }}</td>
<td>{{ r.p50 }}</td><td>{{ r.p95 }}</td><td>{{ r.sent }}</td><td>{{ r.over }}</td>
<td>{{ r.empty }}</td><td>{{ r.dup }}</td><td>{{ r.li }}</td><td>{{ r.sd }}</td>
<td>{{ r.score }}</td><td>{{ r.bc }}</td><td>{{ r.cs }}</td></tr>
{% endfor %}</table>
{% if comparison %}<h2>Comparison</h2>
<figure class="plot comparison">{{ comparison | safe }}</figure>{% endif %}
{% for c in chunkings %}
<section class="chunking"><h2>{{ c.name }}</h2>
<p class="meta">{{ c.summary }}</p>
<h3>Token lengths</h3>
<figure class="plot histogram">{{ c.histogram | safe }}</figure>
{% if c.doc_plot %}<h3>Per document</h3>
<figure class="plot documents">{{ c.doc_plot | safe }}</figure>
<table class="documents"><tr><th>#</th><th>document</th><th>chunks</th><th>LI</th><th>SD</th>
<th>ChunkScore</th><th>BC</th><th>CS</th></tr>
{% for d in c.docs %}<tr><td>{{ loop.index }}</td><td>{{ d.doc_id }}</td><td>{{ d.chunks }}</td>
<td>{{ d.li }}</td><td>{{ d.sd }}</td><td>{{ d.chunk_score }}</td><td>{{ d.bc }}</td>
<td>{{ d.cs }}</td></tr>{% endfor %}</table>{% endif %}
{% if c.worst %}<h3>Weakest boundaries</h3>
<p class="meta">Lowest PPL(chunk | previous) / PPL(chunk): the previous chunk (grey) makes the
next one (yellow) much easier to predict, so the cut (red) likely splits one thought.</p>
{% for w in c.worst %}<div class="boundary"><div class="meta">{{ w.where }} · {{ w.doc_id }}
· chunk {{ w.index }} · ratio {{ w.ratio }}</div><span class="before">{{ w.before }}</span><span
class="cut">✂</span><span class="after">{{ w.text }}</span></div>{% endfor %}{% endif %}
</section>
{% endfor %}
</body></html>
"""


def format_number(x: Any, digits: int = 3) -> str:
    """A score for people: 3 decimals, an em dash for a missing or NaN value."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def _svg(fig: Any, salt: str) -> str:
    """The figure as an inline ``<svg>`` element (XML prologue and DOCTYPE removed).

    Each figure gets its own hash salt so the ids matplotlib generates for
    clip paths and markers cannot collide between the SVGs of one page.
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    text = text[text.index("<svg"):] if "<svg" in text else text
    # the RDF metadata block (creator, date) is noise in a report and makes it non-reproducible
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=96)


def histogram_svg(hist: Mapping[str, Sequence[float]], title: str, salt: str) -> str:
    fig = _figure(7, 2.6)
    ax = fig.add_subplot()
    counts, edges = list(hist.get("counts", [])), list(hist.get("edges", []))
    if counts:
        widths = [edges[i + 1] - edges[i] for i in range(len(counts))]
        ax.bar(edges[:-1], counts, width=widths, align="edge", color="#4878a8",
               edgecolor="white")
    ax.set_xlabel("tokens per chunk")
    ax.set_ylabel("chunks")
    ax.set_title(title, fontsize=10)
    return _svg(fig, salt)


def documents_svg(docs: Sequence[Mapping[str, Any]], salt: str) -> str:
    fig = _figure(7, max(1.6, 0.35 * len(docs) + 0.8))
    ax = fig.add_subplot()
    names = [_short(str(d["doc_id"])) for d in docs]
    values = [d["chunk_score"] if d["chunk_score"] is not None else 0.0 for d in docs]
    ax.barh(range(len(docs)), values, color="#59a14f")
    ax.set_yticks(range(len(docs)), names, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="#444", linewidth=0.8)
    ax.set_xlabel("ChunkScore per document")
    return _svg(fig, salt)


def comparison_svg(rows: Sequence[Mapping[str, Any]], salt: str) -> str:
    """ChunkScore per chunking when there are scores; else median chunk length."""
    scored = any(r["chunk_score"] is not None for r in rows)
    fig = _figure(7, max(1.6, 0.4 * len(rows) + 0.8))
    ax = fig.add_subplot()
    key = "chunk_score" if scored else "p50_tokens"
    values = [r[key] if r[key] is not None else 0.0 for r in rows]
    ax.barh(range(len(rows)), values, color="#e15759")
    ax.set_yticks(range(len(rows)), [_short(r["name"], 40) for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="#444", linewidth=0.8)
    ax.set_xlabel("ChunkScore (higher is better)" if scored else "median tokens per chunk")
    return _svg(fig, salt)


def _short(text: str, n: int = 30) -> str:
    text = re.sub(r"^.*/", "", text) or text
    return text if len(text) <= n else "…" + text[-(n - 1):]


def render_report(result: Mapping[str, Any]) -> str:
    """The report's HTML text for a ``segtool score`` result."""
    import jinja2

    cfg = result.get("config", {})
    models = ", ".join(f"{k}: {cfg[k]}" for k in ("lm", "embedder") if cfg.get(k)) or \
        "structural stats only (no models)"
    by_name = {c["name"]: c for c in result["chunkings"]}
    rows, sections = [], []
    for n, row in enumerate(result["ranking"]):
        c = by_name[row["name"]]
        st, sc = c["structural"], c.get("scores", {})
        rows.append({"rank": format_number(row["rank"]), "name": row["name"], "chunks": st["chunks"],
                     "p50": f"{st['tokens']['p50']:.0f}", "p95": f"{st['tokens']['p95']:.0f}",
                     "sent": f"{100 * st['sentence_end_share']:.1f}",
                     "over": st["over_limit"] if st["max_tokens"] else "—",
                     "empty": st["empty"], "dup": st["duplicates"], "li": format_number(sc.get("li")),
                     "sd": format_number(sc.get("sd")), "score": format_number(row["chunk_score"]),
                     "bc": format_number(sc.get("bc")), "cs": format_number(sc.get("cs"))})
        docs = c.get("documents_scores") or []
        tiling = (f"gaps {st['gaps']}, overlaps {st['overlaps']}, bad offsets "
                  f"{st['offset_errors']}" if st["offsets"] else "no offsets to check")
        sections.append({
            "name": row["name"],
            "summary": (f"{st['chunks']} chunks in {st['documents']} document(s); tokens min "
                        f"{st['tokens']['min']:.0f} / p5 {st['tokens']['p5']:.0f} / p50 "
                        f"{st['tokens']['p50']:.0f} / p95 {st['tokens']['p95']:.0f} / max "
                        f"{st['tokens']['max']:.0f}; {tiling}; empty {st['empty']}, "
                        f"duplicates {st['duplicates']}"),
            "histogram": histogram_svg(st["histogram"], row["name"], f"h{n}"),
            "doc_plot": documents_svg(docs, f"d{n}") if docs else "",
            "docs": [{k: (format_number(v) if isinstance(v, float) or v is None else v)
                      for k, v in d.items()} for d in docs],
            "worst": [{**w, "ratio": format_number(w["ratio"])} for w in c.get("worst_boundaries", [])],
        })
    comparison = comparison_svg(result["ranking"], "cmp") if len(result["ranking"]) > 1 else ""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(TEMPLATE).render(models=models, config=cfg, rows=rows,
                                            chunkings=sections, comparison=comparison)


def write_report(path: str, result: Mapping[str, Any]) -> None:
    """Render first, then write atomically: a failure never leaves a partial report."""
    from segtool.writers.atomic import atomic_path, write_failed

    html = render_report(result)
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise write_failed(exc, path, atomic=True) from None
