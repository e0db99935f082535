#!/usr/bin/env bash
# One-off initialisation, run by the `airflow-init` service before anything else starts:
#   1. Airflow's metadata DB migrated;
#   2. the pool every payrecon task runs in (a task in a missing pool is never scheduled);
#   3. the warehouse schema migrated once (tasks also migrate, but not all at once on an empty DB);
#   4. the data folders (settlement inbox, finance output) owned by the Airflow user.
set -euo pipefail

echo "==> Airflow $(airflow version)"
airflow db migrate

slots="${PAYRECON_WAREHOUSE_WRITER_SLOTS:-4}"
airflow pools set warehouse_writer "${slots}" \
  "Warehouse writers: ${slots} slots on PostgreSQL; use 1 on the embedded DuckDB warehouse (one writer)."

if [[ -n "${PAYRECON_WAREHOUSE_URL:-}" ]]; then
  python -m payrecon.warehouse.migrate "${PAYRECON_WAREHOUSE_URL}"
else
  echo "PAYRECON_WAREHOUSE_URL is not set: the warehouse schema is left to the first task" >&2
fi

mkdir -p /opt/airflow/data/inbox /opt/airflow/data/output /opt/airflow/logs
chown -R "${AIRFLOW_UID:-50000}:0" /opt/airflow/data /opt/airflow/logs
echo "==> initialised: metadata DB, pool warehouse_writer (${slots} slots), warehouse schema"
