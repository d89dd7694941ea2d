"""Keep a claim alive while its work runs, so leases can be short.

A lease is what a killed worker leaves behind: its goal is taken again only once the lease
runs out. With a heartbeat renewing the claim every third of the lease, the lease only has to
outlast a few missed beats (``LEASE``, 90 s), not the longest piece of work, and a killed
worker's goal is taken again within two minutes.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from types import TracebackType

from pymongo.database import Database
from pymongo.errors import PyMongoError

from footy.store.claims import Claim, renew

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=90)


class ClaimHeartbeat:
    """``with ClaimHeartbeat(db, claim, lease):`` renews ``claim`` every ``lease / 3`` from a
    daemon thread until the block ends. A failed renewal is logged and tried again at the next
    beat: the lease still has two beats to run."""

    def __init__(self, db: Database, claim: Claim, lease: timedelta = LEASE) -> None:
        self.db, self.claim, self.lease = db, claim, lease
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"heartbeat-{claim.id}")  # fmt: skip

    def __enter__(self) -> ClaimHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        interval = self.lease.total_seconds() / 3
        while not self._stop.wait(interval):
            try:
                renew(self.db, self.claim, self.lease)
                self.beats += 1
            except PyMongoError as exc:
                log.warning("claim %s: renewal failed (%s); next beat in %.0fs", self.claim.id,
                            exc, interval)  # fmt: skip
