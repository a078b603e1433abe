"""Serialise simulated days into the landing layout, the way real log shippers do (defects included).

Shippers differ by device: the web (mobile, desktop) sends ISO-8601 UTC timestamps with a session id, the
tablet site sends local time with an offset, and the app SDK sends epoch milliseconds and no session id (so
sessionization has work to do). A small share of events lands one day late.
"""
from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from recpipe.simulator.model import DEVICES, SimulationSpec, World

# Defect kinds and the quarantine reason each must produce (None: dropped as an exact duplicate).
DEFECT_KINDS: dict[str, str | None] = {
    "malformed_json": "malformed_json",
    "missing_field": "missing_field",
    "wrong_type": "wrong_type",
    "unknown_event_type": "unknown_event_type",
    "invalid_device": "invalid_device",
    "dwell_out_of_range": "dwell_out_of_range",
    "price_out_of_range": "price_out_of_range",
    "timestamp_out_of_range": "timestamp_out_of_range",
    "exact_duplicate": None,
    "conflicting_duplicate": "conflicting_duplicate",
    "invalid_utf8": "invalid_utf8",
    "unknown_fields": "unknown_fields",
}
_TABLET_OFFSET = np.timedelta64(1, "h")


def to_records(world: World, ev: pd.DataFrame, index: int) -> pd.DataFrame:
    """The landing records of one simulated day, in the contract's column names."""
    device = DEVICES[ev["_device"].to_numpy()]
    ts = ev["event_ts"].to_numpy().astype("datetime64[us]")
    iso = np.char.add(np.datetime_as_string(ts, unit="ms"), "Z")
    local = np.char.add(np.datetime_as_string(ts + _TABLET_OFFSET, unit="ms"), "+01:00")
    epoch_ms = (ts.astype("datetime64[ms]").astype(np.int64))
    ts_out = np.where(device == "tablet", local, iso).astype(object)
    is_app = device == "app"
    ts_out[is_app] = epoch_ms[is_app]
    session = pd.Series(ev["_session"].to_numpy()).astype(str)
    session_id = ("s" + str(index) + "-" + session).where(~is_app, None)
    return pd.DataFrame({
        "event_id": ("e" + str(index).zfill(4) + "-" + pd.Series(ev["_seq"].to_numpy()).astype(str)),
        "user_id": "u" + pd.Series(ev["_user"].to_numpy()).astype(str),
        "session_id": session_id,
        "item_id": "i" + pd.Series(ev["_item"].to_numpy()).astype(str),
        "event_type": ev["event_type"].to_numpy(),
        "event_ts": ts_out,
        "dwell_seconds": ev["dwell_seconds"].to_numpy(),
        "device": device,
        "price": world.item_price[ev["_item"].to_numpy()],
        "category": np.char.add("c", world.item_category[ev["_item"].to_numpy()].astype(str)),
    })


