"""footy's page in the Airflow UI: match days, goals and their clips (``app``), and the link to
a goal's page from its task instances (``links``)."""
