"""Follow-ups (R9-R13): purchase actions, a transactional outbox, journeys with waits, offline orders.

Planning is set-based SQL over a window's events; delivery is a per-message dispatcher with claims,
retries, dead letters and cancellation. Nothing here imports Airflow.
"""
