"""The one way to talk to Meta's Graph API: client, typed errors, circuit breaker (and, for dev and
tests, a simulator of the same API in `whatsapp.simulator`)."""

from whatsapp.graph.client import GraphClient
from whatsapp.graph.errors import (
    CircuitOpenError,
    ErrorClass,
    GraphAuthError,
    GraphError,
    GraphNetworkError,
    GraphPermanentError,
    GraphRetryableError,
    GraphThrottledError,
    classify,
)
from whatsapp.graph.media import MediaHostRefused, MediaTooLarge

__all__ = [
    "CircuitOpenError",
    "ErrorClass",
    "GraphAuthError",
    "GraphClient",
    "GraphError",
    "GraphNetworkError",
    "GraphPermanentError",
    "GraphRetryableError",
    "GraphThrottledError",
    "MediaHostRefused",
    "MediaTooLarge",
    "classify",
]
