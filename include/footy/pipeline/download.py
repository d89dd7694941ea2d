"""download_videos: fetch a goal's candidate clips, check them, and put them in storage.

For one goal (claimed for the ``download`` stage) each due candidate is claimed on its own
(``footy.store.downloads.claim_clip``) and handled by a small thread pool:
download with yt-dlp under the URL policy -> probe and quality-gate the real file -> SHA-256
-> ``ClipStorage.put`` at ``clip_key(fixture, goal, sha256)`` (size-verified) -> ``stored``.
A failure is recorded on the clip (``download.error``, ``download.attempts``); transient ones
are retried after a backoff (``download.next_attempt_at``) up to ``max_attempts``, permanent
ones end ``failed``. One clip's failure never fails the goal.

Nothing partial is left behind: yt-dlp works in a per-run folder under ``work_dir`` that is
removed when the run ends, storage writes are atomic/verified, and folders of workers that
were killed (their process is gone) are swept by the next run on the same host.

``videos_downloaded`` becomes true only when the goal's search is over
(``twitter_scraped``) and no candidate is pending. The search flag is read *before* the
pending count: discovery stores its last candidates before it sets the flag, so a candidate
that arrives late is always seen as pending.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo.database import Database

from footy.download import (
    DEFAULT_FORMAT,
    DEFAULT_MAX_BYTES,
    SPLIT_STREAMS_FORMAT,
    DownloadProgress,
    UrlPolicy,
    download,
)
from footy.download.fetch import GateRejectedError
from footy.sources import media_rules
from footy.sources.gates import DEFAULT_GATES, GateConfig, check_dimensions
from footy.storage import ClipStorage, ClipStorageError, StorageVerifyError, clip_key
from footy.store.claims import Claim, claim_goal, release, renew, unclaimed
from footy.store.db import GOALS
from footy.store.downloads import (
    claim_clip,
    count_states,
    due_candidates,
    goals_with_download_work,
    hold_unconfirmed_candidates,
    mark_attempt_failed,
    mark_stored,
    pending_count,
    reset_failed,
    start_attempt,
)
from footy.store.goals import CONFIRMED
from footy.store.heartbeat import LEASE, ClaimHeartbeat
from footy.store.status import Stage, mark_stage_done, mark_stage_failed

log = logging.getLogger(__name__)

_RUN_DIR = re.compile(r"^run-(?P<pid>[0-9]+)-(?P<host>.+)-[^-]+$")


def _env_number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    return float(raw) if raw else default


@dataclass(frozen=True)
class SourceMedia:
    """How one source's clips are fetched: its own host allow-list and format selection."""

    policy: UrlPolicy
    format_spec: str = DEFAULT_FORMAT

    @classmethod
    def for_source(cls, source: str, environ: Mapping[str, str] | None = None) -> SourceMedia:
        rules = media_rules(source)
        return cls(UrlPolicy.from_env(rules.hosts_variable, rules.hosts, environ),
                   SPLIT_STREAMS_FORMAT if rules.split_streams else DEFAULT_FORMAT)


