"""R8 on the project's sample-data generator: its truth files give each order a person and a purchase.

The generator draws regular orders for random people, so one person sometimes has an unrelated failed
order and, days later, another order for the same product. Its truth calls those two purchases; R8
("same person, same product or plan, within 30 days") calls them one. Identity is measured as is;
for purchases every pair we join that the truth keeps apart must be exactly such an R8 pair.
"""

from __future__ import annotations

from itertools import combinations

import pandas as pd
import pytest
import sqlalchemy as sa

from payrecon.commerce.pull import pull_incremental
from payrecon.linking.link import link
from payrecon.linking.quality import person_quality, purchase_quality
from payrecon.linking.settings import LinkSettings
from payrecon.rules.decide import decide
from payrecon.rules.settings import RuleSettings
from payrecon.settings import Window
from payrecon.warehouse.engine import make_engine
from payrecon.warehouse.migrate import upgrade


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory):
    from payrecon.sample_data import generate

    out = tmp_path_factory.mktemp("sample")
    summary = generate(out, start="2026-11-01", days=5, orders_per_day=300, seed=7)
    windows = Window.parse("2026-11-01", "2026-11-06").days()
    engine = make_engine(f"duckdb:///{out / 'warehouse.duckdb'}")
    commerce = sa.create_engine(summary.commerce_url)
    upgrade(engine)
    pull_incremental(commerce, engine, windows[-1].end)
    decide(engine, windows, RuleSettings(auto_charge=True), "sample")
    link(engine, windows, LinkSettings())
    with engine.connect() as conn:
        links = pd.read_sql(sa.text("select * from attempt_links"), conn)
        persons = pd.read_sql(sa.text("select * from identity_persons"), conn)
        orders = pd.read_sql(sa.text("select order_id, customer_id, product_id, created_at from orders"), conn)
    engine.dispose()
    commerce.dispose()
    truth = pd.read_csv(out / "truth" / "orders.csv")
    yield links, persons, orders, truth


def test_r8_linking_on_the_project_generator(generated) -> None:
    links, persons, orders, truth = generated
    identity = person_quality(persons, orders.merge(truth, on="order_id"))
    purchases = purchase_quality(links, truth)
    print(f"\nR8 on sample_data, identity: {identity}")
    print(f"R8 on sample_data, purchases against its truth: {purchases}")
    assert identity.precision >= 0.99 and identity.recall >= 0.95
    assert purchases.recall >= 0.95

    both = links.merge(truth, on="order_id", suffixes=("", "_true")).merge(
        orders[["order_id", "product_id"]], on="order_id"
    )
    joined_apart = []
    for _, group in both.groupby("purchase_id"):
        for a, b in combinations(group.itertuples(index=False), 2):
            if a.purchase_id_true != b.purchase_id_true:
                joined_apart.append((a, b))
    window = pd.Timedelta(days=LinkSettings().window_days)
    for a, b in joined_apart:
        assert a.person_id_true == b.person_id_true and a.product_id == b.product_id
        assert abs(a.created_at - b.created_at) <= window
    r8_consistent = purchases.correct_pairs + len(joined_apart)
    print(f"R8 on sample_data, purchases with same-person same-product pairs counted as R8 defines them: "
          f"precision {r8_consistent / max(purchases.predicted_pairs, 1):.4f} ({len(joined_apart)} such pairs)")
