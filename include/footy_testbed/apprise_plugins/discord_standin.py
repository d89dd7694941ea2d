"""Apprise's own Discord plugin, pointed at the stand-in's Discord webhook API.

Apprise sends Discord webhooks to discord.com only. Loaded through Apprise's plugin paths
(``FOOTY_APPRISE_PLUGIN_PATHS``), this module registers ``discordstandin://{id}/{token}``:
the real plugin, unchanged, posting to ``$FOOTY_DISCORD_API_URL`` (the stand-in's
``/api/webhooks``) instead.
"""

from __future__ import annotations

import os
from typing import Any

from apprise.manager_plugins import NotificationManager
from apprise.plugins.discord import NotifyDiscord

SCHEMA = "discordstandin"
ENV_API_URL = "FOOTY_DISCORD_API_URL"


class NotifyStandinDiscord(NotifyDiscord):
    service_name = "Discord (footy stand-in)"
    protocol = SCHEMA
    secure_protocol = SCHEMA

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notify_url = os.environ[ENV_API_URL].rstrip("/")


NotificationManager().add(NotifyStandinDiscord, schemas=SCHEMA, force=True)
