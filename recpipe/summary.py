"""A plain-text summary of the lake: rows per table and day, quarantine counts by reason."""
from __future__ import annotations

from pyspark.sql import functions as F

from recpipe.config import Config
from recpipe.spark import get_spark
from recpipe.storage import Lake
from schemas import ACTIVE_USER_COUNTS, INGEST_AUDIT, MODELS, QUARANTINE, TABLES, USER_FEATURES


def _table(rows: list[list], header: list[str]) -> str:
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in cells[1:]])


def lake_summary(cfg: Config, spark=None) -> str:
    spark = spark or get_spark(cfg, app_name="recpipe-summary")
    lake = Lake(spark, cfg.lake)
    present = [t for t in TABLES.values() if lake.exists(t)]
    if not present:
        return f"lake {lake.root} holds no tables yet"
    # Tables partitioned by day; the factor tables are partitioned by model version and listed with models.
    dated = [t for t in present if t.partition_by in ("ds", "as_of")]
    per_day: dict = {}
    for spec in dated:
        for r in lake.read(spec).groupBy(spec.partition_by).count().collect():
            per_day.setdefault(r[spec.partition_by], {})[spec.name] = r["count"]
    out = [f"lake {lake.root}", "", "rows per table and day"]
    names = [t.name for t in dated]
    rows = [[ds.isoformat()] + [per_day[ds].get(n, 0) for n in names] for ds in sorted(per_day)]
    rows.append(["total"] + [sum(per_day[d].get(n, 0) for d in per_day) for n in names])
    out.append(_table(rows, ["ds / as_of"] + names))
    if lake.exists(QUARANTINE):
        reasons = (lake.read(QUARANTINE).groupBy("reason").count().orderBy(F.desc("count"), "reason").collect())
        out += ["", "quarantine by reason"]
        out.append(_table([[r["reason"], r["count"]] for r in reasons], ["reason", "rows"]))
    if lake.exists(INGEST_AUDIT):
        a = lake.read(INGEST_AUDIT).agg(*[F.sum(c).alias(c) for c in (
            "rows_read", "rows_accepted", "rows_quarantined", "duplicates_dropped")]).first()
        out += ["", f"ingest audit: read {a['rows_read']} = accepted {a['rows_accepted']} + quarantined "
                    f"{a['rows_quarantined']} + duplicates dropped {a['duplicates_dropped']}"]
    if lake.exists(ACTIVE_USER_COUNTS) and lake.exists(USER_FEATURES):
        types = {(r["as_of"], r["user_type"]): r["count"]
                 for r in lake.read(USER_FEATURES).groupBy("as_of", "user_type").count().collect()}
        rows = [[r["as_of"].isoformat(), r["active_users"], f"{r['active_share']:.1%}",
                 types.get((r["as_of"], "buyer"), 0), types.get((r["as_of"], "browser"), 0)]
                for r in lake.read(ACTIVE_USER_COUNTS).orderBy("as_of").collect()]
        out += ["", "active users and user types"]
        out.append(_table(rows, ["as_of", "active", "share", "buyers", "browsers"]))
    if lake.exists(MODELS):
        rows = [[r["as_of"].isoformat(), r["model_version"], r["status"], r["users"], r["items"], r["reason"] or ""]
                for r in lake.read(MODELS).orderBy("as_of", "model_version").collect()]
        out += ["", "model registry"]
        out.append(_table(rows, ["as_of", "model_version", "status", "users", "items", "reason"]))
    return "\n".join(out)


def print_summary(cfg: Config) -> None:
    print(lake_summary(cfg))
