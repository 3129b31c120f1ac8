"""Graph API errors as typed exceptions, each classified: retryable, throttled, permanent or auth.

The classes decide what callers do: retry with backoff (retryable, throttled; throttled also slows
the sender), give up with Meta's reason (permanent), or mark the connection for re-authorisation
(auth). Exceptions never carry the access token.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorClass(StrEnum):
    RETRYABLE = "retryable"
    THROTTLED = "throttled"
    PERMANENT = "permanent"
    AUTH = "auth"


# Meta error codes (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
THROTTLED_CODES = frozenset({4, 80007, 130429, 131056, 613})
RETRYABLE_CODES = frozenset({1, 2, 131000, 131016, 131057})
AUTH_CODES = frozenset({190, 102})
PERMANENT_CODES = frozenset(
    {
        3,
        10,
        100,
        200,
        368,
        131008,
        131009,
        131021,
        131026,
        131031,
        131042,
        131045,
        131047,
        131048,
        131049,
        131050,
        131051,
        131052,
        131053,
        133000,
        133004,
        133005,
        133006,
        133008,
        133009,
        133010,
        133015,
        133016,
    }
    | set(range(132000, 132070))
)


def classify(http_status: int | None, code: int | None) -> ErrorClass:
    if code in AUTH_CODES or (code is None and http_status == 401):
        return ErrorClass.AUTH
    if code in THROTTLED_CODES or http_status == 429:
        return ErrorClass.THROTTLED
    if code in RETRYABLE_CODES:
        return ErrorClass.RETRYABLE
    if code in PERMANENT_CODES:
        return ErrorClass.PERMANENT
    if http_status is None or http_status >= 500:
        return ErrorClass.RETRYABLE
    return ErrorClass.PERMANENT


class GraphError(Exception):
    error_class: ErrorClass = ErrorClass.PERMANENT

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        details: str = "",
        fbtrace_id: str = "",
        http_status: int | None = None,
        error_type: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.error_type = error_type

    @property
    def is_retryable(self) -> bool:
        return self.error_class in (ErrorClass.RETRYABLE, ErrorClass.THROTTLED)

    def describe(self) -> str:
        """A sentence for people: Meta's message and details, with the code for support."""
        text = self.message
        if self.details and self.details not in text:
            text = f"{text} ({self.details})"
        if self.code is not None:
            text = f"{text} [Meta error {self.code}{f'/{self.subcode}' if self.subcode else ''}]"
        return text

    def __str__(self) -> str:
        return self.describe()

    def as_dict(self) -> dict[str, Any]:
        return {
            "class": str(self.error_class),
            "code": self.code,
            "subcode": self.subcode,
            "message": self.message,
            "details": self.details,
            "fbtrace_id": self.fbtrace_id,
            "http_status": self.http_status,
        }


class GraphRetryableError(GraphError):
    error_class = ErrorClass.RETRYABLE


class GraphThrottledError(GraphError):
    error_class = ErrorClass.THROTTLED


class GraphPermanentError(GraphError):
    error_class = ErrorClass.PERMANENT


class GraphAuthError(GraphError):
    error_class = ErrorClass.AUTH


class GraphNetworkError(GraphRetryableError):
    """No answer from Meta. `maybe_delivered`: the request may have reached Meta (a read timeout,
    a dropped connection), so a message send must not be repeated blindly; False when no
    connection was ever made."""

    def __init__(self, message: str, *, maybe_delivered: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.maybe_delivered = maybe_delivered


class CircuitOpenError(GraphRetryableError):
    """Calls for this WABA / phone number are paused after repeated failures; retry later."""


_BY_CLASS = {
    ErrorClass.RETRYABLE: GraphRetryableError,
    ErrorClass.THROTTLED: GraphThrottledError,
    ErrorClass.PERMANENT: GraphPermanentError,
    ErrorClass.AUTH: GraphAuthError,
}


def from_response(http_status: int, body: Any) -> GraphError:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return _BY_CLASS[classify(http_status, None)](
            f"Meta answered HTTP {http_status} without an error object.", http_status=http_status
        )
    code = error.get("code") if isinstance(error.get("code"), int) else None
    raw_data = error.get("error_data")
    error_data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
    return _BY_CLASS[classify(http_status, code)](
        str(error.get("error_user_msg") or error.get("message") or "Unknown Graph API error"),
        code=code,
        subcode=error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None,
        details=str(error_data.get("details") or ""),
        fbtrace_id=str(error.get("fbtrace_id") or ""),
        http_status=http_status,
        error_type=str(error.get("type") or ""),
    )


def network_error(error: Exception) -> GraphNetworkError:
    """A failure of `requests` (no answer from Meta) as our error, saying whether the request may
    have reached Meta."""
    import requests

    if isinstance(error, requests.ConnectTimeout):
        return GraphNetworkError("Could not reach Meta in time.", maybe_delivered=False)
    if isinstance(error, requests.Timeout):
        return GraphNetworkError("Meta did not answer in time.")
    if isinstance(error, requests.ConnectionError):
        return GraphNetworkError(
            f"Could not reach Meta ({type(error).__name__}).", maybe_delivered=not _never_connected(error)
        )
    return GraphNetworkError(f"Could not reach Meta ({type(error).__name__}).")


def _never_connected(error: Exception) -> bool:
    """True when the request never left this machine (no connection was made): safe to send again.
    A connection dropped after the request went out may have delivered it."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    reason = error.args[0] if error.args else None
    return isinstance(reason, MaxRetryError) and isinstance(reason.reason, NewConnectionError)
