"""Pairwise precision and recall of a grouping against ground truth, counted, not enumerated.

Two orders are a pair when they share a group. Precision: of the pairs we put together, how many truly
belong together; recall: of the true pairs, how many we found. Counting C(n, 2) per group and per
(predicted, true) cell gives the same figures as listing pairs, in linear time.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Quality:
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    def __str__(self) -> str:
        return (
            f"precision {self.precision:.4f} ({self.correct_pairs}/{self.predicted_pairs} pairs), "
            f"recall {self.recall:.4f} ({self.correct_pairs}/{self.true_pairs} pairs)"
        )


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise(items: pd.DataFrame, predicted: str, truth: str) -> Quality:
    """`items` has one row per item with its predicted and its true group."""
    return Quality(
        predicted_pairs=_pairs(items.groupby(predicted).size()),
        true_pairs=_pairs(items.groupby(truth).size()),
        correct_pairs=_pairs(items.groupby([predicted, truth]).size()),
    )


def purchase_quality(links: pd.DataFrame, truth: pd.DataFrame) -> Quality:
    """attempt_links.purchase_id against the true purchase of each order both sides know."""
    both = links[["order_id", "purchase_id"]].merge(
        truth[["order_id", "purchase_id"]].rename(columns={"purchase_id": "true_purchase_id"}), on="order_id"
    )
    return pairwise(both, "purchase_id", "true_purchase_id")


def person_quality(persons: pd.DataFrame, truth: pd.DataFrame) -> Quality:
    """identity_persons.person_id against the true person of each customer record."""
    both = persons[["customer_id", "person_id"]].merge(
        truth[["customer_id", "person_id"]].drop_duplicates().rename(columns={"person_id": "true_person_id"}),
        on="customer_id",
    )
    return pairwise(both, "person_id", "true_person_id")
