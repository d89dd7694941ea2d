"""filter_videos: keep one best copy of each distinct clip of a goal.

For a claimed goal: every newly ``stored`` clip is fingerprinted (the fingerprint is stored
on the clip as BSON binary with its quality), then compared with the goal's current keepers
(:func:`footy.dedup.assign`). A match is verified on the frames of both clips, which are
never stored, so a run with new clips decodes the goal's keepers again (from their objects);
a run with nothing new decodes nothing. A clip matching no keeper is ``kept``;
a clip matching a keeper is a ``duplicate`` of it (``duplicate_of``, ``duplicate_reason``) and
its stored object is deleted (Variable ``footy_filter``: ``{"delete_duplicates": false}``
keeps it); a better copy replaces a worse keeper, which becomes a duplicate of it, and the old
keeper's duplicates are re-pointed to the new keeper.

A clip that cannot be decoded (or whose object is gone) is ``failed`` with its error class
(``filter.error``) and its object deleted;
a storage error is retried on later runs and fails the clip after ``max_read_attempts``.
Neither fails the goal. Once downloads are over (``videos_downloaded``) and no stored clip
is left, the goal is ``videos_filtered`` and ``completed``.

A withdrawn goal's stored, kept and duplicate clips are ``removed`` and their objects deleted.

Upgrades of the dedup method (``footy.dedup.METHOD_VERSION``): a stored fingerprint of an
older method is never compared with a new one; it is computed again from the clip's object.
Keepers decided by an older method are decided again, as if new, against the keepers
already decided by the current one: an old pair of keepers that the new method sees as one
footage ends as one keeper and one duplicate. Each decision records its method
(``filter.method``), so a run that stops halfway picks up where it stopped. A goal with such
keepers counts as having work, so naming it in a manual run re-filters it; scheduled runs
reach it when its next clip arrives.

Crash safety: a replaced keeper is demoted before its replacement is promoted (a crash in
between leaves the replacement ``stored``, so the next run promotes it), and duplicates that
point at a demoted keeper are re-pointed on every run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo.database import Database

from footy.dedup import METHOD_VERSION, Fingerprint, assign, fingerprint
from footy.errors import ConfigError, PermanentError, error_record
from footy.storage import ClipStorage
from footy.store import filtering as store
from footy.store.claims import Claim, unclaimed
from footy.store.goals import WITHDRAWN
from footy.store.status import Stage, mark_stage_done

log = logging.getLogger(__name__)

WITHDRAWN_REASON = "goal withdrawn"
MAX_CHAIN = 20  # re-pointing follows at most this many demotions


class StoredObjectMissingError(PermanentError):
    """The clip's object is not in storage (deleted outside the pipeline)."""


@dataclass(frozen=True)
class FilterConfig:
    """Variable ``footy_filter`` (JSON); every key optional."""

    delete_duplicates: bool = True
    max_read_attempts: int = 3

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> FilterConfig:
        raw = dict(raw or {})
        unknown = set(raw) - {"delete_duplicates", "max_read_attempts"}
        if unknown:
            raise ConfigError(f"footy_filter: unknown key(s) {sorted(unknown)}")
        delete = raw.get("delete_duplicates", True)
        if not isinstance(delete, bool):
            raise ConfigError(f"footy_filter: delete_duplicates must be true/false, not {delete!r}")
        attempts = raw.get("max_read_attempts", 3)
        if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
            raise ConfigError(f"footy_filter: max_read_attempts must be >= 1, not {attempts!r}")
        return cls(delete_duplicates=delete, max_read_attempts=attempts)


# ------------------------------------------------------------------------------ reading clips


def check_readable(storage: ClipStorage) -> None:
    """Fail the stage (not the clips) when the backend offers no way to read an object."""
    if not callable(getattr(storage, "get", None)) and not _is_file_storage(storage):
        raise ConfigError(
            f"{storage!r} cannot be read back: filter_videos needs ClipStorage.get(key, dest) "
            "or file:// storage"
        )


def _is_file_storage(storage: ClipStorage) -> bool:
    try:
        return storage.url_for("probe/probe.mp4").startswith("file://")
    except Exception:  # noqa: BLE001 - a backend that cannot name a URL cannot be read either
        return False


@contextmanager
def local_copy(storage: ClipStorage, key: str) -> Iterator[Path]:
    """A readable local file with the object of ``key``; a temporary copy is removed after."""
    if storage.stat(key) is None:
        raise StoredObjectMissingError(f"object {key!r} is not in storage")
    with storage.local_file(key) as path:
        yield path


def _quality(fp: Fingerprint) -> dict[str, Any]:
    return {
        "eff_width": fp.eff_width, "eff_height": fp.eff_height,
        "bits_per_pixel": round(fp.bits_per_pixel, 5), "fps": round(fp.fps, 3),
        "duration": round(fp.duration, 3),
    }  # fmt: skip


