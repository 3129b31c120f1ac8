"""Queue names (worker priority order) and the cached RQ queues and Redis connection every app uses.

The periodic jobs the scheduler enqueues are the project frame's table: aerostic/periodic.py."""

from __future__ import annotations

import os
from typing import Any

import django_rq
from django.conf import settings

# Mirrors settings.QUEUE_NAMES; the Procfile's workers listen in this order.
WEBHOOKS = "webhooks"
SENDS = "sends"
CAMPAIGNS = "campaigns"
AI = "ai"
DEFAULT = "default"
LOW = "low"


_QUEUES: dict[tuple[str, str, int], Any] = {}


def get_queue(name: str) -> Any:
    """django_rq's queue, built once per process and URL: building one opens a new connection pool
    (and asks the server who it is), which cost more than the enqueue itself on the webhook path."""
    key = (name, str(settings.RQ_QUEUES[name].get("URL")), os.getpid())
    queue = _QUEUES.get(key)
    if queue is None:
        queue = _QUEUES[key] = django_rq.get_queue(name)
    return queue


def redis_connection() -> Any:
    """The Redis connection of the `default` queue (rate limits, counters, breakers), cached likewise."""
    return get_queue(DEFAULT).connection
