"""Send one message to one channel through Apprise, with bounded retries.

A channel is a list of Apprise URLs (``discord://id/token``, ``slack://...``, ``tgram://...``,
``json://host/path`` for a generic JSON webhook), which the Airflow layer reads from the
channel's Apprise connection. A refused send is retried ``attempts`` times, ``wait`` seconds
apart, by Apprise itself: its retries remember which parts of a message each try delivered,
so a message posted as text and then a file (Discord) never repeats the text when only the
file failed. An outer retry loop around Apprise could not know that. Apprise's Discord
support also waits out Discord's rate-limit reset on a 429. Every request Apprise makes has
its own timeout.

``FOOTY_APPRISE_PLUGIN_PATHS`` (colon-separated module files, or folders without an
``__init__.py``) loads extra Apprise plugins, the way Apprise's own ``plugin_paths`` does:
the local stand-in receivers use it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import apprise

from footy.errors import ConfigError, TransientError

ENV_PLUGIN_PATHS = "FOOTY_APPRISE_PLUGIN_PATHS"


class ChannelRefusedError(TransientError):
    """The channel did not take the message (an HTTP error, a timeout, a rate limit)."""


def _asset(attempts: int, wait: float) -> apprise.AppriseAsset:
    paths = [p for p in os.environ.get(ENV_PLUGIN_PATHS, "").split(os.pathsep) if p]
    retries = {"default_service_retry": max(0, attempts - 1), "default_service_wait": wait}
    return apprise.AppriseAsset(plugin_paths=paths, **retries) if paths else \
        apprise.AppriseAsset(**retries)


def send(urls: Sequence[str], body: str, *, title: str = "", attachment: Path | None = None,
         attempts: int = 5, wait: float = 2.0) -> None:  # fmt: skip
    """Deliver ``body`` (and ``attachment``) to every URL; raises ChannelRefusedError after
    ``attempts`` refused tries (at most 11, ``wait`` at most 20 s: Apprise's bounds),
    ConfigError for a URL Apprise does not understand."""
    channel = apprise.Apprise(asset=_asset(attempts, wait))
    for url in urls:
        if not channel.add(url):
            raise ConfigError(f"not an Apprise URL Apprise can use: {url.split('://')[0]}://...")
    attach = apprise.AppriseAttachment(str(attachment)) if attachment else None
    if not channel.notify(body=body, title=title, attach=attach):
        raise ChannelRefusedError(
            f"channel refused the message after {attempts} tries ({len(urls)} URL(s))")
