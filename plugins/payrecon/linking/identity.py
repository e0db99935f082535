"""Who is who (R8): customer records of one person, found on all the evidence, with a score and reason.

Blocking happens in SQL (`int_identity_blocks`, `int_identity_pairs`): only records sharing a normalised
email, a phone or a card fingerprint are ever compared. Scoring is vectorised (rapidfuzz `cpdist` over the
pair columns), and records are grouped by label propagation in numpy, not by per-pair Python.

Why the two rules: an email is personal, so a shared normalised email plus one agreeing name is enough
(a typo in the other name is common). A card or phone is shared inside households, so it only links
two records whose first *and* last names agree; a spouse with the same card and surname stays apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from rapidfuzz import fuzz, process
from sqlalchemy import Connection

from payrecon.linking.settings import LinkSettings
from payrecon.warehouse import sql
from payrecon.warehouse.bulk import read_arrow

EVIDENCE_WEIGHTS = {"email": 0.45, "phone": 0.15, "card": 0.15}
NAME_WEIGHT = 0.25
PAIR_BATCH = 250_000
PAIR_TYPES = {
    "left_id": "str", "right_id": "str", "same_email": "int", "same_phone": "int", "same_card": "int",
    "left_first": "str", "left_last": "str", "right_first": "str", "right_last": "str",
    "left_created_at": "time", "right_created_at": "time",
}


def _similarity(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Pairwise (row by row) similarity in [0, 1]; empty names never agree."""
    if left.empty:
        return np.zeros(0)
    scores = process.cpdist(left.tolist(), right.tolist(), scorer=fuzz.ratio, workers=1) / 100.0
    empty = (left.str.len() == 0).to_numpy() | (right.str.len() == 0).to_numpy()
    return np.where(empty, 0.0, scores)


