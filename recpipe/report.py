"""`recpipe report --ds D`: a self-contained static HTML page per day, `reports/<ds>/index.html`.

Everything is read as of D (partitions <= D) and drawn as inline SVG: no scripts from elsewhere, no
network, openable offline. `reports/index.html` lists every day's report with its data-quality verdict.
A small inline script marks the page with the charts the browser actually laid out with marks and the
tables it filled (read by the headless-browser test).
"""
from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import quote
from pathlib import Path

import pandas as pd

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f")
# Series whose meaning has a colour of its own, whatever their position.
NAMED_COLOURS = {"pass": "#59a14f", "warn": "#edc948", "fail": "#e15759"}
W, H, PAD = 640, 220, 56


def _esc(x) -> str:
    return html.escape(str(x))


def _colour(name: str, j: int) -> str:
    return NAMED_COLOURS.get(name, PALETTE[j % len(PALETTE)])


def bar_chart(chart_id: str, categories: list, series: dict[str, list[float]], title: str, stacked=True) -> str:
    """Vertical bars per category, one colour per series (stacked)."""
    if not categories or not series:
        return _empty(chart_id, title)
    totals = [sum(s[i] for s in series.values()) for i in range(len(categories))] if stacked else \
        [max(s[i] for s in series.values()) for i in range(len(categories))]
    top = max(totals) or 1.0
    bw = (W - 2 * PAD) / len(categories)
    sw = bw if stacked else bw / len(series)      # grouped bars share the category's width
    marks = []
    for i, cat in enumerate(categories):
        y0 = H - PAD
        for j, (name, values) in enumerate(series.items()):
            h = (H - 2 * PAD) * values[i] / top
            x = PAD + i * bw + (0 if stacked else j * sw)
            marks.append(f'<rect class="mark" x="{x + 1:.1f}" y="{y0 - h:.1f}" width="{max(sw - 2, 1):.1f}" '
                         f'height="{h:.1f}" fill="{_colour(name, j)}"><title>{_esc(cat)} {_esc(name)}: '
                         f'{values[i]:g}</title></rect>')
            y0 -= h if stacked else 0
    labels = _x_labels(categories, bw)
    return _svg(chart_id, title, marks + labels + _axis(top), list(series))


def line_chart(chart_id: str, xs: list, series: dict[str, list[float]], title: str) -> str:
    if not xs or not series:
        return _empty(chart_id, title)
    vals = [v for s in series.values() for v in s if v == v]
    top = (max(vals) if vals else 0.0) or 1.0
    step = (W - 2 * PAD) / max(len(xs) - 1, 1)
    marks = []
    for j, (name, values) in enumerate(series.items()):
        pts = [(PAD + i * step, H - PAD - (H - 2 * PAD) * v / top) for i, v in enumerate(values) if v == v]
        if not pts:
            continue
        path = " ".join(f"{'M' if k == 0 else 'L'}{x:.1f},{y:.1f}" for k, (x, y) in enumerate(pts))
        colour = _colour(name, j)
        marks.append(f'<path class="mark" d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        marks += [f'<circle class="mark" cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"><title>{_esc(name)}'
                  f'</title></circle>' for x, y in pts]
    return _svg(chart_id, title, marks + _x_labels(xs, step, offset=0) + _axis(top), list(series))


