"""footy: the goal-clip pipeline's domain code.

Nothing in this package imports Airflow: it is importable and testable on its own.
"""
