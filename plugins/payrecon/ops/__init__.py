"""Operations: what the people running the pipeline need beyond the DAGs.

- `transaction`: run a capability's work in ONE warehouse transaction (a whole window lands or nothing
  does) and the dry-run form of it (the same transaction, rolled back).
- `alerts`: failure and deadline alerts routed to the team's webhook and mailbox, or logged loudly.
- `quarantine`: release quarantined settlement lines after a fix, replay a landed file.
- `python -m payrecon.ops --help`: the command line for the last two (see docs/RUNBOOK.md).

Plain Python like the rest of the domain package: no Airflow import here.
"""
