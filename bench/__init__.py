"""The pipeline benchmark (`python -m bench.run`, see bench/README.md).

Importing the package puts `plugins/` on the path (the domain package `payrecon` lives there), the same
way the DAG folder sees it under Airflow.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ROOT / "plugins"
if str(PLUGINS) not in sys.path:
    sys.path.insert(0, str(PLUGINS))
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
