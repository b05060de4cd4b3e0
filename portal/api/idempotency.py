"""Idempotency keys on every POST of the API (issue 14 §4).

A POST may carry `Idempotency-Key: <1-64 of A-Z a-z 0-9 _ - . :>`. The first request with a key saves the key, a
fingerprint of what was sent (method, path and body) and its answer in the same transaction as its change: a
replay gets that answer again and saves nothing; the same key with another method, path or body is a 422; two
racing with one key meet the unique constraint and the loser is a 409. A request that failed keeps no key, so it
may be corrected and sent again with the same key. Keys belong to one token."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

from flask import Response, request

from portal.api import queries
from portal.api.auth import current_token
from portal.db import db
from portal.errors import problem
from portal.models import ApiIdempotencyKey
from portal.unit_of_work import unit_of_work

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _json(status: int, body, headers: dict | None = None) -> Response:
    response = Response(json.dumps(body, default=str), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def write_once(run: Callable[[], tuple[int, object, dict]]) -> Response:
    """Run `run` (which calls the services and returns (status, JSON body, headers)) in one unit of work, once
    per idempotency key."""
    key = request.headers.get(HEADER)
    if key is not None and not _KEY.match(key):
        return problem(400, "The idempotency key is not valid", "Use 1 to 64 letters, digits, _ - . or :",
                       field=HEADER)
    fingerprint = _fingerprint()
    if key is not None:
        seen = queries.find_idempotency_key(current_token().id, key)
        if seen is not None:
            if seen.fingerprint != fingerprint:
                return problem(422, "This idempotency key was used for another request",
                               "A key is for one request: send a new key with other data", field=HEADER)
            headers = {"Idempotent-Replayed": "true"}
            if seen.location:
                headers["Location"] = seen.location
            return _json(seen.status, json.loads(seen.body), headers)
    answer: dict = {}
    with unit_of_work() as work:
        status, body, headers = run()
        answer.update(status=status, body=body, headers=headers)
        if key is not None and status < 400:
            db.session.add(ApiIdempotencyKey(token_id=current_token().id, key=key, fingerprint=fingerprint,
                                             status=status, body=json.dumps(body, default=str),
                                             location=headers.get("Location")))
            db.session.flush()
    if not work.ok:
        error = work.error
        errors = getattr(error, "api_errors", None)
        return problem(error.status, detail=str(error), field=error.field or (errors[0]["field"] if errors else None),
                       errors=errors)
    return _json(answer["status"], answer["body"], answer["headers"])
