"""The one SparkSession factory, with Delta Lake configured.

The Delta jars (the Spark-4.1 build, ``io.delta:delta-spark_4.1_2.13``, and ``delta-storage``) are fetched from
Maven Central once by ``make setup`` (``recpipe fetch-jars``) into ``spark.jars_dir`` and handed to Spark with
``spark.jars``, so later runs start offline and a cluster receives the same jars from the driver. Only those
two jars are taken: the artifact's transitive dependencies (Hadoop, Parquet, Jackson) are already part of
Spark and a second copy on the classpath would shadow Spark's own.
"""
from __future__ import annotations

import hashlib
import logging
import os
import urllib.request
from pathlib import Path

from recpipe.config import Config, SparkConfig

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LOG4J_CONF = Path(__file__).resolve().parent / "conf" / "log4j2.properties"


class DeltaJarsMissing(RuntimeError):
    pass


def _jar_coordinates(sc: SparkConfig) -> list[tuple[str, str]]:
    return [("io.delta", sc.delta_artifact), ("io.delta", "delta-storage")]


def jars_dir(sc: SparkConfig) -> Path:
    p = Path(sc.jars_dir)
    return p if p.is_absolute() else PROJECT_ROOT / p


def delta_jar_paths(sc: SparkConfig) -> list[Path]:
    d = jars_dir(sc)
    return [d / f"{artifact}-{sc.delta_version}.jar" for _, artifact in _jar_coordinates(sc)]


def fetch_delta_jars(sc: SparkConfig) -> list[Path]:
    """Download the Delta jars from Maven into jars_dir once, checking each against Maven's SHA-1."""
    d = jars_dir(sc)
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for (group, artifact), path in zip(_jar_coordinates(sc), delta_jar_paths(sc)):
        if path.is_file() and path.stat().st_size > 0:
            out.append(path)
            continue
        url = f"{sc.maven_repo}/{group.replace('.', '/')}/{artifact}/{sc.delta_version}/{path.name}"
        log.info("fetching %s", url)
        try:
            with urllib.request.urlopen(url, timeout=120) as resp:
                data = resp.read()
            with urllib.request.urlopen(url + ".sha1", timeout=60) as resp:
                expected = resp.read().decode().split()[0].strip()
        except Exception as exc:  # noqa: BLE001 - re-raised with the URL that failed
            raise DeltaJarsMissing(f"cannot fetch Delta jar {url}: {exc}") from exc
        actual = hashlib.sha1(data).hexdigest()
        if actual != expected:
            raise DeltaJarsMissing(f"checksum mismatch for {url}: got {actual}, Maven says {expected}")
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
        out.append(path)
    return out


def _local_cores(master: str) -> int:
    if master.startswith("local[") and master.endswith("]"):
        inner = master[len("local["):-1].split(",")[0]
        if inner != "*" and inner.isdigit():
            return int(inner)
    return os.cpu_count() or 2


def get_spark(cfg: Config, app_name: str | None = None, extra_conf: dict[str, str] | None = None):
    """Return the process's SparkSession, creating it with Delta configured on first use."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    sc = cfg.spark
    jars = delta_jar_paths(sc)
    missing = [str(p) for p in jars if not p.is_file()]
    if missing:
        raise DeltaJarsMissing(
            f"Delta Lake jars not found: {', '.join(missing)}. Run `make setup` (or `recpipe fetch-jars`)."
        )
    shuffle = sc.shuffle_partitions or max(2, 2 * _local_cores(sc.master))
    builder = (
        SparkSession.builder.appName(app_name or sc.app_name)
        .config("spark.jars", ",".join(str(p) for p in jars))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle))
        .config("spark.default.parallelism", str(shuffle))
        .config("spark.databricks.delta.snapshotPartitions", str(max(1, shuffle // 2)))
        .config("spark.databricks.delta.schema.autoMerge.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", str(sc.ui_enabled).lower())
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", f"-Duser.timezone=UTC -Dlog4j2.configurationFile={LOG4J_CONF}")
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.warehouse.dir", str(Path(cfg.lake).resolve() / "_warehouse"))
    )
    if "PYSPARK_GATEWAY_PORT" not in os.environ:
        # Under spark-submit the JVM already exists: master and driver memory come from its own flags.
        builder = builder.master(sc.master).config("spark.driver.memory", sc.driver_memory)
    for k, v in (extra_conf or {}).items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(sc.log_level)
    return spark
