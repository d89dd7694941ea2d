"""Stage logic over the store and the API clients: what each Airflow task does, without Airflow.

Each function takes its collaborators (database, clients, clock) as arguments and returns a
plain, JSON-able summary, so the DAG layer only wires connections and logs.
"""
