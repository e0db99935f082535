"""payrecon: payment reconciliation and failed-order follow-up.

The domain package. It never imports Airflow except in `airflow_adapter`, so every capability can be
tested with plain settings objects.
"""
