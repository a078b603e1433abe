from __future__ import annotations

import pytest

from recpipe.config import ConfigError, load_config, parse_set


def test_defaults():
    cfg = load_config(environ={})
    assert cfg.lake == "lake" and cfg.landing == "landing" and cfg.spark.master == "local[*]"
    assert cfg.ingest.late_tolerance_days == 3


def test_precedence_defaults_file_environment_command_line(tmp_path):
    f = tmp_path / "recpipe.toml"
    f.write_text('lake = "from-file"\nlanding = "landing-file"\n[ingest]\nmax_dwell_seconds = 100\n'
                 'late_tolerance_days = 5\n[spark]\nmaster = "spark://file:7077"\n')
    env = {"RECPIPE_LAKE": "from-env", "RECPIPE_INGEST__LATE_TOLERANCE_DAYS": "6"}
    cfg = load_config(f, {"ingest.late_tolerance_days": "7"}, environ=env)
    assert cfg.lake == "from-env"                       # env beats file
    assert cfg.landing == "landing-file"                # file beats default
    assert cfg.ingest.max_dwell_seconds == 100.0        # typed from the file
    assert cfg.ingest.late_tolerance_days == 7          # command line beats env
    assert cfg.spark.master == "spark://file:7077"


def test_config_file_from_environment(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[spark]\ndriver_memory = "8g"\n')
    assert load_config(environ={"RECPIPE_CONFIG": str(f)}).spark.driver_memory == "8g"


@pytest.mark.parametrize("overrides,message", [
    ({"ingest.late_tolerance_days": "three"}, "expected int"),
    ({"ingest.nope": "1"}, "unknown configuration key 'ingest.nope'"),
    ({"nosuch": "1"}, "unknown configuration key"),
    ({"ingest.on_unknown_fields": "drop"}, "on_unknown_fields"),
    ({"ingest.late_tolerance_days": "-1"}, "late_tolerance_days must be >= 0"),
    ({"spark.ui_enabled": "maybe"}, "expected a boolean"),
])
def test_bad_values_are_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=overrides, environ={})


def test_missing_file_and_bad_set():
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config("/nonexistent/recpipe.toml", environ={})
    with pytest.raises(ConfigError, match="section.field=value"):
        parse_set(["lake"])
