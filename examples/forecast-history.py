#!/usr/bin/env python3
"""Writes a ledger history for `burnrate ledger import` (the journal interchange format of
docs/ledger.md): pool `eng` funded with 4,000 credits on 2026-03-02, two identities drawing on it
for two weeks (a coding agent at ~6 debits an hour of 0.2-2 credits, a review bot at ~1 an hour of
3 credits). Used by the README's forecast example:

    python3 examples/forecast-history.py > /tmp/history.jsonl
    burnrate ledger import --db /tmp/eng.db < /tmp/history.jsonl
    burnrate forecast --db /tmp/eng.db --pool eng
"""
import json, random
from datetime import datetime, timedelta, timezone

rng = random.Random(7)
start = datetime(2026, 3, 2, tzinfo=timezone.utc)
def at(t):
    return (start + timedelta(seconds=t)).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t * 1000) % 1000:03d}Z"
lines = [
    {"at": at(0), "op": "create_pool", "pool": "eng"},
    {"at": at(0), "op": "fund", "key": "fund-1", "pool": "eng", "amount": "4000"},
    {"at": at(0), "op": "create_identity", "identity": "coding-agent", "pools": ["eng"]},
    {"at": at(0), "op": "create_identity", "identity": "review-bot", "pools": ["eng"]},
]
events = []
for who, rate, amount in [("coding-agent", 6, lambda: round(rng.uniform(0.2, 2.0), 2)), ("review-bot", 1, lambda: 3)]:
    t = 0.0
    while True:
        t += rng.expovariate(rate / 3600)
        if t >= 14 * 86400:
            break
        events.append((t, who, amount()))
events.sort()
for k, (t, who, amount) in enumerate(events):
    lines.append({"at": at(t), "op": "debit", "key": f"req-{k}", "identity": who, "pool": "eng", "amount": str(amount)})
for line in lines:
    print(json.dumps(line, separators=(",", ":")))
