"""R8: the SQL pre-filter of candidate pairs never drops a pair the name scoring would match.

`int_identity_pairs` drops pairs sharing only a phone or card whose names are too far apart (an edit
distance bound); it must keep every pair `score_pairs` calls one person, on both engines, including
names with typos, accents, other scripts and empty names.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from itertools import combinations

import pandas as pd
import sqlalchemy as sa

from payrecon.linking.identity import score_pairs
from payrecon.linking.settings import LinkSettings
from payrecon.warehouse import sql

FIRST = ["maria", "mariaa", "marai", "david", "dave", "jose", "josé", "zoë", "zoe", "li", "lee", "", "anna-lena",
         "annalena", "christopher", "christophe", "chrystopher", "ölaf", "olaf", "Андрей", "андрей", "ana"]
LAST = ["garcia", "gracia", "garcía", "smith", "smyth", "smiths", "o'neil", "oneil", "", "nguyen", "ngyuen",
        "müller", "muller", "mueller", "王", "wang", "van der berg", "vanderberg"]


def test_prefilter_keeps_every_pair_that_matches(engine: sa.Engine) -> None:
    rng = random.Random(7)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    names = [(rng.choice(FIRST), rng.choice(LAST)) for _ in range(45)]  # one phone block under 50
    customers = pd.DataFrame({
        "customer_id": [f"c{i:03d}" for i in range(len(names))],
        "first_name": [f.upper() if i % 5 == 0 else f for i, (f, _) in enumerate(names)],
        "last_name": [f" {last}" if i % 7 == 0 else last for i, (_, last) in enumerate(names)],
        "created_at": now,
        "updated_at": now,
    })
    phones = pd.DataFrame({"customer_id": customers["customer_id"], "key_kind": "phone", "key_value": "5550100",
                           "seen_at": now})
    keys = pd.concat([phones, phones.assign(key_kind="self", key_value=phones["customer_id"])])
    settings = LinkSettings()
    with engine.begin() as conn:
        conn.execute(sa.text("insert into customers (customer_id, first_name, last_name, created_at, updated_at) "
                             "values (:customer_id, :first_name, :last_name, :created_at, :updated_at)"),
                     customers.to_dict("records"))
        conn.execute(sa.text("insert into identity_keys (customer_id, key_kind, key_value, seen_at) "
                             "values (:customer_id, :key_kind, :key_value, :seen_at)"), keys.to_dict("records"))
        binds = {"horizon_start": datetime(2026, 8, 1, tzinfo=UTC), "max_block_size": settings.max_block_size,
                 "device_name_min": settings.shared_device_name_min}
        sql.run(conn, "linking/linking_affected_all", **binds)
        sql.run(conn, "intermediate/int_identity_customers", **binds)
        sql.run(conn, "intermediate/int_identity_blocks_all", **binds)
        sql.run(conn, "intermediate/int_identity_pairs", **binds)
        kept = {(a, b) for a, b in conn.execute(sa.text("select left_id, right_id from _identity_pairs"))}
        named = {r[0]: (r[1], r[2]) for r in conn.execute(
            sa.text("select customer_id, first_name, last_name from _identity_customers"))}
    every = pd.DataFrame([
        {"left_id": a, "right_id": b, "same_email": 0, "same_phone": 1, "same_card": 0,
         "left_first": named[a][0], "left_last": named[a][1], "right_first": named[b][0], "right_last": named[b][1]}
        for a, b in combinations(sorted(named), 2)
    ])
    scored = score_pairs(every, settings)
    matching = set(zip(scored.loc[scored["is_match"], "left_id"], scored.loc[scored["is_match"], "right_id"],
                       strict=True))
    assert matching, "the sample must hold matching pairs"
    assert matching <= kept
    assert len(kept) < len(every) * 0.75, "the pre-filter must drop non-matching pairs (plain names at least)"
