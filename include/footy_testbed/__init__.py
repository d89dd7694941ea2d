"""footy's test bed: the demo and test harness, not the pipeline. Nothing in ``footy``,
``dags/`` or ``plugins/`` imports it.

- ``standin``: one loopback HTTP server standing in for API-Football, X and the clip hosts,
  replaying a scenario (``scenarios/``) in compressed time;
- ``services``: drives the local services (``scripts/service``) and Airflow's REST API;
- ``airflow_supervisor``: runs Airflow's components, loopback only, restarted if they die;
- ``embedded``: the environment of the embedded default (``make run``);
- ``clipgen``, ``broadcast``, ``reuploads``: synthetic footage and the labeled clip sets the
  dedup tests and benchmarks measure on.
"""
