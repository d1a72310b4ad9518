#!/usr/bin/env python3
"""Writes a week of LiteLLM SpendLogs for three teams, with real demand, to standard output.

A stand-in for the export a team already has (the `LiteLLM_SpendLogs` table as
`COPY ... TO STDOUT WITH CSV HEADER` writes it; columns in BerriAI/litellm,
`litellm/proxy/schema.prisma`, model `LiteLLM_SpendLogs`), for the README's real-bills example.
Its demand is real, not invented: each team is one client of ServeGen's m-mid pool (Alibaba
Bailian, week 1; ../shared/data/traces/servegen_client_windows_week1.csv.gz, alibaba/ServeGen @
f891d11, Apache-2.0, Xiang et al., arXiv:2505.09999): ranks 4, 5 and 6 by volume, the largest
with token-length rows (ranks 2 and 3 have none):

- arrivals follow the client's own request rate in every 10-minute window of the week (windows it
  omitted are silent), with gamma gaps of the window's own inter-arrival CV, the volume scaled by
  SCALE (the real one is millions of requests a day);
- prompt and completion lengths are lognormal with the client's week-1 median and 90th percentile
  (../shared/data/traces/servegen_client_tokens_week1.csv.gz);
- what the source does not record is stated here as an assumption: each team's model and the share
  of each prompt its provider's prompt cache served (the cache split LiteLLM logs under
  metadata.additional_usage_values), and `spend` is the list price of
  ../shared/data/prices/model_prices.csv (2026-05) to the micro-dollar.

Python standard library only; a fixed seed, so the file is the same on every run.

    python3 examples/litellm-export.py > spend.csv
"""
import csv, gzip, math, os, random, sys
from datetime import datetime, timedelta, timezone

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
WINDOWS = os.path.join(DATA, "traces", "servegen_client_windows_week1.csv.gz")
TOKENS = os.path.join(DATA, "traces", "servegen_client_tokens_week1.csv.gz")
SCALE = 0.001          # of the client's real volume
START = datetime(2026, 3, 2, tzinfo=timezone.utc)   # a Monday; ServeGen's day 0 at 00:00
# client id → (team, model, share of each prompt read from the cache)
TEAMS = {"101": ("team-coding", "claude-sonnet-4.6", 0.80),
         "66": ("team-support", "gpt-4o-mini", 0.30),
         "30": ("team-search", "gpt-4o", 0.50)}
# USD per million tokens: input, cached input, output (model_prices.csv).
PRICES = {"claude-sonnet-4.6": (3.00, 0.30, 15.00), "gpt-4o-mini": (0.15, 0.075, 0.60), "gpt-4o": (2.50, 1.25, 10.00)}

def lognormal(p50, p90):
    sigma = max(math.log(max(p90, p50 + 1) / p50) / 1.2815515655446004, 0.05)
    return math.log(p50), sigma

tokens = {}
with gzip.open(TOKENS, "rt") as f:
    rows = {}
    for r in csv.DictReader(f):
        if r["pool"] == "m-mid" and r["client_id"] in TEAMS:
            rows.setdefault(r["client_id"], []).append(r)
    for c, rs in rows.items():
        med = lambda k: sorted(float(r[k]) for r in rs)[len(rs) // 2]
        tokens[c] = (lognormal(med("in_p50"), med("in_p90")), lognormal(med("out_p50"), med("out_p90")))

rng = random.Random(20260302)
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens",
              "startTime", "endTime", "model", "api_base", "user", "metadata", "cache_hit", "cache_key",
              "request_tags", "team_id", "end_user", "status"])
events = []
with gzip.open(WINDOWS, "rt") as f:
    for r in csv.DictReader(f):
        c = r["client_id"]
        if r["pool"] != "m-mid" or c not in TEAMS or float(r["window_start_s"]) >= 7 * 86400:
            continue
        rate = float(r["rate_rps"]) * SCALE          # requests per second in the window
        if rate <= 0:
            continue
        cv = max(float(r["iat_cv"]), 0.1)
        shape = 1 / (cv * cv)                        # gamma gaps of this CV and mean 1/rate
        t = float(r["window_start_s"]) + rng.gammavariate(shape, 1 / (rate * shape)) * rng.random()
        end = float(r["window_start_s"]) + 600
        while t < end:
            events.append((t, c))
            t += rng.gammavariate(shape, 1 / (rate * shape))
events.sort()
for n, (t, c) in enumerate(events):
    team, model, cached_share = TEAMS[c]
    (mi, si), (mo, so) = tokens[c]
    prompt = max(1, int(rng.lognormvariate(mi, si)))
    completion = max(1, int(rng.lognormvariate(mo, so)))
    cached = int(prompt * cached_share)
    p_in, p_cached, p_out = PRICES[model]
    spend = ((prompt - cached) * p_in + cached * p_cached + completion * p_out) / 1e6
    start = START + timedelta(seconds=t)
    end = start + timedelta(seconds=0.5 + completion / 50)
    stamp = lambda d: d.strftime("%Y-%m-%d %H:%M:%S.") + f"{d.microsecond // 1000:03d}"
    meta = '{"additional_usage_values": {"cache_read_input_tokens": %d, "cache_creation_input_tokens": 0}}' % cached
    out.writerow([f"chatcmpl-{n:07d}", "acompletion", f"key-{team}", f"{spend:.6f}", prompt + completion, prompt, completion,
                  stamp(start), stamp(end), model, "https://gateway.example/v1", "", meta, "False", "", "[]", team, "", "success"])
