"""GraphClient: every HTTP call to Meta. Pooled keep-alive session, timeouts, capped retries with
exponential backoff and jitter for retryable failures only, a circuit breaker per WABA / number.

The access token is given as a SealedValue (or a callable returning the plaintext) and revealed
only for the moment a request is built; it never appears in logs, exceptions or repr().
"""

from __future__ import annotations

import json as json_module
import logging
import os
import random
import time
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

import certifi
import requests
import urllib3
from django.conf import settings

from aerostic.core import metrics
from whatsapp.graph.breaker import CircuitBreaker
from whatsapp.graph.errors import (
    CircuitOpenError,
    GraphError,
    GraphNetworkError,
    GraphPermanentError,
    from_response,
    network_error,
)
from whatsapp.graph.media import MEDIA_MAX_BYTES, read_media

logger = logging.getLogger(__name__)
T = TypeVar("T")

_session: requests.Session | None = None


def shared_session() -> requests.Session:
    """One keep-alive connection pool per process (workers send thousands of requests)."""
    global _session
    if _session is None:
        session = requests.Session()
        if not urllib.request.getproxies():
            # No proxy configured: skip requests' per-call environment lookups (~/.netrc, a walk of
            # os.environ for proxies), a tenth of a campaign worker's CPU. With a proxy they stay,
            # for NO_PROXY's sake. The CA bundle variables are read once here instead.
            session.trust_env = False
            session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        adapter = requests.adapters.HTTPAdapter(pool_connections=20, pool_maxsize=50, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        _session = session
    return _session


_json_pools: dict[int, Any] = {}
_UNSET = object()


def _json_pool() -> Any:
    """One urllib3 pool per process for JSON calls, or None when a proxy is configured (requests
    then handles HTTP(S)_PROXY and NO_PROXY)."""
    pool = _json_pools.get(os.getpid(), _UNSET)
    if pool is _UNSET:
        if urllib.request.getproxies():  # read once per process: it walks os.environ
            _json_pools[os.getpid()] = None
            return None
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
        pool = _json_pools[os.getpid()] = urllib3.PoolManager(
            num_pools=20, maxsize=50, cert_reqs="CERT_REQUIRED", ca_certs=ca_bundle
        )
    return pool


TokenSource = Any  # SealedValue, str, or a callable returning str


def _reveal(token: TokenSource) -> str:
    if callable(token):
        return token()
    if hasattr(token, "reveal"):
        return token.reveal()
    return str(token)


class GraphClient:
    def __init__(
        self,
        *,
        token: TokenSource,
        breaker_key: str | None = None,
        base_url: str | None = None,
        api_version: str | None = None,
        max_attempts: int | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        backoff_base: float | None = None,
        backoff_cap: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self._token = token
        self.base_url = (base_url or settings.META_GRAPH_BASE_URL).rstrip("/")
        self.api_version = api_version or settings.META_GRAPH_API_VERSION
        self.max_attempts = max(1, max_attempts or settings.GRAPH_MAX_ATTEMPTS)
        self.timeout = (
            connect_timeout or settings.GRAPH_CONNECT_TIMEOUT_SECONDS,
            read_timeout or settings.GRAPH_READ_TIMEOUT_SECONDS,
        )
        self.backoff_base = settings.GRAPH_BACKOFF_BASE_SECONDS if backoff_base is None else backoff_base
        self.backoff_cap = settings.GRAPH_BACKOFF_CAP_SECONDS if backoff_cap is None else backoff_cap
        self.breaker = CircuitBreaker(breaker_key) if breaker_key else None
        self._sleep = sleep
        self._session = session or shared_session()
        self.attempts_made = 0  # of the last call, for callers and tests

    def __repr__(self) -> str:
        return f"<GraphClient {self.base_url}/{self.api_version} breaker={getattr(self.breaker, 'key', None)}>"

    # ---- transport -------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        # Full jitter (AWS architecture blog): spreads retries of many workers apart.
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1))))  # noqa: S311

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        authenticated: bool = True,
    ) -> dict[str, Any]:
        url = f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"
        return self.retrying(
            path,
            lambda: self._once(
                method, url, params=params, json=json, data=data, files=files, authenticated=authenticated
            ),
        )

    def retrying(self, path: str, call: Callable[[], T]) -> T:
        """`call()` under the breaker, again after a retryable failure (with backoff) up to
        max_attempts; `path` names the call in logs."""
        self.attempts_made = 0
        last_error: GraphError | None = None
        for attempt in range(1, self.max_attempts + 1):
            if self.breaker is not None and not self.breaker.allow():
                raise CircuitOpenError(
                    "Calls to Meta for this number are paused after repeated failures; they resume shortly."
                )
            self.attempts_made = attempt
            try:
                result = call()
            except GraphError as error:
                last_error = error
                if error.http_status in (401, 403):
                    metrics.count("aerostic_graph_auth_errors", {(str(error.http_status),): 1})
                if self.breaker is not None and error.is_retryable:
                    self.breaker.record_failure()
                if not error.is_retryable or attempt == self.max_attempts:
                    raise
                logger.warning(
                    "graph call failed, retrying",
                    extra={"path": path.split("?")[0], "attempt": attempt, "graph_error": error.as_dict()},
                )
                self._sleep(self._backoff(attempt))
                continue
            if self.breaker is not None:
                self.breaker.record_success()
            return result
        raise last_error or GraphPermanentError("unreachable")  # pragma: no cover

    def _once(self, method, url, *, params, json, data, files, authenticated) -> dict[str, Any]:
        if json is not None and not (params or data or files):
            pool = _json_pool()
            if pool is not None:
                return self._once_json(pool, method, url, json, authenticated)
        headers = {}
        if authenticated:
            headers["Authorization"] = f"Bearer {_reveal(self._token)}"
        try:
            response = self._session.request(
                method, url, params=params, json=json, data=data, files=files, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as error:
            raise network_error(error) from None
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = None
        if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
            raise from_response(response.status_code, body)
        if body is None:
            raise from_response(502, None)
        return body

    def _once_json(self, pool: Any, method: str, url: str, body: Any, authenticated: bool) -> dict[str, Any]:
        """A JSON call straight on urllib3, without requests' per-call machinery (a campaign worker
        sends hundreds a second): the same answers, errors and reading of network failures as the
        requests path (a request that may have reached Meta is `maybe_delivered`)."""
        from urllib3.exceptions import (
            ConnectTimeoutError,
            HTTPError,
            NewConnectionError,
            ReadTimeoutError,
        )

        headers = {"Content-Type": "application/json"}
        if authenticated:
            headers["Authorization"] = f"Bearer {_reveal(self._token)}"
        try:
            response = pool.request(
                method,
                url,
                body=json_module.dumps(body).encode(),
                headers=headers,
                timeout=urllib3.Timeout(connect=self.timeout[0], read=self.timeout[1]),
                retries=False,
            )
        except NewConnectionError:  # a ConnectTimeoutError too: check it first
            raise GraphNetworkError("Could not reach Meta (ConnectionError).", maybe_delivered=False) from None
        except ConnectTimeoutError:
            raise GraphNetworkError("Could not reach Meta in time.", maybe_delivered=False) from None
        except ReadTimeoutError:
            raise GraphNetworkError("Meta did not answer in time.") from None
        except HTTPError:  # the connection dropped after the request went out: it may have arrived
            raise GraphNetworkError("Could not reach Meta (ConnectionError).") from None
        try:
            answer = json_module.loads(response.data) if response.data else {}
        except ValueError:
            answer = None
        if response.status >= 400 or (isinstance(answer, dict) and "error" in answer):
            raise from_response(response.status, answer)
        if answer is None:
            raise from_response(502, None)
        return answer

    # ---- messages --------------------------------------------------------------------------

    def send_message(self, phone_number_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Text, template, media, interactive, reaction...: `payload` is the message object without
        `messaging_product`, e.g. {"to": "919812345621", "type": "text", "text": {"body": "Hi"}}."""
        return self.request(
            "POST",
            f"{phone_number_id}/messages",
            json={"messaging_product": "whatsapp", "recipient_type": "individual", **payload},
        )

    def mark_as_read(self, phone_number_id: str, message_id: str) -> dict[str, Any]:
        return self.request(
            "POST",
            f"{phone_number_id}/messages",
            json={"messaging_product": "whatsapp", "status": "read", "message_id": message_id},
        )

    def upload_media(self, phone_number_id: str, *, filename: str, content: bytes, mime_type: str) -> str:
        body = self.request(
            "POST",
            f"{phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, content, mime_type)},
        )
        return body["id"]

    def get_media(self, media_id: str) -> dict[str, Any]:
        """{"url", "mime_type", "sha256", "file_size", "id"}: the URL is short-lived."""
        return self.request("GET", media_id)

    def download_media(self, url: str, *, max_bytes: int = MEDIA_MAX_BYTES) -> bytes:
        """The bytes behind a URL get_media gave, fetched with the token from Meta's media hosts
        (or the sandbox) only; MediaTooLarge past `max_bytes` (whatever the server claims)."""
        return self.retrying("media download", lambda: read_media(self._media_get, url, max_bytes=max_bytes))

    def _media_get(self, url: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {_reveal(self._token)}"}
        try:
            return self._session.get(url, headers=headers, timeout=self.timeout, stream=True, allow_redirects=False)
        except requests.RequestException as error:
            raise network_error(error) from None

    # ---- templates -------------------------------------------------------------------------

    def list_templates(
        self, waba_id: str, *, limit: int = 100, after: str | None = None, fields: str | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if after:
            params["after"] = after
        if fields:
            params["fields"] = fields
        return self.request("GET", f"{waba_id}/message_templates", params=params)

    def iter_templates(self, waba_id: str, *, page_size: int = 100) -> Any:
        after = None
        while True:
            page = self.list_templates(waba_id, limit=page_size, after=after)
            yield from page.get("data", [])
            after = page.get("paging", {}).get("cursors", {}).get("after")
            if not after or not page.get("paging", {}).get("next"):
                return

    def create_template(self, waba_id: str, template: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"{waba_id}/message_templates", json=template)

    def edit_template(self, template_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", template_id, json=changes)

    def delete_template(self, waba_id: str, *, name: str, template_id: str | None = None) -> dict[str, Any]:
        params = {"name": name}
        if template_id:
            params["hsm_id"] = template_id
        return self.request("DELETE", f"{waba_id}/message_templates", params=params)

    # ---- phone numbers, registration, webhooks subscription --------------------------------

    PHONE_FIELDS = (
        "id,display_phone_number,verified_name,quality_rating,messaging_limit_tier,throughput,"
        "name_status,code_verification_status,platform_type,status"
    )

    def list_phone_numbers(self, waba_id: str) -> list[dict[str, Any]]:
        return self.request("GET", f"{waba_id}/phone_numbers", params={"fields": self.PHONE_FIELDS}).get("data", [])

    def get_phone_number(self, phone_number_id: str) -> dict[str, Any]:
        return self.request("GET", phone_number_id, params={"fields": self.PHONE_FIELDS})

    def get_waba(self, waba_id: str) -> dict[str, Any]:
        return self.request("GET", waba_id, params={"fields": "id,name,currency,timezone_id,owner_business_info"})

    def register_phone(self, phone_number_id: str, *, pin: str) -> dict[str, Any]:
        return self.request("POST", f"{phone_number_id}/register", json={"messaging_product": "whatsapp", "pin": pin})

    def deregister_phone(self, phone_number_id: str) -> dict[str, Any]:
        return self.request("POST", f"{phone_number_id}/deregister")

    def subscribe_app(
        self, waba_id: str, *, override_callback_uri: str | None = None, verify_token: str | None = None
    ) -> dict[str, Any]:
        body = None
        if override_callback_uri:
            body = {"override_callback_uri": override_callback_uri, "verify_token": verify_token or ""}
        return self.request("POST", f"{waba_id}/subscribed_apps", json=body)

    def list_subscribed_apps(self, waba_id: str) -> list[dict[str, Any]]:
        return self.request("GET", f"{waba_id}/subscribed_apps").get("data", [])

    def unsubscribe_app(self, waba_id: str) -> dict[str, Any]:
        return self.request("DELETE", f"{waba_id}/subscribed_apps")

    def get_business_profile(self, phone_number_id: str) -> dict[str, Any]:
        fields = "about,address,description,email,profile_picture_url,websites,vertical"
        data = self.request("GET", f"{phone_number_id}/whatsapp_business_profile", params={"fields": fields})
        return (data.get("data") or [{}])[0]

    def update_business_profile(self, phone_number_id: str, profile: dict[str, Any]) -> dict[str, Any]:
        return self.request(
            "POST", f"{phone_number_id}/whatsapp_business_profile", json={"messaging_product": "whatsapp", **profile}
        )

    # ---- tokens ----------------------------------------------------------------------------

    def debug_token(self, input_token: str) -> dict[str, Any]:
        """Inspect a user/system-user token with the app token (this client's token)."""
        return self.request("GET", "debug_token", params={"input_token": input_token}).get("data", {})

    def exchange_code(self, code: str) -> str:
        """Embedded Signup: the ~30-second code → a business integration token."""
        body = self.request(
            "GET",
            "oauth/access_token",
            authenticated=False,
            params={"client_id": settings.META_APP_ID, "client_secret": settings.META_APP_SECRET, "code": code},
        )
        return body["access_token"]


def app_token() -> str:
    """The app access token (`app_id|app_secret`) used for debug_token."""
    return f"{settings.META_APP_ID}|{settings.META_APP_SECRET}"
