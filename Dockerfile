# The project image: the official Airflow image plus this project's pinned requirements and code.
# Built by docker-compose.yaml (`docker compose build`); the compose file also mounts dags/, plugins/ and
# include/ over the copies below, so a code change needs no rebuild in development.
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

ARG AIRFLOW_VERSION
ENV PYTHONPATH=/opt/airflow/plugins \
    GX_ANALYTICS_ENABLED=false \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# requirements.txt pins the whole resolved set (apache-airflow itself included, matching the base image),
# so the image runs exactly what the tests ran. Installed as the airflow user, as the image expects.
COPY --chown=airflow:0 requirements.txt /opt/airflow/requirements.txt
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/airflow/requirements.txt

COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
COPY --chown=airflow:0 include/ /opt/airflow/include/
COPY --chown=airflow:0 docker/airflow-init.sh /opt/airflow/docker/airflow-init.sh
