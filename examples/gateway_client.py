"""A gateway's side of the Burnrate ledger service (`burnrate serve`), with `requests`.

Before each model call the gateway authorizes (holds) an estimate of its cost; after the call it
captures what the call really cost (the rest of the hold goes back to the pool), or releases the
hold if the call failed. Every POST carries an Idempotency-Key derived from the gateway's own
request id, so a retry after a timeout or a dropped connection is the same request: the ledger
answers it with the first response (`Idempotent-Replayed: true`) and never charges twice.

    BURNRATE_URL=http://127.0.0.1:8080 BURNRATE_KEY=brk_... python3 examples/gateway_client.py eng
"""
import os
import sys
import time
import uuid
from decimal import Decimal

import requests

BASE = os.environ.get("BURNRATE_URL", "http://127.0.0.1:8080")
KEY = os.environ.get("BURNRATE_KEY", "")


class LedgerRefused(Exception):
    """The ledger said no: `reason` is its refusal code (insufficient_funds, identity_suspended, ...)."""

    def __init__(self, response):
        problem = response.json()
        super().__init__(f"{response.status_code} {problem['reason']}: {problem['detail']}")
        self.status, self.reason = response.status_code, problem["reason"]


def post(session, path, body, idempotency_key, attempts=5):
    """POST until answered. Only an unanswered request (connection error, timeout) or a 409 (the
    first try is still in flight) is retried, and always with the same key and body."""
    headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": idempotency_key}
    for attempt in range(attempts):
        try:
            r = session.post(BASE + path, json=body, headers=headers, timeout=5)
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.05 * 2**attempt)
            continue
        if r.status_code == 409 and r.json().get("reason") == "request_in_flight":
            time.sleep(0.05 * 2**attempt)
            continue
        if r.status_code >= 400:
            raise LedgerRefused(r)
        return r.json()
    raise RuntimeError(f"the ledger did not answer {path} after {attempts} attempts")


def credits(amount):
    """A Decimal as the ledger reads it: a plain decimal string, at most six decimals."""
    return format(Decimal(amount).quantize(Decimal("0.000001")).normalize(), "f")


def metered_call(session, pool, estimate, call):
    """Runs `call()` (which returns (result, actual credits)) inside a hold of `estimate` credits."""
    request_id = str(uuid.uuid4())
    hold = post(session, "/v1/holds", {"pool": pool, "amount": credits(estimate), "expires_in": "5m"},
                f"{request_id}:hold")["hold"]
    try:
        result, cost = call()
    except Exception:
        post(session, f"/v1/holds/{hold}/release", {}, f"{request_id}:release")
        raise
    post(session, f"/v1/holds/{hold}/capture", {"amount": credits(cost)}, f"{request_id}:capture")
    return result


if __name__ == "__main__":
    pool = sys.argv[1] if len(sys.argv) > 1 else "eng"

    def fake_model_call():
        # Stands in for the provider call: 1,200 input and 350 output tokens at 0.8 and 3.2
        # credits per million tokens.
        cost = Decimal(1200) * Decimal("0.8") / 10**6 + Decimal(350) * Decimal("3.2") / 10**6
        return "model output", cost

    with requests.Session() as session:
        print(metered_call(session, pool, Decimal("0.01"), fake_model_call))
        r = session.get(f"{BASE}/v1/pools/{pool}/balance", headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
        print(r.json())
        try:
            metered_call(session, pool, Decimal("1000000"), fake_model_call)
        except LedgerRefused as refusal:
            print("refused:", refusal)
