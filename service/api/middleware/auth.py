"""API-key authentication for /notes, checked by the edge pipeline (edge.py).

It runs before routing, so a request without a valid key gets its 401 before the method
(405), the content type (415), the body size (413) or the body itself is looked at — the
body is never read. It records the caller's client name in the request's scope state, where
`authenticated_client` finds it; with no keys configured every caller is the anonymous client.
"""

from __future__ import annotations

from starlette.types import Scope

from service.api.paths import NOTES_PREFIX, route_path
from service.api_keys import KeyRing
from service.errors import Unauthorized
from service.models import ANONYMOUS_CLIENT

REALM = 'Bearer realm="notes"'
_CLIENT = "client"


def authenticated_client(scope: Scope) -> str | None:
    client: str | None = scope.get("state", {}).get(_CLIENT)
    return client


def identify_client(scope: Scope, keyring: KeyRing) -> Unauthorized | None:
    """Record the caller's client name in the scope's state (with no keys configured: the
    anonymous client); or the 401 a request to /notes without a valid key gets."""
    if keyring.enabled:
        token = _bearer_token(scope)
        client = keyring.client_for(token) if token else None
        if client is None and _is_protected(scope):
            return _refusal(wrong_key=token is not None)
    else:
        client = ANONYMOUS_CLIENT
    # A fresh dict: the server may share the lifespan's state dict between requests.
    scope["state"] = {**scope.get("state", {}), _CLIENT: client}
    return None


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


def _is_protected(scope: Scope) -> bool:
    path = route_path(scope)
    return path == NOTES_PREFIX or path.startswith(NOTES_PREFIX + "/")


def _refusal(*, wrong_key: bool) -> Unauthorized:
    if wrong_key:
        challenge = f'{REALM}, error="invalid_token"'
        detail = "The API key is not valid; send `Authorization: Bearer <key>` with a valid key."
    else:
        challenge = REALM
        detail = Unauthorized.detail
    return Unauthorized(detail, headers={"WWW-Authenticate": challenge})
