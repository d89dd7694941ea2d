"""MongoDB persistence: the collections and indexes, claims, stage status, and the queries
more than one stage shares. A stage's own queries live with the stage (``footy.pipeline``).

State changes are single-document updates with conditions; exclusive work claims rest on
inserts under a unique ``_id`` (atomic on MongoDB and FerretDB alike, see ``claims``).
"""

from footy.store.claims import Claim, claim_goal, release, renew
from footy.store.db import (
    CLAIMS,
    FIXTURES_ACTIVE,
    FIXTURES_COMPLETED,
    FIXTURES_STAGING,
    GOALS,
    VIDEOS,
    StoreError,
    connect,
    ensure_indexes,
)
from footy.store.status import (
    STAGE_FLAGS,
    Stage,
    mark_stage_done,
    mark_stage_failed,
    new_processing_status,
)

__all__ = [
    "CLAIMS",
    "FIXTURES_ACTIVE",
    "FIXTURES_COMPLETED",
    "FIXTURES_STAGING",
    "GOALS",
    "STAGE_FLAGS",
    "VIDEOS",
    "Claim",
    "Stage",
    "StoreError",
    "claim_goal",
    "connect",
    "ensure_indexes",
    "mark_stage_done",
    "mark_stage_failed",
    "new_processing_status",
    "release",
    "renew",
]
