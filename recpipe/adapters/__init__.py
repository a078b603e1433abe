"""Dataset adapters: public interaction datasets -> the landing layout `events/ds=YYYY-MM-DD/*.jsonl.gz`.

How each source maps onto the event contract (a record lands on the UTC day of its timestamp):

| source    | source record                      | events written                                             |
|-----------|------------------------------------|------------------------------------------------------------|
| taobao    | pv / cart / fav / buy              | view / add_to_cart / like / purchase; category_id -> category |
| movielens | rating r of a movie                | a `view` (the user watched it), plus a `like` when r >= 4; the movie's first genre -> category |
| yoochoose | click in an anonymous session      | a `view`; user_id = `s<SessionId>` (the dataset has no user), session_id = SessionId |

None of the sources logs dwell, price or device: those stay null / `unknown`. Event ids are built from the
source's own keys where a record has one (MovieLens: user, movie, kind); Taobao and YooChoose records have
none, so ingest derives the id from the content and an exact repeat of a row is dropped as a duplicate.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from recpipe.simulator.writer import serialise, write_day


def write_landing(records: pd.DataFrame, out: str | Path, ts_seconds: np.ndarray, files_per_day: int = 1) -> dict:
    """Write records to the landing layout by the UTC day of ``ts_seconds``; returns counts and day range."""
    days = pd.to_datetime(ts_seconds, unit="s", utc=True).strftime("%Y-%m-%d")
    records = records.assign(_ds=np.asarray(days), _ts=ts_seconds).sort_values(["_ds", "_ts"], kind="stable")
    out_root = Path(out)
    n_days = 0
    for ds, group in records.groupby("_ds", sort=True):
        write_day(out_root, ds, serialise(group.drop(columns=["_ds", "_ts"])), files_per_day)
        n_days += 1
    all_days = sorted(set(days))
    return {"events": len(records), "days": n_days,
            "first_ds": all_days[0] if all_days else None, "last_ds": all_days[-1] if all_days else None}


def _find(path: str | Path, names: tuple[str, ...]) -> list[Path]:
    p = Path(path)
    if p.is_file():
        return [p]
    found = [p / n for n in names if (p / n).is_file()]
    if not found:
        raise FileNotFoundError(f"none of {list(names)} found in {p}")
    return found


def import_taobao(path: str | Path, out: str | Path) -> dict:
    [src] = _find(path, ("UserBehavior.csv",))
    df = pd.read_csv(src, header=None, names=["user_id", "item_id", "category_id", "behavior", "ts"],
                     dtype={"user_id": str, "item_id": str, "category_id": str, "behavior": str, "ts": np.int64})
    mapping = {"pv": "view", "cart": "add_to_cart", "fav": "like", "buy": "purchase"}
    unknown = sorted(set(df["behavior"]) - set(mapping))
    if unknown:
        raise ValueError(f"taobao: unknown behavior_type values {unknown} in {src}")
    records = pd.DataFrame({
        "user_id": df["user_id"], "item_id": df["item_id"],
        "event_type": df["behavior"].map(mapping), "event_ts": df["ts"],
        "device": "unknown", "category": df["category_id"],
    })
    return write_landing(records, out, df["ts"].to_numpy())


def import_movielens(path: str | Path, out: str | Path) -> dict:
    [src] = _find(path, ("u.data",))
    df = pd.read_csv(src, sep="\t", header=None, names=["user", "item", "rating", "ts"],
                     dtype={"user": str, "item": str, "rating": np.int64, "ts": np.int64})
    genres = _movielens_genres(Path(src).parent / "u.item")
    iso = pd.to_datetime(df["ts"], unit="s", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    base = pd.DataFrame({
        "user_id": df["user"], "item_id": df["item"], "event_ts": iso,
        "device": "unknown", "category": df["item"].map(genres) if genres else None,
    })
    views = base.assign(event_type="view", event_id="ml-" + df["user"] + "-" + df["item"] + "-v")
    liked = df["rating"] >= 4
    likes = base[liked].assign(event_type="like",
                               event_id="ml-" + df["user"][liked] + "-" + df["item"][liked] + "-l")
    records = pd.concat([views, likes], ignore_index=True)
    ts = np.concatenate([df["ts"].to_numpy(), df["ts"][liked].to_numpy()])
    cols = ["event_id", "user_id", "item_id", "event_type", "event_ts", "device", "category"]
    return write_landing(records[cols], out, ts)


def _movielens_genres(item_file: Path) -> dict[str, str]:
    """Each movie's first genre flag from u.item (latin-1, `|`-separated, 19 genre flags at the end)."""
    if not item_file.is_file():
        return {}
    genre_file = item_file.parent / "u.genre"
    names = []
    if genre_file.is_file():
        names = [ln.split("|")[0] for ln in genre_file.read_text(encoding="latin-1").splitlines() if ln.strip()]
    out = {}
    for ln in item_file.read_text(encoding="latin-1").splitlines():
        parts = ln.split("|")
        if len(parts) < 24:
            continue
        flags = parts[-19:]
        first = next((k for k, f in enumerate(flags) if f == "1"), 0)
        out[parts[0]] = names[first] if first < len(names) else f"genre{first}"
    return out


def import_yoochoose(path: str | Path, out: str | Path) -> dict:
    # train_full and test are disjoint and together hold every click; train_tr/valid are subsets of train_full.
    srcs = _find(path, ("yoochoose-clicks-100k_train_full.txt", "yoochoose-clicks-100k_test.txt"))
    df = pd.concat([pd.read_csv(s, sep="\t", dtype={"SessionId": str, "ItemId": str, "Time": np.float64})
                    for s in srcs], ignore_index=True)
    missing = {"SessionId", "ItemId", "Time"} - set(df.columns)
    if missing:
        raise ValueError(f"yoochoose: columns {sorted(missing)} missing in {srcs}")
    records = pd.DataFrame({
        "user_id": "s" + df["SessionId"], "session_id": df["SessionId"], "item_id": df["ItemId"],
        "event_type": "view", "event_ts": (df["Time"] * 1000).round().astype(np.int64), "device": "unknown",
    })
    return write_landing(records, out, df["Time"].to_numpy())


ADAPTERS: dict[str, Callable[[str | Path, str | Path], dict]] = {
    "taobao": import_taobao,
    "movielens": import_movielens,
    "yoochoose": import_yoochoose,
}