def _stored_fingerprint(video: dict[str, Any]) -> Fingerprint | None:
    data = video.get("fingerprint")
    if data is None:
        return None
    try:
        fp = Fingerprint.from_bytes(bytes(data))
    except ValueError:
        log.warning("%s: unreadable stored fingerprint; computing it again", video["_id"])
        return None
    if not fp.is_current:
        log.info("%s: fingerprint of dedup method %d (now %d); computing it again",
                 video["_id"], fp.method, METHOD_VERSION)  # fmt: skip
        return None
    return fp


def _fingerprints(
    db: Database,
    storage: ClipStorage,
    videos: list[dict[str, Any]],
    state: str,
    cfg: FilterConfig,
    now: datetime,
    summary: dict[str, Any],
) -> dict[str, Fingerprint]:
    """Each clip's fingerprint with its frames, decoded from the clip's object; stored on the
    clip unless a fingerprint of the current method already is.

    A permanent error fails the clip; any other error is retried on later runs, up to
    ``cfg.max_read_attempts`` runs. Neither stops the other clips.
    """
    out: dict[str, Fingerprint] = {}
    for video in videos:
        vid = video["_id"]
        try:
            with local_copy(storage, (video.get("storage") or {})["key"]) as path:
                fp = fingerprint(path)
        except Exception as exc:  # one bad clip never fails its goal
            _clip_error(db, vid, state, exc, cfg, now, summary)
            continue
        if _stored_fingerprint(video) is None and not store.save_fingerprint(
            db, vid, state, fp.to_bytes(), _quality(fp), now
        ):
            continue  # its state changed meanwhile: not ours to decide any more
        out[vid] = fp
    return out


def _clip_error(
    db: Database,
    vid: str,
    state: str,
    exc: Exception,
    cfg: FilterConfig,
    now: datetime,
    summary: dict[str, Any],
) -> None:
    record = error_record(exc)
    if not isinstance(exc, PermanentError):
        attempts = store.record_attempt_error(db, vid, state, record, now)
        if attempts < cfg.max_read_attempts:
            log.warning("%s: %s (attempt %d; retried next run)", vid, record, attempts)
            summary["retry_later"].append(vid)
            return
    log.warning("%s: failed: %s: %s", vid, record["type"], record["message"])
    if store.mark_failed(db, vid, state, record, now):
        summary["failed"].append(vid)


# ------------------------------------------------------------------------------ decisions


def _apply(
    db: Database,
    decisions: list,
    new_ids: set[str],
    cfg: FilterConfig,
    now: datetime,
    summary: dict[str, Any],
) -> None:
    """Write decisions. ``new_ids`` are stored clips; every other decided key is a keeper
    (a current one that a better copy replaced, or one decided again after an upgrade)."""
    # Demote keepers first, so a crash never leaves two keepers of one footage.
    demotions = [d for d in decisions if d.action == "duplicate" and d.key not in new_ids]
    promotions = [d for d in decisions if d.action in ("keep", "replace")]
    duplicates = [d for d in decisions if d.action == "duplicate" and d.key in new_ids]
    delete = cfg.delete_duplicates
    for d in demotions:
        if store.mark_duplicate(db, d.key, store.KEPT, d.duplicate_of, d.why,
                                delete_object=delete, method=METHOD_VERSION, now=now):  # fmt: skip
            summary["replaced"].append({"old": d.key, "new": d.duplicate_of})
    for d in promotions:
        if d.key not in new_ids:
            if store.confirm_keeper(db, d.key, d.why, METHOD_VERSION, now):
                summary["reconfirmed"].append(d.key)
        elif store.mark_kept(db, d.key, d.why, METHOD_VERSION, now):
            summary["kept"].append(d.key)
    for d in duplicates:
        if store.mark_duplicate(db, d.key, store.STORED, d.duplicate_of, d.why,
                                delete_object=delete, method=METHOD_VERSION, now=now):  # fmt: skip
            summary["duplicates"].append(d.key)


def _repoint(db: Database, goal_id: str, now: datetime) -> list[dict[str, str]]:
    """Duplicates whose keeper was itself demoted point at that keeper's replacement."""
    clips = store.clips_in_state(db, goal_id, store.KEPT, store.DUPLICATE)
    target = {c["_id"]: c.get("duplicate_of") for c in clips if c["state"] == store.DUPLICATE}
    moved = []
    for vid, old in sorted(target.items()):
        new, hops = old, 0
        while new in target and hops < MAX_CHAIN:
            new, hops = target[new], hops + 1
        if new != old and new not in target and store.repoint_duplicate(db, vid, old, new, now):
            moved.append({"id": vid, "from": old, "to": new})
    return moved