@dataclass(frozen=True)
class DownloadSettings:
    """How downloads run; :meth:`from_env` reads the ``FOOTY_DOWNLOAD_*`` variables."""

    concurrency: int = 3
    max_bytes: int = DEFAULT_MAX_BYTES
    socket_timeout: float = 20.0
    retries: int = 3  # yt-dlp's own retries inside one attempt
    max_attempts: int = 4  # attempts before a transient failure becomes ``failed``
    retry_base: timedelta = timedelta(minutes=1)
    retry_max: timedelta = timedelta(minutes=30)
    clip_lease: timedelta = LEASE  # renewed while bytes arrive
    goal_lease: timedelta = LEASE  # renewed by a heartbeat while the goal's clips download
    unconfirmed_hold: timedelta = timedelta(minutes=10)
    work_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "footy-downloads")
    gates: GateConfig = DEFAULT_GATES

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DownloadSettings:
        env = os.environ if environ is None else environ
        d = cls()
        work_dir = env.get("FOOTY_DOWNLOAD_WORK_DIR", "").strip()
        return cls(
            concurrency=max(1, int(_env_number(env, "FOOTY_DOWNLOAD_CONCURRENCY", d.concurrency))),
            max_bytes=int(_env_number(env, "FOOTY_DOWNLOAD_MAX_BYTES", d.max_bytes)),
            socket_timeout=_env_number(env, "FOOTY_DOWNLOAD_SOCKET_TIMEOUT", d.socket_timeout),
            retries=int(_env_number(env, "FOOTY_DOWNLOAD_RETRIES", d.retries)),
            max_attempts=max(1, int(_env_number(env, "FOOTY_DOWNLOAD_MAX_ATTEMPTS",
                                                d.max_attempts))),
            retry_base=timedelta(seconds=_env_number(
                env, "FOOTY_DOWNLOAD_RETRY_SECONDS", d.retry_base.total_seconds())),
            clip_lease=timedelta(seconds=_env_number(
                env, "FOOTY_DOWNLOAD_CLIP_LEASE_SECONDS", d.clip_lease.total_seconds())),
            goal_lease=timedelta(seconds=_env_number(
                env, "FOOTY_DOWNLOAD_GOAL_LEASE_SECONDS", d.goal_lease.total_seconds())),
            work_dir=Path(work_dir) if work_dir else d.work_dir,
        )  # fmt: skip

    def retry_at(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after ``attempts`` failed transiently; None = give up."""
        if attempts >= self.max_attempts:
            return None
        delay = min(self.retry_base * (2 ** max(0, attempts - 1)), self.retry_max)
        return now + delay


# ---- work folders ----------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def sweep_orphaned_work_dirs(work_dir: Path) -> list[str]:
    """Remove run folders of this host whose process is gone (a killed worker's partial
    files). Returns the names removed."""
    removed: list[str] = []
    if not work_dir.is_dir():
        return removed
    host = socket.gethostname()
    for entry in work_dir.iterdir():
        match = _RUN_DIR.match(entry.name)
        if not match or match["host"] != host or not entry.is_dir():
            continue
        if int(match["pid"]) == os.getpid() or _pid_alive(int(match["pid"])):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry.name)
        log.warning("removed the work folder of a dead worker: %s", entry)
    return removed


def _run_dir(work_dir: Path) -> tempfile.TemporaryDirectory[str]:
    work_dir.mkdir(parents=True, exist_ok=True)
    prefix = f"run-{os.getpid()}-{socket.gethostname()}-"
    return tempfile.TemporaryDirectory(prefix=prefix, dir=work_dir)


# ---- one clip --------------------------------------------------------------------------------


@dataclass
class _Leases:
    """Keeps the clip's claim (and the goal's) alive while bytes keep arriving."""

    db: Database
    goal_claim: Claim
    settings: DownloadSettings
    lock: threading.Lock = field(default_factory=threading.Lock)
    last: float = field(default_factory=time.monotonic)

    def progress_for(self, clip_claim: Claim) -> Any:
        interval = min(self.settings.clip_lease, self.settings.goal_lease).total_seconds() / 3

        def on_progress(update: DownloadProgress) -> None:
            with self.lock:
                due = time.monotonic() - self.last >= interval
                if due:
                    self.last = time.monotonic()
            if due:
                renew(self.db, clip_claim, self.settings.clip_lease)
                renew(self.db, self.goal_claim, self.settings.goal_lease)

        return on_progress


def storage_metadata(goal: dict[str, Any], video: dict[str, Any], file: Any) -> dict[str, Any]:
    """Object metadata of a stored clip (``footy.storage.METADATA_KEYS`` and a few more)."""
    return {
        "goal_id": goal["_id"],
        "fixture_id": goal.get("fixture_id"),
        "player": goal.get("player_name"),
        "team": goal.get("team_name"),
        "minute": goal.get("minute"),
        "source_url": video.get("media_url"),
        "post_url": video.get("post_url"),
        "width": file.width,
        "height": file.height,
        "duration": f"{file.duration_s:.2f}",
        "sha256": file.sha256,
    }


def _store_clip(
    goal: dict[str, Any],
    video: dict[str, Any],
    storage: ClipStorage,
    settings: DownloadSettings,
    media: SourceMedia,
    clip_dir: Path,
    on_progress: Any,
) -> dict[str, Any]:
    """Download, check and store one clip; the fields to record on success."""
    file = download(
        video["media_url"],
        clip_dir,
        policy=media.policy,
        format_spec=media.format_spec,
        max_bytes=settings.max_bytes,
        socket_timeout=settings.socket_timeout,
        retries=settings.retries,
        progress=on_progress,
        gate=lambda w, h, d: check_dimensions(w, h, d, settings.gates),
        work_dir=clip_dir.parent,
    )
    key = clip_key(goal["fixture_id"], goal["_id"], file.sha256)
    existed = storage.stat(key) is not None
    stored = storage.put(file.path, key, storage_metadata(goal, video, file), file.size)
    if stored.size != file.size:  # put verifies too; a clip is marked stored only on a match
        raise StorageVerifyError(f"{key}: stored {stored.size} bytes, downloaded {file.size}")
    return {
        "storage": {"key": stored.key, "url": stored.url, "size": stored.size,
                    "already_present": existed},
        "sha256": file.sha256,
        "file": {"width": file.width, "height": file.height, "fps": file.fps,
                 "frame_count": file.frame_count, "duration_s": file.duration_s,
                 "size": file.size},
    }  # fmt: skip


def _download_clip(
    db: Database,
    goal: dict[str, Any],
    video: dict[str, Any],
    storage: ClipStorage,
    settings: DownloadSettings,
    media: SourceMedia,
    leases: _Leases,
    owner: str,
    run_dir: Path,
    now: datetime,
) -> dict[str, Any]:
    video_id = video["_id"]
    clip_claim = claim_clip(db, video_id, owner, settings.clip_lease, now=now)
    if clip_claim is None:
        return {"video_id": video_id, "outcome": "claimed_elsewhere"}
    clip_dir = run_dir / f"clip-{hashlib.sha1(video_id.encode()).hexdigest()[:12]}"
    try:
        current = start_attempt(db, video_id, clip_claim, now)
        if current is None:
            return {"video_id": video_id, "outcome": "not_due"}
        attempts = int(current["download"]["attempts"])
        try:
            fields = _store_clip(
                goal, current, storage, settings, media, clip_dir,
                leases.progress_for(clip_claim),
            )  # fmt: skip
        except Exception as exc:  # any failure is this clip's, never the goal's
            # Storage trouble is not the clip's fault: retry it whatever its class.
            transient = isinstance(exc, ClipStorageError) or getattr(exc, "transient", True)
            ended = _later(now)
            retry_at = settings.retry_at(attempts, ended) if transient else None
            extra: dict[str, Any] = {"download.transient": transient}
            if isinstance(exc, GateRejectedError):
                extra["download.reject_reasons"] = exc.reasons
            mark_attempt_failed(db, video_id, exc, ended, retry_at=retry_at, extra=extra)
            outcome = "retry" if retry_at else "failed"
            log.warning("clip %s %s after attempt %d: %s: %s", video_id, outcome, attempts,
                        type(exc).__name__, exc)
            return {"video_id": video_id, "outcome": outcome, "error": type(exc).__name__}
        mark_stored(db, video_id, fields, _later(now))
        log.info("clip %s stored at %s (%d bytes)", video_id, fields["storage"]["url"],
                 fields["storage"]["size"])
        return {"video_id": video_id, "outcome": "stored", "key": fields["storage"]["key"]}
    finally:
        shutil.rmtree(clip_dir, ignore_errors=True)
        release(db, clip_claim)


# ---- one goal --------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _later(run_now: datetime) -> datetime:
    """When a clip's attempt ended: the wall clock, never before the run's own clock
    (tests run the stage at a chosen time)."""
    return max(run_now, _now())


def download_goal(
    db: Database,
    goal_id: str,
    storage: ClipStorage,
    *,
    owner: str,
    now: datetime | None = None,
    settings: DownloadSettings | None = None,
    policy: UrlPolicy | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Download the goal's due candidates; returns a JSON-able summary.

    Each clip is fetched under its source's rules (:class:`SourceMedia`); ``policy``, when
    given, replaces every source's allow-list. ``force`` first turns the goal's ``failed``
    clips back into candidates. The goal is
    skipped (``"skipped"`` in the summary) when it is not confirmed or another run holds it.
    """
    now = now or _now()
    settings = settings or DownloadSettings.from_env()
    goal = db[GOALS].find_one({"_id": goal_id})
    summary: dict[str, Any] = {"goal_id": goal_id, "label": (goal or {}).get("label") or goal_id,
                               "stored": [], "failed": [], "retry": [], "finished": False}
    if goal is None or goal.get("status") != CONFIRMED:
        summary["skipped"] = "not a confirmed goal"
        return summary
    claim = claim_goal(db, Stage.DOWNLOAD, goal_id, owner, settings.goal_lease, now=now)
    if claim is None:
        summary["skipped"] = "another run holds this goal"
        return summary
    try:
        with ClaimHeartbeat(db, claim, settings.goal_lease):
            return _download_claimed(db, goal, claim, storage, settings, policy, owner, now,
                                     summary, force)  # fmt: skip
    except Exception as exc:
        mark_stage_failed(db, claim, exc, now=now)
        raise


