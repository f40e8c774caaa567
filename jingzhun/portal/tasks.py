"""Periodic tasks of the embedded queue (huey discovers this module in every installed app)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from jingzhun.portal.housekeeping import run_housekeeping

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(hour="3", minute="17"))
def daily_housekeeping() -> None:
    logger.info("housekeeping: %s", run_housekeeping())