def _delete_objects(db: Database, storage: ClipStorage, goal_id: str, now: datetime) -> dict:
    deleted, errors = 0, []
    for video in store.objects_to_delete(db, goal_id):
        key = (video.get("storage") or {}).get("key")
        user = store.object_in_use(db, key, video["_id"]) if key else None
        if user is not None:  # identical bytes stored once: the other clip still needs them
            store.mark_object_shared(db, video["_id"], user, now)
            continue
        try:
            if key:
                storage.delete(key)
        except Exception as exc:  # left pending: the sensor brings the goal back next run
            log.warning("%s: deleting %s failed: %s", video["_id"], key, exc)
            errors.append({"id": video["_id"], **error_record(exc)})
            continue
        deleted += store.mark_object_deleted(db, video["_id"], now)
    return {"deleted_objects": deleted, "delete_errors": errors}


# ------------------------------------------------------------------------------ the stage


def _empty_summary(goal: dict[str, Any]) -> dict[str, Any]:
    return {
        "goal_id": goal["_id"], "label": goal.get("label") or goal["_id"],
        "status": goal.get("status"), "kept": [], "reconfirmed": [], "duplicates": [],
        "replaced": [], "repointed": [], "failed": [], "retry_later": [], "removed": [],
        "deleted_objects": 0, "delete_errors": [], "completed": False, "stale_claim": False,
    }  # fmt: skip


def filter_goal(
    db: Database,
    storage: ClipStorage,
    goal_id: str,
    claim: Claim,
    now: datetime,
    cfg: FilterConfig | None = None,
) -> dict[str, Any]:
    """One filtering run for a claimed goal; a JSON-able summary. See the module docstring.

    Raises only for goal-level problems (unknown goal, unreadable storage backend, database
    errors); the caller records them with ``mark_stage_failed``.
    """
    cfg = cfg or FilterConfig()
    goal = store.find_goal(db, goal_id)
    if goal is None:
        raise ConfigError(f"goal {goal_id!r} is not known")
    summary = _empty_summary(goal)
    if goal.get("status") == WITHDRAWN:
        for video in store.clips_in_state(db, goal_id, *store.LIVE_STATES):
            if store.mark_removed(db, video["_id"], video["state"], WITHDRAWN_REASON, now):
                summary["removed"].append(video["_id"])
        summary.update(_delete_objects(db, storage, goal_id, now))
        summary["stale_claim"] = not mark_stage_done(db, claim, finished=False, now=now)
        return summary

    # Read before the clips: downloads that end after this point are seen by the next run.
    downloaded = bool((goal.get("processing_status") or {}).get("videos_downloaded"))
    stored = store.clips_in_state(db, goal_id, store.STORED)
    kept = store.clips_in_state(db, goal_id, store.KEPT)
    # keepers decided by an older dedup method are decided again, like new clips
    undecided = {v["_id"] for v in kept if store.decided_by(v) != METHOD_VERSION}
    if stored or undecided:
        check_readable(storage)
    new = _fingerprints(db, storage, stored, store.STORED, cfg, now, summary)
    # the keepers' frames are needed only when something is compared with them
    keepers = {}
    if new or undecided:
        keepers = _fingerprints(db, storage, kept, store.KEPT, cfg, now, summary)
    again = {k: fp for k, fp in keepers.items() if k in undecided}
    current = {k: fp for k, fp in keepers.items() if k not in undecided}
    if (new or undecided) and set(keepers) != {v["_id"] for v in kept} - set(summary["failed"]):
        # A keeper could not be read this time: comparing without it could keep a second
        # copy of its footage. Leave the new clips stored for the next run.
        log.warning("%s: a keeper is unreadable for now; deciding next run", goal_id)
    elif new or again:
        if again:
            log.info("%s: %d keeper(s) decided by an older dedup method; deciding them again",
                     goal_id, len(again))  # fmt: skip
        _apply(db, assign({**new, **again}, current), set(new), cfg, now, summary)
    summary["repointed"] = _repoint(db, goal_id, now)
    summary.update(_delete_objects(db, storage, goal_id, now))

    finished = downloaded and store.count_in_state(db, goal_id, store.STORED) == 0
    summary["completed"] = finished
    summary["stale_claim"] = not mark_stage_done(db, claim, finished=finished, now=now)
    return summary


def goals_with_work(db: Database, limit: int) -> list[str]:
    """Goals a scheduled run should visit (``store.filtering.goals_with_filter_work``),
    except those another run is filtering now."""
    return unclaimed(db, Stage.FILTER, store.goals_with_filter_work(db, limit), datetime.now(UTC))


def has_work(db: Database, goal_id: str) -> bool:
    """Whether :func:`filter_goal` would change anything; checked before claiming."""
    return store.goal_has_filter_work(db, goal_id, METHOD_VERSION)
