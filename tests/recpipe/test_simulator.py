"""The simulator: deterministic, realistic in the ways later stages rely on, and steerable by recommendations."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from recpipe.simulator import DEFECT_KINDS, SimulationSpec, World, inject_defects, serialise, simulate_to_landing, to_records

SPEC = SimulationSpec(users=2000, items=1000, days=4, seed=3)


@pytest.fixture(scope="module")
def world():
    return World(SPEC)


@pytest.fixture(scope="module")
def days(world):
    return [world.step(i) for i in range(SPEC.days)]


def _digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(folder).as_posix().encode())
            h.update(p.read_bytes() if p.suffix != ".parquet" else b"")
    return h.hexdigest()


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path):
    spec = SimulationSpec(users=300, items=200, days=2, seed=5, defect_rate=0.05)
    simulate_to_landing(spec, tmp_path / "a")
    simulate_to_landing(spec, tmp_path / "b")
    simulate_to_landing(SimulationSpec(users=300, items=200, days=2, seed=6, defect_rate=0.05), tmp_path / "c")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_a_day_does_not_depend_on_having_stepped_the_days_before(world, days):
    again = World(SPEC).step(2)
    assert again.equals(days[2])


def test_events_are_time_ordered_and_inside_their_day(world, days):
    for i, ev in enumerate(days):
        ts = ev["event_ts"].to_numpy()
        assert (np.diff(ts.astype(np.int64)) >= 0).all()
        day = np.datetime64(world.day(i).isoformat())
        assert ts.min() >= day and ts.max() < day + np.timedelta64(2, "D")


def test_most_users_are_inactive_on_most_days_and_a_minority_is_very_active(days):
    active_share = [ev["_user"].nunique() / SPEC.users for ev in days]
    assert max(active_share) < 0.35
    counts = np.bincount(np.concatenate([ev["_user"].to_numpy() for ev in days]), minlength=SPEC.users)
    top = np.sort(counts)[::-1][: SPEC.users // 10].sum()
    assert top / counts.sum() > 0.35


def test_item_popularity_is_long_tailed(days):
    views = np.concatenate([ev.loc[ev.event_type == "view", "_item"].to_numpy() for ev in days])
    counts = np.sort(np.bincount(views, minlength=SPEC.items))[::-1]
    # Personal taste dominates item choice, but the top tenth of the catalogue still takes over three
    # times its share of the views, and the least viewed tenth almost none.
    assert counts[: SPEC.items // 10].sum() / counts.sum() > 0.3
    assert counts[-(SPEC.items // 10):].sum() / counts.sum() < 0.03


def test_browsers_browse_and_buyers_buy(world, days):
    import pandas as pd

    ev = pd.concat([d.assign(_day=i) for i, d in enumerate(days)])
    buyer = world.user_is_buyer[ev["_user"].to_numpy()]
    views = ev["event_type"].to_numpy() == "view"
    sess_len = ev[views].groupby(["_day", "_session"]).size()
    sess_buyer = ev[views].groupby(["_day", "_session"])["_user"].first().map(lambda u: world.user_is_buyer[u])
    assert sess_len[~sess_buyer].mean() > 1.5 * sess_len[sess_buyer].mean()
    dwell = ev["dwell_seconds"].to_numpy()
    assert np.nanmedian(dwell[views & ~buyer]) > 1.5 * np.nanmedian(dwell[views & buyer])
    purchases = ev["event_type"].to_numpy() == "purchase"
    rate = lambda mask: purchases[mask].sum() / max(views[mask].sum(), 1)  # noqa: E731
    assert rate(buyer) > 4 * rate(~buyer)


def test_choices_follow_the_latent_preferences(world, days):
    ev = days[0]
    u = world.user_vectors[ev["_user"].to_numpy()]
    chosen = (u * world.item_vectors[ev["_item"].to_numpy()]).sum(axis=1).mean()
    rng = np.random.default_rng(0)
    random_items = rng.integers(0, SPEC.items, len(ev))
    baseline = (u * world.item_vectors[random_items]).sum(axis=1).mean()
    assert chosen > baseline + 0.2


def test_recommendations_shift_exposure_towards_the_listed_items(world):
    listed = np.arange(SPEC.items - 20, SPEC.items)  # the 20 items with ids at the end
    recs = {u: listed for u in range(SPEC.users)}
    plain = world.step(1)
    exposed = world.step(1, recommendations=recs)
    share = lambda ev: np.isin(ev["_item"].to_numpy(), listed).mean()  # noqa: E731
    assert share(exposed) > share(plain) + 0.1


def test_defects_are_spread_over_every_kind_and_counted(world, days):
    lines = serialise(to_records(world, days[0], 0))
    rng = np.random.default_rng(1)
    out, counts = inject_defects(lines, 0.06, rng)
    n_bad = int(round(len(lines) * 0.06))
    assert sum(counts.values()) == n_bad
    assert set(counts) == set(DEFECT_KINDS) and min(counts.values()) >= n_bad // len(DEFECT_KINDS)
    assert len(out) == len(lines) + counts["exact_duplicate"] + counts["conflicting_duplicate"]
    assert json.loads(lines[0])["event_ts"]


def test_landing_layout_and_ground_truth(tmp_path):
    import pandas as pd

    spec = SimulationSpec(users=200, items=100, days=2, seed=2, files_per_day=3)
    stats = simulate_to_landing(spec, tmp_path)
    parts = sorted((tmp_path / "events" / "ds=2026-11-02").glob("part-*.jsonl.gz"))
    assert len(parts) == 3
    users = pd.read_parquet(tmp_path / "ground_truth" / "users.parquet")
    items = pd.read_parquet(tmp_path / "ground_truth" / "items.parquet")
    assert len(users) == 200 and set(users["user_type"]) == {"buyer", "browser"}
    assert len(items) == 100 and len(items["vector"].iloc[0]) == spec.dim
    assert stats["events"] > 0


def test_invalid_specs_are_rejected():
    with pytest.raises(ValueError, match="defect_rate"):
        SimulationSpec(defect_rate=1.5)
    with pytest.raises(ValueError):
        SimulationSpec(start="2026-13-01")