def _decide(pairs: pd.DataFrame, settings: LinkSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """First and last name similarity, whether the pair is one person (by email, by device), row by row."""
    first = _similarity(pairs["left_first"].fillna(""), pairs["right_first"].fillna(""))
    last = _similarity(pairs["left_last"].fillna(""), pairs["right_last"].fillna(""))
    same_email = pairs["same_email"].astype(bool).to_numpy()
    same_device = pairs["same_card"].astype(bool).to_numpy() | pairs["same_phone"].astype(bool).to_numpy()
    by_email = same_email & (np.maximum(first, last) >= settings.email_name_min)
    by_device = same_device & (np.minimum(first, last) >= settings.shared_device_name_min)
    return first, last, by_email, by_device


def score_pairs(pairs: pd.DataFrame, settings: LinkSettings) -> pd.DataFrame:
    """Add first/last name similarity, the match decision, a score and a readable reason."""
    out = pairs.copy()
    first, last, by_email, by_device = _decide(out, settings)
    same_email = out["same_email"].astype(bool).to_numpy()
    same_phone = out["same_phone"].astype(bool).to_numpy()
    same_card = out["same_card"].astype(bool).to_numpy()
    name = (first + last) / 2.0
    score = (
        EVIDENCE_WEIGHTS["email"] * same_email
        + EVIDENCE_WEIGHTS["phone"] * same_phone
        + EVIDENCE_WEIGHTS["card"] * same_card
        + NAME_WEIGHT * name
    )
    out["first_sim"] = first.round(4)
    out["last_sim"] = last.round(4)
    out["is_match"] = by_email | by_device
    out["score"] = np.minimum(score, 1.0).round(4)
    evidence = (
        np.where(same_email, "email", "")
        + np.where(same_phone, "+phone", "")
        + np.where(same_card, "+card", "")
    )
    evidence = pd.Series(evidence, index=out.index).str.lstrip("+")
    verdict = np.where(by_email, "same email and a name agrees", np.where(by_device, "shared card/phone and both names agree", "not the same person"))
    out["reason"] = (
        evidence + " shared; names " + out["first_sim"].map("{:.2f}".format) + "/"
        + out["last_sim"].map("{:.2f}".format) + ": " + verdict
    )
    return out


def connected_persons(customers: pd.DataFrame, edges: pd.DataFrame) -> pd.Series:
    """person_id per customer_id: the earliest record (created_at, then id) of its connected group.

    Earliest-record ids keep a person's id stable as new records of them arrive.
    """
    ordered = customers.sort_values(["created_at", "customer_id"], kind="stable").reset_index(drop=True)
    pos = pd.Series(np.arange(len(ordered)), index=ordered["customer_id"].to_numpy())
    label = np.arange(len(ordered))
    if not edges.empty:
        u = pos.reindex(edges["left_id"].to_numpy()).to_numpy()
        v = pos.reindex(edges["right_id"].to_numpy()).to_numpy()
        ok = ~(np.isnan(u) | np.isnan(v))
        u, v = u[ok].astype(np.int64), v[ok].astype(np.int64)
        while True:
            low = np.minimum(label[u], label[v])
            new = label.copy()
            np.minimum.at(new, u, low)
            np.minimum.at(new, v, low)
            new = new[new]  # pointer jumping: follow labels to their own label
            if np.array_equal(new, label):
                break
            label = new
    return pd.Series(ordered["customer_id"].to_numpy()[label], index=ordered["customer_id"].to_numpy())


def _frame(table: pa.Table, types: dict[str, str]) -> pd.DataFrame:
    """An Arrow result as pandas with the columns typed (PostgreSQL's bulk read hands text back)."""
    frame = table.to_pandas()
    for column, kind in types.items():
        if kind == "int":
            frame[column] = pd.to_numeric(frame[column]).astype("int64")
        elif kind == "time":
            frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
        else:
            frame[column] = frame[column].fillna("").astype(str)
    return frame


def resolve(conn: Connection, binds: dict, settings: LinkSettings) -> pa.Table:
    """The records of `_link_affected` tied to another record (on the keys of `_identity_blocked`), with
    their person and how strongly they were tied to it. A record tied to none is a person of its own
    (score 1, 'one customer record'): most are, and they never leave SQL.

    Every record tied to one of them is among them (`linking_affected`), so their groups are whole. The
    pairs are read and scored in slices, each slice's names dropped once decided: only the matches (a few
    per cent of the pairs) are kept for the reasons.
    """
    # by hash: PostgreSQL merge-joined the 1.2M blocked keys to themselves over sorts (measured at 1M
    # orders, 2026-12-07: the pair step 11.7 s with merge joins, 6.9 s without, the same pairs)
    with sql.without_merge_joins(conn):
        sql.run(conn, "intermediate/int_identity_pairs", **binds)
    kept = []
    table = read_arrow(conn, "select * from _identity_pairs")  # Arrow holds strings compactly; pandas does not
    for offset in range(0, table.num_rows, PAIR_BATCH):
        pairs = _frame(table.slice(offset, PAIR_BATCH), PAIR_TYPES)
        _first, _last, by_email, by_device = _decide(pairs, settings)
        kept.append(pairs[by_email | by_device])
    del table
    matches = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=list(PAIR_TYPES))
    if matches.empty:
        return pa.table({"customer_id": pa.array([], pa.string()), "person_id": pa.array([], pa.string()),
                         "score": pa.array([], pa.float64()), "reason": pa.array([], pa.string())})
    matches = score_pairs(matches, settings)
    customers = pd.concat(
        [
            matches[["left_id", "left_created_at"]].set_axis(["customer_id", "created_at"], axis=1),
            matches[["right_id", "right_created_at"]].set_axis(["customer_id", "created_at"], axis=1),
        ],
        ignore_index=True,
    ).drop_duplicates("customer_id")
    person = connected_persons(customers, matches)
    out = pd.DataFrame({"customer_id": person.index, "person_id": person.to_numpy()})
    # each record's strongest tie to another record of the same person explains it
    ends = pd.concat(
        [
            matches[["left_id", "score", "reason"]].rename(columns={"left_id": "customer_id"}),
            matches[["right_id", "score", "reason"]].rename(columns={"right_id": "customer_id"}),
        ],
        ignore_index=True,
    )
    best = ends.sort_values(["customer_id", "score", "reason"], ascending=[True, False, True], kind="stable")
    best = best.drop_duplicates("customer_id")
    out = out.merge(best, on="customer_id", how="left")
    out["score"] = out["score"].astype(float)
    out = out.sort_values("customer_id", ignore_index=True)
    return pa.Table.from_pandas(out[["customer_id", "person_id", "score", "reason"]], preserve_index=False)
