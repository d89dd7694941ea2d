# The Airflow image with footy's dependencies (used by docker-compose.yaml).
FROM apache/airflow:3.3.2-python3.11

USER root
# ffmpeg of the base image's Debian release: the pinned base tag fixes it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
USER airflow

COPY requirements.txt constraints.txt /tmp/footy/
# requirements.txt pins the Celery, Redis and PostgreSQL parts too; constraints.txt the rest.
RUN pip install --no-cache-dir -r /tmp/footy/requirements.txt -c /tmp/footy/constraints.txt
