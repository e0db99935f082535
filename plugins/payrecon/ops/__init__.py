"""Operations: what the people running the pipeline need beyond the DAGs (docs/RUNBOOK.md).

- `transaction`: run a capability's work in ONE warehouse transaction (a whole window lands or nothing
  does) and the dry-run form of it (the same transaction, rolled back).
- `schema`: warehouse migrations serialised across parallel tasks (PostgreSQL advisory lock).
- `alerts`: failure and deadline alerts routed to the team's webhook and mailbox, or logged loudly.
- `checksum`: a checksum of every warehouse table, to prove a re-run or a recovery changed nothing.
- `quarantine`: release quarantined settlement lines after a fix, replay a landed file.
- `local_stack`: the docker-compose services as local processes (Celery test, backfill benchmark).
- `python -m payrecon.ops --help`: checksum, release-quarantine, replay-file.

Plain Python like the rest of the domain package: no Airflow import here (the adapter calls in).
"""
