"""The merchant's products, currencies, FX rates and gateways (fixed, so ids are stable across seeds)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from payrecon.money import exponent
from payrecon.sample_data.config import Table

CURRENCIES = np.array(["USD", "EUR", "GBP", "JPY", "KWD"])
EXPONENTS = np.array([exponent(c) for c in CURRENCIES], dtype=np.int64)
USD, EUR, GBP, JPY, KWD = range(len(CURRENCIES))
# value of one major unit in USD: only used to convert generated amounts, the result is an exact integer
USD_PER_MAJOR = np.array([1.0, 1.08, 1.27, 0.0067, 3.25])
# a dispute costs a fixed fee, in minor units of the dispute's currency
DISPUTE_FEE_MINOR = np.array([1500, 1500, 1500, 2000, 5000], dtype=np.int64)

KINDS = np.array(["one_time", "subscription", "payment_plan"])
ONE_TIME, SUBSCRIPTION, PAYMENT_PLAN = range(len(KINDS))

GATEWAYS = np.array(["stripe", "acmepay"])
GATEWAY_FORMATS = {"stripe": "stripe", "acmepay": "generic"}
GATEWAY_SHARE = np.array([0.6, 0.4])
STRIPE, ACMEPAY = range(len(GATEWAYS))

# product_id, name, kind, price (minor units), currency, installments, interval_days, popularity
_PRODUCTS = [
    ("P-1001", "Online course: Bookkeeping Basics", ONE_TIME, 19900, USD, None, None, 9.0),
    ("P-1002", "E-book: Cash Flow for Freelancers", ONE_TIME, 2900, USD, None, None, 12.0),
    ("P-1003", "Workshop ticket (Berlin)", ONE_TIME, 14900, EUR, None, None, 4.0),
    ("P-1004", "1:1 Coaching session", ONE_TIME, 9900, GBP, None, None, 3.0),
    ("P-1005", "Starter kit", ONE_TIME, 4599, USD, None, None, 8.0),
    ("P-1006", "Seminar pass (Tokyo)", ONE_TIME, 12000, JPY, None, None, 1.5),
    ("P-1007", "Consultation (Kuwait City)", ONE_TIME, 45500, KWD, None, None, 1.0),
    ("P-1008", "Template bundle", ONE_TIME, 1999, EUR, None, None, 3.0),
    ("P-2001", "Membership (monthly)", SUBSCRIPTION, 2900, USD, None, 30, 10.0),
    ("P-2002", "Membership Europe (monthly)", SUBSCRIPTION, 2500, EUR, None, 30, 3.0),
    ("P-2003", "Pro tools (monthly)", SUBSCRIPTION, 4900, USD, None, 30, 5.0),
    ("P-2004", "UK club (monthly)", SUBSCRIPTION, 1900, GBP, None, 30, 2.5),
    ("P-2005", "Japan community (monthly)", SUBSCRIPTION, 3000, JPY, None, 30, 1.0),
    ("P-2006", "Weekly newsletter", SUBSCRIPTION, 500, USD, None, 7, 4.0),
    ("P-2007", "Gulf members (monthly)", SUBSCRIPTION, 9750, KWD, None, 30, 0.7),
    ("P-3001", "Mastermind (6 payments)", PAYMENT_PLAN, 49700, USD, 6, 30, 3.0),
    ("P-3002", "Certification (3 payments)", PAYMENT_PLAN, 33300, EUR, 3, 30, 1.5),
    ("P-3003", "Academy (12 payments)", PAYMENT_PLAN, 9900, USD, 12, 30, 4.0),
    ("P-3004", "Retreat (4 payments)", PAYMENT_PLAN, 25000, GBP, 4, 30, 1.2),
    ("P-3005", "Leadership programme (3 payments)", PAYMENT_PLAN, 33333, KWD, 3, 30, 0.5),
    ("P-3006", "Bootcamp (5 payments)", PAYMENT_PLAN, 50000, JPY, 5, 30, 0.6),
]


@dataclass(frozen=True)
class Catalog:
    product_id: np.ndarray
    name: np.ndarray
    kind: np.ndarray  # KINDS index
    price_minor: np.ndarray
    currency: np.ndarray  # CURRENCIES index
    installments: np.ndarray  # 0 when not a payment plan
    interval_days: np.ndarray  # 0 when one-time
    weight: np.ndarray  # probability of being bought

    @property
    def recurring(self) -> np.ndarray:
        return np.flatnonzero(self.kind != ONE_TIME)

    def table(self, updated_s: int) -> Table:
        """The `products` rows (internal types: minor units, currency index)."""
        return Table(
            product_id=self.product_id,
            name=self.name,
            kind=KINDS[self.kind],
            price_minor=self.price_minor,
            currency=self.currency,
            installments=np.array([int(v) if v > 0 else None for v in self.installments], dtype=object),
            interval_days=np.array([int(v) if v > 0 else None for v in self.interval_days], dtype=object),
            updated_s=np.full(len(self.product_id), updated_s, dtype=np.int64),
        )


def load_catalog() -> Catalog:
    cols = list(zip(*_PRODUCTS, strict=True))
    weight = np.array(cols[7], dtype=float)
    return Catalog(
        product_id=np.array(cols[0]),
        name=np.array(cols[1]),
        kind=np.array(cols[2], dtype=np.int64),
        price_minor=np.array(cols[3], dtype=np.int64),
        currency=np.array(cols[4], dtype=np.int64),
        installments=np.array([v or 0 for v in cols[5]], dtype=np.int64),
        interval_days=np.array([v or 0 for v in cols[6]], dtype=np.int64),
        weight=weight / weight.sum(),
    )


def convert_minor(minor: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Convert amounts between currencies at the fixed rates, rounded to the target's minor unit."""
    major = minor / 10.0 ** EXPONENTS[src] * USD_PER_MAJOR[src] / USD_PER_MAJOR[dst]
    return np.rint(major * 10.0 ** EXPONENTS[dst]).astype(np.int64)