def serialise(records: pd.DataFrame) -> list[str]:
    if records.empty:
        return []
    text = records.to_json(orient="records", lines=True, double_precision=6)
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def inject_defects(lines: list[str], rate: float, rng: np.random.Generator) -> tuple[list[str], dict[str, int]]:
    """Corrupt a share ``rate`` of the lines, spread evenly over DEFECT_KINDS; returns lines and counts."""
    counts = {k: 0 for k in DEFECT_KINDS}
    n = len(lines)
    n_bad = int(round(n * rate))
    if n_bad == 0:
        return lines, counts
    chosen = rng.choice(n, size=n_bad, replace=False)
    kinds = np.array(list(DEFECT_KINDS))[np.arange(n_bad) % len(DEFECT_KINDS)]
    out = list(lines)
    extra: list[str] = []
    for idx, kind in zip(chosen.tolist(), kinds.tolist()):
        line = out[idx]
        rec = json.loads(line)
        variant = int(rng.integers(0, 5))
        if kind == "malformed_json":
            line = line[: max(1, len(line) // 2)]
        elif kind == "missing_field":
            del rec[("user_id", "item_id", "event_type", "event_ts")[variant % 4]]
            line = json.dumps(rec, separators=(",", ":"))
        elif kind == "wrong_type":
            field, value = [("user_id", {"id": rec["user_id"]}), ("dwell_seconds", "long"),
                            ("price", "cheap"), ("event_ts", "yesterday"), ("item_id", [1, 2])][variant]
            rec[field] = value
            line = json.dumps(rec, separators=(",", ":"))
        elif kind == "unknown_event_type":
            rec["event_type"] = ("hover", "scroll", "share", "wishlist", "rate")[variant]
            line = json.dumps(rec, separators=(",", ":"))
        elif kind == "invalid_device":
            rec["device"] = ("smartwatch", "tv", "fridge", "console", "car")[variant]
            line = json.dumps(rec, separators=(",", ":"))
        elif kind == "dwell_out_of_range":
            rec["dwell_seconds"] = -5.0 if variant % 2 else 1.0e7
            line = json.dumps(rec, separators=(",", ":"))
        elif kind == "price_out_of_range":
            rec["price"] = -1.0 * (1 + variant)
            line = json.dumps(rec, separators=(",", ":"))
        elif kind == "timestamp_out_of_range":
            rec["event_ts"] = ("1970-01-01T00:00:00Z", "2099-01-01T00:00:00Z", 0, 4102444800000,
                               "2000-06-01T12:00:00+02:00")[variant]
            line = json.dumps(rec, separators=(",", ":"))
        elif kind == "exact_duplicate":
            extra.append(line)
        elif kind == "conflicting_duplicate":
            rec["item_id"] = rec["item_id"] + "x"
            extra.append(json.dumps(rec, separators=(",", ":")))
        elif kind == "invalid_utf8":
            # A lone surrogate becomes the raw byte 0xff when encoded with surrogateescape.
            line = line.replace('"user_id":"', '"user_id":"\udcff\udcfe', 1)
        elif kind == "unknown_fields":
            rec["campaign_ref"] = f"promo-{variant}"
            line = json.dumps(rec, separators=(",", ":"))
        out[idx] = line
        counts[kind] += 1
    if extra:
        # Duplicates arrive later in the stream, as re-sent batches do.
        positions = np.sort(rng.integers(0, len(out) + 1, size=len(extra)))[::-1]
        for pos, line in zip(positions.tolist(), extra):
            out.insert(pos, line)
    return out, counts


def write_day(out_root: Path, ds: str, lines: list[str], files: int) -> list[Path]:
    folder = out_root / "events" / f"ds={ds}"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*"):
        old.unlink()
    paths = []
    chunks = np.array_split(np.arange(len(lines)), max(1, files)) if lines else [np.arange(0)]
    for k, idx in enumerate(chunks):
        path = folder / f"part-{k:05d}.jsonl.gz"
        body = "\n".join(lines[i] for i in idx.tolist())
        data = (body + "\n" if body else "").encode("utf-8", errors="surrogateescape")
        tmp = path.with_suffix(".tmp")
        with gzip.open(tmp, "wb", compresslevel=1) as fh:
            fh.write(data)
        tmp.replace(path)
        paths.append(path)
    return paths


def write_ground_truth(world: World, out_root: Path) -> None:
    folder = out_root / "ground_truth"
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in world.ground_truth().items():
        df.to_parquet(folder / f"{name}.parquet", index=False)


def simulate_to_landing(spec: SimulationSpec, out: str | Path, progress: bool = False,
                        recommendations_for_day=None) -> dict:
    """Simulate ``spec.days`` days into ``out``: events by day, ground truth and a defect manifest.

    ``recommendations_for_day(index)`` may return the recommendation lists users see on that day.
    """
    out_root = Path(out)
    world = World(spec)
    write_ground_truth(world, out_root)
    manifest_dir = out_root / "ground_truth" / "defects"
    manifest_dir.mkdir(parents=True, exist_ok=True)
    carry: list[str] = []
    total_events = total_lines = 0
    for index in range(spec.days):
        ds = world.day(index).isoformat()
        recs = recommendations_for_day(index) if recommendations_for_day else None
        ev = world.step(index, recommendations=recs)
        lines = serialise(to_records(world, ev, index))
        rng = np.random.default_rng([spec.seed, index + 1, 0xDEFEC7])
        if index < spec.days - 1 and spec.late_rate > 0 and lines:
            late = rng.random(len(lines)) < spec.late_rate
            on_time = [ln for ln, lt in zip(lines, late) if not lt]
            next_carry = [ln for ln, lt in zip(lines, late) if lt]
        else:
            on_time, next_carry = lines, []
        day_lines = carry + on_time
        carry = next_carry
        day_lines, counts = inject_defects(day_lines, spec.defect_rate, rng)
        write_day(out_root, ds, day_lines, spec.files_per_day)
        (manifest_dir / f"ds={ds}.json").write_text(json.dumps({
            "ds": ds, "lines": len(day_lines), "events": len(ev), "defects": counts,
        }, indent=1))
        total_events += len(ev)
        total_lines += len(day_lines)
        if progress:
            print(f"  simulate day {index + 1}/{spec.days} {ds}: {len(ev):,} events, "
                  f"{sum(counts.values()):,} defects", file=sys.stderr, flush=True)
    return {"events": total_events, "lines": total_lines}
