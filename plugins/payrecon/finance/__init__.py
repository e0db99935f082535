"""Finance-grade reconciliation on top of `reconciliation_results` (issue 9).

Payouts tied to bank deposits, one-to-many and many-to-one matches, declared tolerances with recorded
write-offs, FX and fee checks, an exception workflow finance resolves without SQL, and the month close.
Each module is small and talks to the others through warehouse tables; `run.run_finance` orders them.
"""
