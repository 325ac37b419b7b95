"""Bearer-token authorization by scope: one FastAPI dependency each route declares, and the startup guard."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Callable, Sequence

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from driftwatch.config import Config, Scope, TokenSpec
from driftwatch.errors import DriftwatchError

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="driftwatch"'}
# Declares the scheme in the OpenAPI document (components.securitySchemes.bearer) and, with each route's scope, its
# security requirement; it reads the header without refusing anything: Authorizer.check decides.
BEARER = HTTPBearer(
    scheme_name="bearer",
    auto_error=False,
    description=(
        "A token of server.auth.tokens, sent as `Authorization: Bearer <token>`. Each operation lists the scope it"
        " needs (`ingest`, `read` or `admin`; `admin` grants every scope). Enforced only while at least one token is"
        " configured; without one every route is open."
    ),
)


class Authorizer:
    """The configured tokens, kept as SHA-256 digests so that every comparison is constant-time and equal-length."""

    def __init__(self, tokens: Sequence[TokenSpec]):
        self._tokens = [(_digest(t.token), frozenset(t.scopes)) for t in tokens]

    @property
    def enabled(self) -> bool:
        """Whether any token is configured; without one, every request is let through."""
        return bool(self._tokens)

    def scopes_of(self, authorization: str | None) -> frozenset[str]:
        """The scopes the Authorization header grants; a 401 (with the Bearer challenge) when it grants none."""
        if not authorization:
            raise _unauthorized("missing Authorization header: send 'Authorization: Bearer <token>'")
        # RFC 7235: the scheme is case-insensitive; RFC 6750: one space, then the token.
        scheme, _, credentials = authorization.strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() != "bearer" or not credentials:
            raise _unauthorized("malformed Authorization header: expected 'Bearer <token>'")
        given = _digest(credentials)
        granted: frozenset[str] = frozenset()
        # Every token is compared, matched or not: the time taken says nothing about which one matched.
        for digest, scopes in self._tokens:
            if hmac.compare_digest(given, digest):
                granted = scopes
        if not granted:
            raise _unauthorized("unknown bearer token")
        return granted

    def check(self, authorization: str | None, scope: Scope) -> None:
        """Raise 401 or 403 unless the header grants `scope` (admin grants every scope)."""
        if not self._tokens:
            return
        granted = self.scopes_of(authorization)
        if scope not in granted and "admin" not in granted:
            raise HTTPException(403, f"the token lacks the '{scope}' scope this operation needs")


def requires(authorizer: Authorizer, scope: Scope | None) -> list[Callable[..., None]]:
    """The `dependencies=` of a route needing `scope` (None: open to anyone), declared in the OpenAPI document."""
    if scope is None:
        return []

    # A default, not Annotated: with postponed annotations FastAPI could not resolve the local `scope`.
    def dependency(
        request: Request, _credentials: HTTPAuthorizationCredentials | None = Security(BEARER, scopes=[scope])
    ) -> None:
        authorizer.check(request.headers.get("authorization"), scope)

    return [Security(dependency)]


class UnauthenticatedListenerError(DriftwatchError):
    """The daemon would listen beyond loopback with no token configured."""


def refuse_open_listener(config: Config, host: str) -> None:
    """Refuse to listen on a non-loopback address without a token, unless server.allow_unauthenticated says so."""
    if config.tokens or config.server.allow_unauthenticated or is_loopback(host):
        return
    raise UnauthenticatedListenerError(
        f"refusing to listen on {host}, which is not a loopback address, with no token configured: anyone who"
        " can reach the port could read the monitors and send rows. Set server.auth.tokens (docs/configuration.md),"
        " or set server.allow_unauthenticated: true if the network in front of the daemon restricts who reaches it."
    )


def is_loopback(host: str) -> bool:
    """Whether `host` names only this machine (a loopback IP or 'localhost'); unknown names count as remote."""
    if host.strip().lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers=_CHALLENGE)
