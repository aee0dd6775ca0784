"""The read-only clients of a live audit: boto3 (standard credential chain, AWS_REGION,
AWS_ENDPOINT_URL) and hvac (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE), each call bounded in time,
throttling retried with backoff, and every failure turned into an `Unreadable` with a reason a
report can show. A server that is down or sealed is remembered, so the remaining reads fail at
once with the same reason instead of each waiting for its own timeout."""
from __future__ import annotations

import dataclasses
import os
import random
import threading
import time
from typing import Any, Callable

DEFAULT_WORKERS = 8


@dataclasses.dataclass(frozen=True)
class Bounds:
    """Per-call bounds: connect and read timeouts (seconds) and attempts (throttling and 5xx are
    retried with backoff), from KEYGUARD_LIVE_CONNECT_TIMEOUT, KEYGUARD_LIVE_READ_TIMEOUT and
    KEYGUARD_LIVE_MAX_ATTEMPTS."""
    connect: float
    read: float
    attempts: int

    @classmethod
    def from_env(cls) -> "Bounds":
        from ...errors import UsageError
        values = {}
        for name, field, default, kind in (("KEYGUARD_LIVE_CONNECT_TIMEOUT", "connect", "3", float),
                                           ("KEYGUARD_LIVE_READ_TIMEOUT", "read", "10", float),
                                           ("KEYGUARD_LIVE_MAX_ATTEMPTS", "attempts", "4", int)):
            raw = os.environ.get(name, default)
            try:
                values[field] = kind(raw)
            except ValueError:
                raise UsageError(f"{name}={raw!r} is not a number") from None
            if values[field] <= 0:
                raise UsageError(f"{name} must be positive, not {raw}")
        return cls(**values)

_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
           "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
           "AuthorizationError", "Forbidden", "403"}
_MISSING = {"NoSuchEntity", "NotFoundException", "NoSuchBucket", "NoSuchBucketPolicy",
            "NoSuchPublicAccessBlockConfiguration", "ServerSideEncryptionConfigurationNotFoundError",
            "NoSuchKey", "404", "NotFound"}


class Unreadable(Exception):
    """A live value that could not be read. `kind`: denied, missing, timeout, unreachable,
    sealed, unexposed or error."""

    def __init__(self, reason: str, kind: str):
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


@dataclasses.dataclass
class Outage:
    """A server found down: later calls to it fail fast with this reason."""
    reason: str | None = None
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)


def workers_from(value: int | None) -> int:
    """`--live-workers`, else KEYGUARD_LIVE_WORKERS, else 8; at least 1."""
    if value is None:
        raw = os.environ.get("KEYGUARD_LIVE_WORKERS")
        if raw is None:
            return DEFAULT_WORKERS
        try:
            value = int(raw)
        except ValueError:
            from ...errors import UsageError
            raise UsageError(f"KEYGUARD_LIVE_WORKERS={raw!r} is not a whole number") from None
    if value < 1:
        from ...errors import UsageError
        raise UsageError(f"--live-workers must be at least 1, not {value}")
    return value


class Aws:
    """boto3 clients for one account and region, created once (clients are thread-safe)."""

    def __init__(self, workers: int, bounds: Bounds):
        import boto3
        import botocore.config
        self.session = boto3.session.Session()
        self.region = self.session.region_name or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
        self.outage = Outage()
        self._config = botocore.config.Config(
            connect_timeout=bounds.connect, read_timeout=bounds.read, region_name=self.region,
            retries={"mode": "adaptive", "total_max_attempts": bounds.attempts},
            max_pool_connections=max(10, workers), s3={"addressing_style": "path"} if self.endpoint else {})
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._account: str | None = None
        self.answered = False      # the server answered some call (even with a denial)

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.session.client(service, config=self._config)
            return self._clients[service]

    def call(self, service: str, operation: str, **kwargs: Any) -> Any:
        """One read call; failures become `Unreadable` naming the API call."""
        import botocore.exceptions as bx
        what = f"{service}:{_pascal(operation)}"
        if self.outage.reason:
            raise Unreadable(self.outage.reason, "unreachable")
        try:
            answer = getattr(self.client(service), operation)(**kwargs)
            self.answered = True
            return answer
        except bx.ClientError as err:
            self.answered = True
            error = err.response.get("Error", {})
            code = str(error.get("Code") or "")
            status = str(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or "")
            if code in _DENIED or (status == "403" and code not in _MISSING):
                raise Unreadable(f"access denied ({what}: {code or 'HTTP 403'})", "denied") from None
            if code in _MISSING or status == "404":
                raise Unreadable(f"not found ({what}: {code or 'HTTP 404'})", "missing") from None
            raise Unreadable(f"{what} failed: {code or status} {_first_line(error.get('Message', ''))}".strip(),
                             "error") from None
        except (bx.ConnectTimeoutError, bx.ReadTimeoutError) as err:
            # retried already: a server that does not answer is not asked again (bounded time)
            where = self.endpoint or f"of {self.region}"
            reason = f"timeout (AWS endpoint {where} did not answer {what}: {type(err).__name__})"
            self.outage.reason = reason
            raise Unreadable(reason, "timeout") from None
        except (bx.EndpointConnectionError, bx.ConnectionClosedError) as err:
            reason = f"AWS endpoint {self.endpoint or 'of ' + self.region} unreachable ({type(err).__name__})"
            self.outage.reason = reason
            raise Unreadable(reason, "unreachable") from None
        except bx.NoCredentialsError:
            reason = "no AWS credentials (standard credential chain found none)"
            self.outage.reason = reason
            raise Unreadable(reason, "denied") from None
        except bx.BotoCoreError as err:
            raise Unreadable(f"{what} failed: {type(err).__name__}", "error") from None

    def pages(self, service: str, operation: str, key: str, **kwargs: Any) -> list:
        """Every item of a paginated List call."""
        import botocore.exceptions as bx
        if self.outage.reason:
            raise Unreadable(self.outage.reason, "unreachable")
        items: list = []
        try:
            for page in self.client(service).get_paginator(operation).paginate(**kwargs):
                items.extend(page.get(key) or [])
                self.answered = True
        except bx.BotoCoreError as err:  # connection trouble: classify through call()
            self.call(service, operation, **kwargs)
            raise Unreadable(f"{service}:{_pascal(operation)} failed: {type(err).__name__}", "error") from None
        except bx.ClientError:
            self.call(service, operation, **kwargs)  # raises the classified Unreadable
            raise
        return items

    def account(self) -> str | None:
        if self._account is None:
            try:
                self._account = self.call("sts", "get_caller_identity")["Account"]
            except Unreadable:
                return None
        return self._account


