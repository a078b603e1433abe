"""Table contracts: each table's schema is declared once here and used by readers, writers and tests."""
from schemas.base import TableSpec
from schemas.events import EVENTS, EVENT_TYPES, DEVICES, REQUIRED_FIELDS, LANDING_FIELDS
from schemas.quarantine import QUARANTINE, QUARANTINE_REASONS
from schemas.ingest_audit import INGEST_AUDIT
from schemas.sessions import SESSIONS
from schemas.user_features import USER_FEATURES, user_features_spec
from schemas.population_models import POPULATION_MODELS
from schemas.item_popularity import ITEM_POPULARITY, item_popularity_spec
from schemas.active_users import ACTIVE_USERS, ACTIVE_USER_COUNTS
from schemas.interactions import INTERACTIONS
from schemas.factors import USER_FACTORS, ITEM_FACTORS
from schemas.models import MODELS, MODEL_STATUSES
from schemas.model_metrics import MODEL_METRICS
from schemas.candidates import CANDIDATES, FALLBACK_CANDIDATES
from schemas.candidate_metrics import CANDIDATE_METRICS
from schemas.dq_results import DQ_RESULTS
from schemas.ranker_samples import RANKER_SAMPLES, SAMPLE_KINDS, ranker_samples_spec

TABLES: dict[str, TableSpec] = {t.name: t for t in (
    EVENTS, QUARANTINE, INGEST_AUDIT, SESSIONS, USER_FEATURES, POPULATION_MODELS, ITEM_POPULARITY,
    ACTIVE_USERS, ACTIVE_USER_COUNTS, INTERACTIONS, USER_FACTORS, ITEM_FACTORS, MODELS, MODEL_METRICS,
    CANDIDATES, FALLBACK_CANDIDATES, RANKER_SAMPLES, CANDIDATE_METRICS, DQ_RESULTS,
)}

__all__ = [
    "TableSpec", "TABLES", "EVENTS", "QUARANTINE", "INGEST_AUDIT", "SESSIONS", "USER_FEATURES",
    "POPULATION_MODELS", "ITEM_POPULARITY", "ACTIVE_USERS", "ACTIVE_USER_COUNTS", "INTERACTIONS", "USER_FACTORS",
    "ITEM_FACTORS", "MODELS", "MODEL_STATUSES", "MODEL_METRICS", "CANDIDATES",
    "FALLBACK_CANDIDATES", "RANKER_SAMPLES", "CANDIDATE_METRICS", "DQ_RESULTS", "SAMPLE_KINDS", "ranker_samples_spec", "user_features_spec",
    "item_popularity_spec", "EVENT_TYPES", "DEVICES", "REQUIRED_FIELDS", "LANDING_FIELDS", "QUARANTINE_REASONS",
]
