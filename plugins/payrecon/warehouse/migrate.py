"""Bring a warehouse to the newest schema: `python -m payrecon.warehouse.migrate URL`.

Each capability owns a migration branch that starts at the foundation revision, so the history has
several heads and `upgrade heads` applies them all.
"""

from __future__ import annotations

import sys

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from payrecon.settings import INCLUDE_DIR
from payrecon.warehouse.engine import warehouse


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(INCLUDE_DIR / "migrations"))
    return cfg


def upgrade(engine: Engine) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m payrecon.warehouse.migrate SQLALCHEMY_URL", file=sys.stderr)
        return 2
    with warehouse(argv[1]) as engine:
        upgrade(engine)
    print(f"warehouse at newest schema: {argv[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
