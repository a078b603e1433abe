"""The weekly model's identity and the registry: training window, model version, code version, champion.

A model version is a pure function of the week, the backend, the parameters and the code, so a rerun of a
week writes the same version (and, training being seeded, the same factors) instead of a new one.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from recpipe.config import Config
from recpipe.storage import parse_ds

_CODE_DIRS = ("recpipe", "jobs", "schemas")
# The code that decides what a model learns; a change here is a new model version.
_TRAINING_CODE = ("recpipe/als.py", "jobs/build_interactions.py", "jobs/train_als.py", "schemas/interactions.py")


def train_window(cfg: Config, ds: str | dt.date) -> tuple[dt.date, dt.date]:
    """(train_start, train_end): `interactions.window_days` landing days ending `evaluation.holdout_days`
    before ds; the holdout days after train_end are the evaluation's test period."""
    day = parse_ds(ds)
    end = day - dt.timedelta(days=cfg.evaluation.holdout_days)
    return end - dt.timedelta(days=cfg.interactions.window_days - 1), end


def model_params(cfg: Config, backend: str | None = None) -> dict:
    als = asdict(cfg.als)
    als["backend"] = backend or cfg.als.backend
    for runtime_only in ("use_gpu", "num_threads"):
        als.pop(runtime_only)
    return {"als": als, "interactions": asdict(cfg.interactions), "seed": cfg.seed}


def _hash_files(paths) -> str:
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


def code_version() -> str:
    """Package version plus a hash of all the job code, so a registry row names the code that trained it."""
    from importlib.metadata import PackageNotFoundError, version

    root = Path(__file__).resolve().parents[1]
    digest = _hash_files([p for d in _CODE_DIRS for p in (root / d).rglob("*.py")])
    try:
        pkg = version("recpipe")
    except PackageNotFoundError:
        pkg = "0+unknown"
    return f"{pkg}+{digest}"


def model_version_for(cfg: Config, ds: str | dt.date, backend: str | None = None) -> str:
    """<backend>-<yyyymmdd>-<hash of the parameters and the training code>."""
    root = Path(__file__).resolve().parents[1]
    params = json.dumps(model_params(cfg, backend), sort_keys=True)
    training = _hash_files([root / p for p in _TRAINING_CODE])
    digest = hashlib.sha256(f"{params}|{training}".encode()).hexdigest()[:10]
    return f"{backend or cfg.als.backend}-{parse_ds(ds):%Y%m%d}-{digest}"


def champion_as_of(lake, ds: str | dt.date, exclude: str | None = None):
    """The champion row as of ds (latest champion decision with as_of <= ds), or None.

    `exclude` leaves out one version: a challenger is compared with the champion it would replace.
    """
    from pyspark.sql import functions as F

    from schemas import MODELS

    if not lake.exists(MODELS):
        return None
    rows = lake.read(MODELS, ds_max=ds).where(F.col("status") == "champion")
    if exclude is not None:
        rows = rows.where(F.col("model_version") != exclude)
    return rows.orderBy(F.desc("as_of"), F.desc("model_version")).first()


def load_factors(lake, spec, version: str):
    """(ids, vectors) of one model version's user or item factors, rows in index order."""
    import numpy as np
    from pyspark.sql import functions as F

    entity = spec.name.split("_")[0]
    pdf = (lake.read(spec).where(F.col("model_version") == version)
           .select(f"{entity}_id", f"{entity}_index", "factors").toPandas().sort_values(f"{entity}_index"))
    if pdf.empty:
        raise ValueError(f"{spec.name} has no rows for model_version {version}")
    return pdf[f"{entity}_id"].to_numpy(dtype=object), np.stack(pdf["factors"].to_numpy()).astype(np.float32)