def _download_claimed(db: Database, goal: dict[str, Any], claim: Claim, storage: ClipStorage,
                      settings: DownloadSettings, policy: UrlPolicy | None, owner: str,
                      now: datetime, summary: dict[str, Any],
                      force: bool) -> dict[str, Any]:  # fmt: skip
    goal_id = str(goal["_id"])
    if force:
        summary["reset"] = reset_failed(db, goal_id, now)
    sweep_orphaned_work_dirs(settings.work_dir)
    candidates = due_candidates(db, goal_id, now)
    sources = {str(video.get("source")) for video in candidates}
    media = {name: SourceMedia(policy) if policy else SourceMedia.for_source(name)
             for name in sources}  # fmt: skip
    leases = _Leases(db, claim, settings)
    with _run_dir(settings.work_dir) as run_dir, ThreadPoolExecutor(
        max_workers=settings.concurrency, thread_name_prefix="footy-dl"
    ) as pool:
        outcomes = list(pool.map(
            lambda video: _download_clip(db, goal, video, storage, settings,
                                         media[str(video.get("source"))], leases, owner,
                                         Path(run_dir), now),
            candidates,
        ))  # fmt: skip
    for result in outcomes:
        if result["outcome"] in ("stored", "failed", "retry"):
            summary[result["outcome"]].append(result["video_id"])
    # Order matters: the search flag first, then the pending count (see module doc).
    fresh = db[GOALS].find_one({"_id": goal_id}, {"processing_status": 1}) or {}
    scraped = bool(fresh.get("processing_status", {}).get("twitter_scraped"))
    finished = scraped and pending_count(db, goal_id) == 0
    counts = count_states(db, goal_id)
    fields: dict[str, Any] = {"processing_status.download_counts": counts}
    if not finished:  # late or forced work: the goal is not downloaded (any more)
        fields["processing_status.videos_downloaded"] = False
    current = mark_stage_done(db, claim, finished=finished, fields=fields, now=now)
    summary.update(finished=finished and current, counts=counts, claim_current=current)
    return summary


def select_goals(
    db: Database,
    now: datetime,
    goal_ids: list[str] | None = None,
    settings: DownloadSettings | None = None,
) -> list[str]:
    """Goals for this run: the ones named by hand (confirmed ones), or those with work."""
    settings = settings or DownloadSettings.from_env()
    if goal_ids:
        wanted = sorted(set(goal_ids))
        found = {d["_id"] for d in db[GOALS].find({"_id": {"$in": wanted}, "status": CONFIRMED},
                                                  {"_id": 1})}  # fmt: skip
        for missing in sorted(set(wanted) - found):
            log.warning("goal %s is not a confirmed goal; skipped", missing)
        return [g for g in wanted if g in found]
    held = hold_unconfirmed_candidates(db, now, settings.unconfirmed_hold)
    if held:
        log.info("%d candidate(s) of goals no longer confirmed held back", held)
    work = goals_with_download_work(db, now)
    free = unclaimed(db, Stage.DOWNLOAD, work, now)
    if len(free) < len(work):
        log.info("%d goal(s) left to the runs downloading them now", len(work) - len(free))
    return free
