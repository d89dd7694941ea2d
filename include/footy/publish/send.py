"""Send one message to one channel through Apprise, with bounded retries.

A channel is a list of Apprise URLs (``discord://id/token``, ``slack://...``, ``tgram://...``,
``json://host/path`` for a generic JSON webhook), which the Airflow layer reads from the
channel's Apprise connection. Apprise reports only whether a send worked, so a refused send
is retried here ``attempts`` times with exponential backoff; Apprise's Discord support waits
out Discord's rate-limit reset itself. Every request Apprise makes has its own timeout.

``FOOTY_APPRISE_PLUGIN_PATHS`` (colon-separated module files, or folders without an
``__init__.py``) loads extra Apprise plugins, the way Apprise's own ``plugin_paths`` does:
the local stand-in receivers use it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import apprise
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from footy.errors import ConfigError, TransientError

ENV_PLUGIN_PATHS = "FOOTY_APPRISE_PLUGIN_PATHS"


class ChannelRefusedError(TransientError):
    """The channel did not take the message (an HTTP error, a timeout, a rate limit)."""


def _asset() -> apprise.AppriseAsset:
    paths = [p for p in os.environ.get(ENV_PLUGIN_PATHS, "").split(os.pathsep) if p]
    return apprise.AppriseAsset(plugin_paths=paths) if paths else apprise.AppriseAsset()


def send(urls: Sequence[str], body: str, *, title: str = "", attachment: Path | None = None,
         attempts: int = 5, backoff_initial: float = 1.0,
         backoff_max: float = 30.0) -> None:  # fmt: skip
    """Deliver ``body`` (and ``attachment``) to every URL; raises ChannelRefusedError after
    ``attempts`` refused tries, ConfigError for a URL Apprise does not understand."""
    channel = apprise.Apprise(asset=_asset())
    for url in urls:
        if not channel.add(url):
            raise ConfigError(f"not an Apprise URL Apprise can use: {url.split('://')[0]}://...")
    attach = apprise.AppriseAttachment(str(attachment)) if attachment else None

    def once() -> None:
        if not channel.notify(body=body, title=title, attach=attach):
            raise ChannelRefusedError(f"channel refused the message ({len(urls)} URL(s))")

    Retrying(stop=stop_after_attempt(attempts),
             wait=wait_exponential(multiplier=backoff_initial, max=backoff_max),
             retry=retry_if_exception_type(ChannelRefusedError), reraise=True)(once)