def _x_labels(cats, step, offset=None) -> list[str]:
    every = max(1, len(cats) // 8)
    off = step / 2 if offset is None else offset

    def label(c) -> str:
        text = str(c)
        if len(text) == 10 and text[4] == "-":
            return text[5:]                                 # dates as MM-DD
        return text if len(text) <= 20 else text[:19] + "…"

    # Labels wider than their slot are slanted, so that neighbours do not overprint each other.
    slant = max(len(label(c)) for c in cats) * 5.5 > step * every
    out = []
    for i, c in enumerate(cats):
        if i % every:
            continue
        x, y = PAD + i * step + off, H - PAD + 14
        turn = f' transform="rotate(-30 {x:.1f} {y})"' if slant else ""
        out.append(f'<text x="{x:.1f}" y="{y}" font-size="10" text-anchor="{"end" if slant else "middle"}"'
                   f'{turn}>{_esc(label(c))}</text>')
    return out


def _axis(top: float) -> list[str]:
    return [f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#999"/>',
            f'<text x="{PAD - 4}" y="{PAD}" font-size="10" text-anchor="end">'
            f'{f"{top:,.0f}" if top >= 10 else f"{top:.3g}"}</text>',
            f'<text x="{PAD - 4}" y="{H - PAD}" font-size="10" text-anchor="end">0</text>']


def _svg(chart_id, title, body, legend) -> str:
    keys = "".join(f'<span class="key"><i style="background:{_colour(n, j)}"></i>{_esc(n)}</span>'
                   for j, n in enumerate(legend))
    return (f'<figure class="chart" data-chart="{_esc(chart_id)}"><figcaption>{_esc(title)}</figcaption>'
            f'<svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img">{"".join(body)}</svg>'
            f'<div class="legend">{keys}</div></figure>')


def _empty(chart_id, title) -> str:
    return (f'<figure class="chart empty" data-chart="{_esc(chart_id)}"><figcaption>{_esc(title)}</figcaption>'
            f'<p class="nodata">no data up to this day</p></figure>')


def table(table_id: str, df: pd.DataFrame, title: str, highlight: str | None = None) -> str:
    if df is None or df.empty:
        return f'<section class="table empty" data-table="{_esc(table_id)}"><h3>{_esc(title)}</h3><p class="nodata">no data</p></section>'
    head = "".join(f"<th>{_esc(c)}</th>" for c in df.columns)
    rows = []
    for _, r in df.iterrows():
        cls = ' class="highlight"' if highlight and bool(r.get(highlight, False)) else ""
        cells = "".join(f"<td>{_esc(_fmt(v))}</td>" for v in r.to_numpy())
        rows.append(f"<tr{cls}>{cells}</tr>")
    return (f'<section class="table" data-table="{_esc(table_id)}"><h3>{_esc(title)}</h3>'
            f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></section>')


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}
h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
.grid{display:flex;flex-wrap:wrap;gap:1.5em}figure{margin:0}figcaption{font-weight:600;margin-bottom:.3em}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ddd;padding:.25em .5em;text-align:right}
th{background:#f4f4f4}tr.highlight td{background:#fff3c4;font-weight:600}.nodata{color:#888}
.legend{font-size:.8em}.key{margin-right:1em}.key i{display:inline-block;width:.8em;height:.8em;margin-right:.3em}
.fail{color:#c0392b;font-weight:600}.warn{color:#b9770e}.pass{color:#1e8449}
figure.chart svg{overflow:visible;margin-bottom:2.5em}
.status{padding:.6em 1em;border:1px solid #ddd;border-radius:4px}.status.fail{background:#fdecea;border-color:#c0392b}
.status.warn{background:#fef5e7}.status.pass{background:#eafaf1}"""

SCRIPT = """document.addEventListener('DOMContentLoaded',function(){var c=[],t=[];
document.querySelectorAll('figure.chart').forEach(function(f){var s=f.querySelector('svg');if(!s){return;}
var b=s.getBBox();if(b.width>0&&b.height>0&&s.querySelectorAll('.mark').length>0){c.push(f.dataset.chart);}});
document.querySelectorAll('section.table').forEach(function(x){var r=x.querySelectorAll('tbody tr');
var e=x.getBoundingClientRect();if(r.length>0&&e.height>0){t.push(x.dataset.table+':'+r.length);}});
document.body.setAttribute('data-rendered-charts',c.join(','));
document.body.setAttribute('data-rendered-tables',t.join(','));});"""


def _read(lake, spec, ds: dt.date, cols=None) -> pd.DataFrame:
    if not lake.exists(spec):
        return pd.DataFrame()
    df = lake.read(spec, ds_max=ds) if spec.partition_by in ("ds", "as_of") else lake.read(spec)
    return (df.select(*cols) if cols else df).toPandas()


def collect(lake, cfg, ds: dt.date) -> dict[str, pd.DataFrame]:
    from pyspark.sql import functions as F

    from schemas import (ACTIVE_USER_COUNTS, CANDIDATE_METRICS, DQ_RESULTS, EVENTS, INGEST_AUDIT, MODEL_METRICS,
                         MODELS, QUARANTINE, user_features_spec)

    out: dict[str, pd.DataFrame] = {}
    if lake.exists(EVENTS):
        out["events"] = (lake.read(EVENTS, ds_max=ds).groupBy("ds", "event_type").count().toPandas())
    if lake.exists(QUARANTINE):
        out["quarantine"] = lake.read(QUARANTINE, ds_max=ds).groupBy("ds", "reason").count().toPandas()
    out["audit"] = _read(lake, INGEST_AUDIT, ds)
    # The validation log, read once: each (ds, table)'s latest attempt is its verdict; every failed outcome,
    # also of runs that were fixed since, is listed.
    log = _read(lake, DQ_RESULTS, ds)
    if not log.empty:
        out["dq"] = log[log["attempt"] == log.groupby(["ds", "table_name"])["attempt"].transform("max")]
        out["dq_failed"] = log[~log["success"]].sort_values(["ds", "attempt"], ascending=False).head(40)
    out["active"] = _read(lake, ACTIVE_USER_COUNTS, ds)
    spec = user_features_spec(cfg.features.windows)
    if lake.exists(spec):
        w = max(cfg.features.windows)
        out["features"] = (lake.read(spec, ds, ds).select("p_buyer", "user_type", F.col(f"views_{w}d").alias("views"),
                                                          F.col(f"carts_{w}d").alias("carts"))
                           .toPandas().assign(window=w))
    out["models"] = _read(lake, MODELS, ds)
    if lake.exists(MODEL_METRICS):
        out["model_metrics"] = (lake.read(MODEL_METRICS, ds_max=ds).where(F.col("segment") == "all").toPandas())
    out["candidate_metrics"] = _read(lake, CANDIDATE_METRICS, ds)
    return out


def dq_verdict(ds: dt.date, dq: pd.DataFrame) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """The day's verdict — fail (an error-level failure), warn, pass, or none (not validated) — with the
    day's outcomes and its failed ones."""
    today = dq[dq["ds"] == ds] if not dq.empty else dq
    failed = today[~today["success"]] if not today.empty else today
    if today.empty:
        return "none", today, failed
    if (failed["severity"] == "error").any():
        return "fail", today, failed
    return ("warn" if not failed.empty else "pass"), today, failed


def dq_status(ds: dt.date, dq: pd.DataFrame, docs: str | None) -> str:
    """The day's verdict as a line: blocked (naming the blocking expectations), warnings, passed, or not
    validated."""
    verdict, today, failed = dq_verdict(ds, dq)
    link = f' <a href="{_esc(docs)}">Great Expectations Data Docs</a>' if docs else ""
    if verdict == "none":
        return f"<p id='dq_status' class='status none'>No validation recorded for {ds}.{link}</p>"
    if verdict == "fail":
        errors = failed[failed["severity"] == "error"]
        names = ", ".join(sorted(f"{r.table_name}.{r.expectation}" for r in errors.itertuples()))
        return (f"<p id='dq_status' class='status fail'>FAILED: {len(errors)} error-level expectation(s) on "
                f"{ds} — publishing stopped: {_esc(names)}.{link}</p>")
    text = f"passed with {len(failed)} warning(s)" if verdict == "warn" else "passed"
    return (f"<p id='dq_status' class='status {verdict}'>Data quality on {ds}: {len(today)} checks over "
            f"{today['table_name'].nunique()} tables {text}.{link}</p>")


def render(ds: dt.date, data: dict[str, pd.DataFrame]) -> str:
    parts = [f"<h1>recpipe run report — {ds}</h1>",
             '<p>Everything on this page is as of this day (partitions up to it). <a href="../index.html">All reports</a></p>']
    ev = data.get("events", pd.DataFrame())
    parts.append("<h2>Ingest</h2><div class='grid'>")
    if not ev.empty:
        days = sorted(ev["ds"].unique())
        piv = ev.pivot_table(index="ds", columns="event_type", values="count", aggfunc="sum").reindex(days).fillna(0)
        parts.append(bar_chart("events_per_day", [str(d) for d in days],
                               {c: piv[c].tolist() for c in piv.columns}, "Events per day and type"))
    else:
        parts.append(_empty("events_per_day", "Events per day and type"))
    q = data.get("quarantine", pd.DataFrame())
    if not q.empty:
        days = sorted(q["ds"].unique())
        reasons = q.groupby("reason")["count"].sum().sort_values(ascending=False).index.tolist()
        piv = q.pivot_table(index="ds", columns="reason", values="count", aggfunc="sum").reindex(days).fillna(0)
        parts.append(bar_chart("quarantine_by_reason", [str(d) for d in days],
                               {r: piv[r].tolist() for r in reasons}, "Quarantined rows per day by reason"))
    else:
        parts.append(_empty("quarantine_by_reason", "Quarantined rows per day by reason"))
    parts.append("</div>")
    today_q = q[q["ds"] == ds].sort_values("count", ascending=False)[["reason", "count"]] if not q.empty else q
    parts.append(table("quarantine_today", today_q, f"Quarantined rows on {ds} by reason"))
    audit = data.get("audit", pd.DataFrame())
    if not audit.empty:
        audit = (audit.groupby("ds")[["rows_read", "rows_accepted", "rows_quarantined", "duplicates_dropped"]].sum()
                 .reset_index().sort_values("ds", ascending=False).head(14))
    parts.append(table("ingest_audit", audit, "Ingest audit (read = accepted + quarantined + duplicates)"))

    parts.append("<h2>Data quality</h2>")
    dq = data.get("dq", pd.DataFrame())
    parts.append(dq_status(ds, dq, data.get("gx_docs")))
    pages = data.get("gx_pages") or {}
    if pages:
        links = " · ".join(f'<a href="{_esc(href)}">{_esc(t)}</a>' for t, href in sorted(pages.items()))
        parts.append(f"<p id='dq_pages'>Data Docs of this day's latest validation per table: {links}</p>")
    if not dq.empty:
        dq = dq.assign(outcome=lambda d: d.apply(lambda r: "pass" if r["success"] else
                                                 ("fail" if r["severity"] == "error" else "warn"), axis=1))
        parts.append("<div class='grid'>")
        today = dq[dq["ds"] == ds]
        if not today.empty:
            counts = today.groupby(["table_name", "outcome"]).size().unstack(fill_value=0)
            for c in ("pass", "warn", "fail"):
                if c not in counts:
                    counts[c] = 0
            parts.append(bar_chart("dq_outcomes", counts.index.tolist(),
                                   {c: counts[c].tolist() for c in ("pass", "warn", "fail")},
                                   "DQ outcomes by table on this day"))
        else:
            parts.append(_empty("dq_outcomes", "DQ outcomes by table on this day"))
        per_day = dq.groupby(["ds", "outcome"]).size().unstack(fill_value=0).sort_index()
        days = [str(d) for d in per_day.index]
        trend = {c: (per_day[c].astype(float).tolist() if c in per_day else [0.0] * len(days))
                 for c in ("warn", "fail")}
        parts.append(line_chart("dq_trend", days, trend, "Failed expectations per day (warn, fail)"))
        parts.append("</div>")
        bad = data.get("dq_failed", dq[~dq["success"]])
        cols = [c for c in ("ds", "table_name", "attempt", "expectation", "severity", "observed", "run_id")
                if c in bad]
        bad = bad[cols]
        bad = bad.assign(blocking=bad["severity"] == "error")
        parts.append(table("dq_failures", bad, "Failed expectations, every validation run (latest first; "
                           "blocking ones highlighted)", highlight="blocking"))
    else:
        parts.append(_empty("dq_outcomes", "DQ outcomes by table"))

    parts.append("<h2>Users</h2><div class='grid'>")
    act = data.get("active", pd.DataFrame())
    if not act.empty:
        act = act.sort_values("as_of")
        parts.append(line_chart("active_users", [str(d) for d in act["as_of"]],
                                {"active users": act["active_users"].astype(float).tolist()}, "Active users over time"))
    else:
        parts.append(_empty("active_users", "Active users over time"))
    feats = data.get("features", pd.DataFrame())
    if not feats.empty:
        bins = [i / 10 for i in range(11)]
        hist = pd.cut(feats["p_buyer"], bins, include_lowest=True).value_counts(sort=False)
        parts.append(bar_chart("p_buyer_distribution", [f"{b:.1f}" for b in bins[:-1]],
                               {"users": hist.tolist()}, "p_buyer (browser ← → buyer) on this day"))
        w = int(feats["window"].iloc[0])
        by_type = feats.groupby("user_type")[["views", "carts"]].mean()
        parts.append(bar_chart("browse_vs_buy", by_type.index.tolist(),
                               {f"views per user ({w}d)": by_type["views"].tolist(),
                                f"carts per user ({w}d)": by_type["carts"].tolist()},
                               "Browsing vs consumption by type", stacked=False))
    else:
        parts.append(_empty("p_buyer_distribution", "p_buyer distribution"))
    parts.append("</div>")

    parts.append("<h2>Models</h2>")
    mm = data.get("model_metrics", pd.DataFrame())
    models = data.get("models", pd.DataFrame())
    if not mm.empty:
        mm = mm.assign(name=mm["metric"] + "@" + mm["k"].astype(str))
        wide = (mm[mm["name"].isin(["ndcg@10", "recall@1000", "coverage@1000", "popularity_percentile@1000"])]
                .pivot_table(index=["as_of", "model_version", "role"], columns="name", values="value").reset_index())
        champions = set(models.loc[models["status"] == "champion", "model_version"]) if not models.empty else set()
        wide["champion"] = wide["model_version"].isin(champions)
        parts.append(table("model_metrics", wide.sort_values(["as_of", "role"]), "Model metrics per version "
                           "(champion highlighted)", highlight="champion"))
        parts.append("<div class='grid'>")
        for name, title in (("ndcg@10", "NDCG@10 per week"), ("recall@1000", "Recall@1000 per week")):
            per_week = (mm[mm["name"] == name].groupby(["as_of", "role"])["value"].max()
                        .unstack("role").sort_index())
            weeks = [str(d) for d in per_week.index]
            parts.append(line_chart(f"model_{name.replace('@', '_at_')}", weeks,
                                    {role: per_week[role].tolist() for role in ("challenger", "baseline", "champion")
                                     if role in per_week}, f"{title} (best challenger, popularity, champion)"))
        parts.append("</div>")
    else:
        parts.append(table("model_metrics", pd.DataFrame(), "Model metrics per version"))
    if not models.empty:
        parts.append(table("registry", models[["as_of", "model_version", "status", "reason"]], "Registry"))

    parts.append("<h2>Candidates</h2><div class='grid'>")
    cm = data.get("candidate_metrics", pd.DataFrame())
    if not cm.empty:
        cm = cm[cm["segment"] == "all"].sort_values("as_of")
        days = sorted(cm["as_of"].unique())

        def series(metric, k):
            s = cm[(cm["metric"] == metric) & (cm["k"] == k)].set_index("as_of")["value"].reindex(days)
            return s.tolist()

        parts.append(line_chart("candidate_coverage", [str(d) for d in days],
                                {f"coverage@{k}": series("coverage", k) for k in (10, 100, 1000)},
                                "Catalogue coverage of the candidates"))
        parts.append(line_chart("exposure_gini", [str(d) for d in days],
                                {f"gini@{k}": series("gini", k) for k in (10, 100, 1000)}, "Exposure Gini"))
    else:
        parts.append(_empty("candidate_coverage", "Catalogue coverage of the candidates"))
    parts.append("</div>")
    # The index reads the day's verdict from here.
    meta = f"<meta name='recpipe-dq-status' content='{dq_verdict(ds, data.get('dq', pd.DataFrame()))[0]}'>"
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>{meta}<title>recpipe {ds}</title>"
            f"<style>{CSS}</style><script>{SCRIPT}</script></head><body>{''.join(parts)}</body></html>")


# Where the Great Expectations checkpoint keeps its Data Docs, under the reports root.
GX_DOCS = "gx/uncommitted/data_docs/local_site/index.html"
VERDICTS = {"pass": "passed", "warn": "passed with warnings", "fail": "FAILED: publishing stopped",
            "none": "not validated"}


def write_index(root: Path) -> Path:
    """`<root>/index.html`: every day's report, newest first, with the day's data-quality verdict."""
    rows = []
    for page in sorted(root.glob("????-??-??/index.html"), reverse=True):
        found = re.search(r"<meta name='recpipe-dq-status' content='(\w+)'>", page.read_text()[:2000])
        verdict = found.group(1) if found else "none"
        rows.append(f'<tr><td><a href="{_esc(page.parent.name)}/index.html">{_esc(page.parent.name)}</a></td>'
                    f'<td class="{_esc(verdict)}">{_esc(VERDICTS.get(verdict, verdict))}</td></tr>')
    docs = GX_DOCS if (root / GX_DOCS).exists() else None
    link = (f'<p>Every expectation\'s result in the Great Expectations Data Docs: <a href="{docs}">{docs}</a></p>'
            if docs else "")
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>recpipe reports</title>"
            f"<style>{CSS}</style></head><body><h1>recpipe run reports</h1>{link}"
            f"<table><thead><tr><th>day</th><th>data quality</th></tr></thead><tbody>{''.join(rows)}</tbody>"
            f"</table></body></html>")
    (root / "index.html").write_text(page)
    return root / "index.html"


def docs_pages(root: Path, ds: dt.date) -> dict[str, str]:
    """The Data Docs page of each table's latest validation of `ds` (relative to root). The Data Docs index
    lists them with scripts from a CDN, so offline a reader reaches them from here."""
    site = root / Path(GX_DOCS).parent
    latest: dict[str, Path] = {}
    # validations/recpipe_<table>/<run name ending "<table>[<ds>]">/<run time>/<page>.html
    for page in site.glob(f"validations/recpipe_*/*[[]{ds}[]]/*/*.html"):
        table = page.parents[2].name.removeprefix("recpipe_")
        if table not in latest or page.parent.name > latest[table].parent.name:
            latest[table] = page
    return {t: p.relative_to(root).as_posix() for t, p in latest.items()}


def write_report(lake, cfg, ds) -> Path:
    from recpipe.storage import parse_ds

    day = parse_ds(ds)
    root = Path(cfg.reports)
    out = root / day.isoformat() / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = collect(lake, cfg, day)
    if (root / GX_DOCS).exists():
        data["gx_docs"] = f"../{GX_DOCS}"
        data["gx_pages"] = {t: f"../{quote(p)}" for t, p in docs_pages(root, day).items()}
    out.write_text(render(day, data))
    write_index(root)
    return out
