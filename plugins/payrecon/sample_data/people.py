"""People, their cards, and the customer records the merchant holds for them.

A *person* is the truth; a *customer* is the merchant's record. Most people have one customer record; a
person who comes back after a failed payment sometimes creates a second one with identity noise (email
case, a plus-address, a typo in the name, the same card). Households share one card but are different
people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from payrecon.sample_data.config import tokens

FIRST_NAMES = np.array(
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony Betty Mark Sandra Steven "
    "Ashley Paul Emily Andrew Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah "
    "Timothy Stephanie Ronald Rebecca Jason Laura Edward Sharon Jeffrey Cynthia Ryan Kathleen Jacob Amy "
    "Gary Angela Nicholas Shirley Eric Anna Jonathan Brenda Larry Pamela Justin Emma Scott Nicole Brandon "
    "Helen Benjamin Samantha Samuel Katherine Gregory Christine Alexander Debra Patrick Rachel Frank "
    "Carolyn Raymond Janet Jack Maria Dennis Olivia Jerry Heather Tyler Diane Aaron Julie Jose Joyce Adam "
    "Victoria Nathan Ruth Henry Virginia Zachary Lauren Douglas Kelly Peter Christina Kyle Joan Noah Evelyn "
    "Ethan Judith Jeremy Andrea Walter Hannah Christian Megan Keith Cheryl Roger Jacqueline Terry Martha "
    "Austin Madison Sean Teresa Gerald Gloria Carl Sara Harold Janice Dylan Ann Arthur Kathryn Lawrence "
    "Abigail Jordan Sophia Jesse Frances Bryan Jean Billy Alice Bruce Judy Gabriel Isabella Joe Julia "
    "Logan Grace Alan Amber Juan Denise Albert Danielle Willie Marilyn Elijah Beverly Wayne Charlotte "
    "Randy Natalie Vincent Theresa Mason Diana Roy Brittany Ralph Doris Bobby Kayla Russell Alexis Bradley "
    "Lori Philip Marie Eugene Mei Omar Aisha Hiroshi Yuki Fatima Lukas Sofia Mateo Chloe Ivan Ingrid".split()
)
LAST_NAMES = np.array(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz "
    "Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson "
    "Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray "
    "Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins "
    "Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero "
    "Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant "
    "Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez "
    "McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford "
    "Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer "
    "Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels "
    "Tanaka Sato Suzuki AlSabah Haddad Mueller Schneider Rossi Dubois Novak Kowalski Jensen Larsen".split()
)
DOMAINS = np.array(["example.com", "example.net", "example.org", "mail.example", "inbox.example"])
BRANDS = np.array(["visa", "mastercard", "amex", "discover"], dtype=object)
_LOWER_FIRST = np.strings.lower(FIRST_NAMES).astype("S")
_LOWER_LAST = np.strings.lower(LAST_NAMES).astype("S")
_DOTTED = np.strings.add(np.strings.add(np.repeat(_LOWER_FIRST, len(LAST_NAMES)), b"."),
                         np.tile(_LOWER_LAST, len(FIRST_NAMES)))
_AT_DOMAINS = np.strings.add(b"@", DOMAINS.astype("S"))
BRAND_SHARE = np.array([0.55, 0.3, 0.1, 0.05])


@dataclass
class People:
    """Columns of the person table (numpy arrays, one row per person)."""

    first: np.ndarray
    last: np.ndarray
    email: np.ndarray
    phone: np.ndarray  # object, None when unknown
    fingerprint: np.ndarray
    brand: np.ndarray
    last4: np.ndarray

    def __len__(self) -> int:
        return len(self.first)


def make_people(
    rng: np.random.Generator,
    n: int,
    same_family: np.ndarray,
    family_of: np.ndarray,
) -> People:
    """`n` people. `same_family[k]` takes the surname and the card of `family_of[k]` (a household)."""
    first_idx = rng.integers(0, len(FIRST_NAMES), n)
    last_idx = rng.integers(0, len(LAST_NAMES), n)
    last_idx[same_family] = last_idx[family_of]
    # a household member never has the first name of the person whose card they share
    clash = first_idx[same_family] == first_idx[family_of]
    first_idx[same_family[clash]] = (first_idx[same_family[clash]] + 1) % len(FIRST_NAMES)
    # strings are built as ASCII bytes (`S` arrays, 4x less memory traffic than unicode) from small tables
    lf, ll = _LOWER_FIRST[first_idx], _LOWER_LAST[last_idx]
    style = rng.integers(0, 3, n)
    number = rng.integers(1, 1000, n).astype("S")
    local = np.where(
        style == 0,
        _DOTTED[first_idx * len(LAST_NAMES) + last_idx],
        np.where(
            style == 1,
            np.strings.add(np.strings.add(lf, ll.view("S1")[:: ll.itemsize]), number),
            np.strings.add(np.strings.add(lf.view("S1")[:: lf.itemsize], ll), number),
        ),
    )
    domain = _AT_DOMAINS[rng.integers(0, len(DOMAINS), n)]
    email = np.strings.add(local, domain)
    # different people never share an email address: disambiguate repeats with the row number
    dup = pd.Series(_hash_bytes(email)).duplicated().to_numpy()  # a hash collision only costs a suffix
    rows = np.flatnonzero(dup)
    email = email.astype(f"S{email.itemsize + 8}")
    email[rows] = np.strings.add(
        np.strings.add(np.strings.add(local[rows], b"."), rows.astype("S")),
        _AT_DOMAINS[rng.integers(0, len(DOMAINS), len(rows))],
    )
    email = email.astype(f"U{email.itemsize}")

    area = rng.integers(201, 990, n)
    tail = rng.integers(0, 100, n)
    phone = _PHONE_AREA[area - 201] + _PHONE_TAIL[tail]  # object arrays: Python concatenation per row
    phone[rng.random(n) < 0.12] = None

    fingerprint = tokens(rng, n, 16, mixed=True)
    brand = BRANDS[rng.choice(len(BRANDS), n, p=BRAND_SHARE)]
    last4 = np.strings.zfill(rng.integers(0, 10_000, n).astype(str), 4)
    fingerprint[same_family] = fingerprint[family_of]
    brand[same_family] = brand[family_of]
    last4[same_family] = last4[family_of]
    # object arrays: rows that copy a person's value share one Python string instead of a wide copy
    first, last = FIRST_NAMES.astype(object)[first_idx], LAST_NAMES.astype(object)[last_idx]
    return People(*(a.astype(object) for a in (first, last, email, phone, fingerprint, brand, last4)))


_PHONE_AREA = np.array([f"+1-{a}-555-01" for a in range(201, 990)], dtype=object)
_PHONE_TAIL = np.array([f"{t:02d}" for t in range(100)], dtype=object)


def _hash_bytes(values: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each fixed-width bytes value (equal values, equal hashes), fully vectorised."""
    width = -(-values.itemsize // 8) * 8
    words = np.ascontiguousarray(values.astype(f"S{width}")).view(np.uint64).reshape(len(values), -1)
    h = np.full(len(values), 0xCBF29CE484222325, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(words.shape[1]):
            h = (h ^ words[:, k]) * np.uint64(0x100000001B3)
            h ^= h >> np.uint64(29)
    return h


_PLUS_TAGS = ["shop", "orders", "buy", "2", "news", "pay"]


def _typo(rng: np.random.Generator, word: str) -> str:
    if len(word) < 3:
        return word + word[-1]
    pos = int(rng.integers(1, len(word) - 1))
    op = int(rng.integers(0, 4))
    if op == 0:  # swap two neighbours
        return word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
    if op == 1:  # drop a letter
        return word[:pos] + word[pos + 1 :]
    if op == 2:  # double a letter
        return word[:pos] + word[pos] + word[pos:]
    vowels = "aeiou"
    repl = vowels[(vowels.find(word[pos].lower()) + 1) % 5] if word[pos].lower() in vowels else "e"
    return word[:pos] + repl + word[pos + 1 :]


def noisy_identity(
    rng: np.random.Generator, first: str, last: str, email: str, phone: str | None
) -> tuple[str, str, str, str | None]:
    """What the same person types the second time: email case or plus-address, maybe a name typo."""
    local, domain = email.split("@", 1)
    variant = int(rng.integers(0, 3))
    if variant in (0, 2):
        local = f"{local}+{_PLUS_TAGS[int(rng.integers(0, len(_PLUS_TAGS)))]}"
    if variant in (1, 2):
        local = ".".join(part.capitalize() for part in local.split("."))
        domain = domain.capitalize() if rng.random() < 0.5 else domain.upper()
    if variant == 0 and rng.random() < 0.5:
        local = local.upper()
    new_first, new_last = first, last
    roll = rng.random()
    if roll < 0.3:
        new_first = _typo(rng, first)
    elif roll < 0.55:
        new_last = _typo(rng, last)
    elif roll < 0.65:
        new_first, new_last = first.lower(), last.lower()
    roll = rng.random()
    if roll < 0.25:
        phone = None
    elif roll < 0.45 and phone:
        phone = phone.replace("-", " ")
    return new_first, new_last, f"{local}@{domain}", phone
