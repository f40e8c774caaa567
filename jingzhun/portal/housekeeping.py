"""Housekeeping: delete what is kept only for a while. Run daily by the task queue (portal.tasks) and by
``manage.py housekeeping`` (for a cron job when the queue runs elsewhere).

The steps come from the apps that own the data (``housekeeping_steps`` on their AppConfig). Each deletes
by age alone, so running it twice, or late, does no harm.
"""

from __future__ import annotations

from jingzhun.core.contributions import housekeeping_steps


def run_housekeeping() -> dict[str, int]:
    """Every step; returns how many items each deleted (-1: not counted)."""
    return {step.label: step.run() for step in housekeeping_steps()}
