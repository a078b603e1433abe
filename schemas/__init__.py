"""Table contracts: each table's schema is declared once here and used by readers, writers and tests."""
from schemas.base import TableSpec
from schemas.events import EVENTS, EVENT_TYPES, DEVICES, REQUIRED_FIELDS, LANDING_FIELDS
from schemas.quarantine import QUARANTINE, QUARANTINE_REASONS
from schemas.ingest_audit import INGEST_AUDIT

TABLES: dict[str, TableSpec] = {t.name: t for t in (EVENTS, QUARANTINE, INGEST_AUDIT)}

__all__ = [
    "TableSpec", "TABLES", "EVENTS", "QUARANTINE", "INGEST_AUDIT",
    "EVENT_TYPES", "DEVICES", "REQUIRED_FIELDS", "LANDING_FIELDS", "QUARANTINE_REASONS",
]
