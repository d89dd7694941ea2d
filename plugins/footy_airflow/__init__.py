"""footy's Airflow extension points: Mongo connection glue, triggers, sensors, shared tasks.

This folder is on ``sys.path`` for every Airflow component (``$AIRFLOW_HOME/plugins``), so the
triggerer imports ``footy_airflow.triggers`` by class path.
"""
