from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql.types import StructType


@dataclass(frozen=True)
class TableSpec:
    """A table's contract: name, schema, partition column and primary key."""

    name: str
    schema: StructType
    partition_by: str
    key: tuple[str, ...]
    description: str = ""

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.schema.fields]