class Vault:
    """An hvac client with a timeout; 429 and 5xx-but-not-sealed answers retried with backoff."""

    def __init__(self, bounds: Bounds):
        import hvac
        self.attempts = bounds.attempts
        self.address = (os.environ.get("VAULT_ADDR") or "").rstrip("/") or None
        self.outage = Outage()
        self.client = None
        if self.address:
            self.client = hvac.Client(url=self.address, token=os.environ.get("VAULT_TOKEN"),
                                      namespace=os.environ.get("VAULT_NAMESPACE") or None,
                                      timeout=(bounds.connect, bounds.read))
        self._cache: dict[str, Any] = {}
        self._cache_lock = threading.Lock()
        self.answered = False      # the server answered some call (even with a denial)

    def read(self, path: str) -> dict:
        """GET `path`; the response's `data`. Never a write."""
        return self._call(path, lambda: self.client.adapter.get(f"/v1/{path}"))

    def list(self, path: str) -> list[str]:
        """LIST `path`; the keys (none when the path has no entries)."""
        try:
            data = self._call(path, lambda: self.client.adapter.list(f"/v1/{path}"))
        except Unreadable as err:
            if err.kind == "missing":
                return []
            raise
        return list((data or {}).get("keys") or [])

    def cached(self, path: str) -> dict:
        """A read shared by many resources (sys/mounts, sys/auth), made once."""
        with self._cache_lock:
            if path not in self._cache:
                try:
                    self._cache[path] = self.read(path)
                except Unreadable as err:
                    self._cache[path] = err
        value = self._cache[path]
        if isinstance(value, Unreadable):
            raise value
        return value

    def _call(self, path: str, fn: Callable[[], Any]) -> dict:
        import hvac.exceptions as hx
        import requests
        if self.client is None:
            raise Unreadable("VAULT_ADDR is not set", "unreachable")
        if self.outage.reason:
            raise Unreadable(self.outage.reason, "unreachable")
        for attempt in range(self.attempts):
            try:
                response = fn()
            except (hx.RateLimitExceeded, hx.InternalServerError, hx.BadGateway) as err:
                if attempt + 1 < self.attempts:
                    time.sleep(min(2.0, 0.1 * 2 ** attempt) * (0.5 + random.random()))
                    continue
                raise Unreadable(f"Vault {path}: {type(err).__name__} after {self.attempts} attempts",
                               "error") from None
            except hx.VaultDown:
                reason = f"Vault at {self.address} is sealed"
                self.outage.reason = reason
                raise Unreadable(reason, "sealed") from None
            except (hx.Forbidden, hx.Unauthorized):
                self.answered = True
                raise Unreadable(f"access denied (Vault {path})", "denied") from None
            except hx.InvalidPath:
                self.answered = True
                raise Unreadable(f"not found (Vault {path})", "missing") from None
            except hx.VaultError as err:
                raise Unreadable(f"Vault {path}: {type(err).__name__}: {_first_line(str(err))}", "error") from None
            except requests.exceptions.Timeout:
                reason = f"timeout (Vault at {self.address} did not answer {path})"
                self.outage.reason = reason     # not asked again: bounded time
                raise Unreadable(reason, "timeout") from None
            except requests.exceptions.ConnectionError as err:
                reason = f"Vault at {self.address} unreachable ({type(err).__name__})"
                self.outage.reason = reason
                raise Unreadable(reason, "unreachable") from None
            self.answered = True
            if isinstance(response, dict):
                return response.get("data") if "data" in response else response
            if response is None or getattr(response, "status_code", 200) == 204:
                raise Unreadable(f"not found (Vault {path})", "missing")
            return response.json().get("data") or {}
        raise AssertionError("unreachable")


def _pascal(operation: str) -> str:
    return "".join(part.title() for part in operation.split("_"))


def _first_line(text: str) -> str:
    text = str(text).strip()
    return text.splitlines()[0][:200] if text else ""
