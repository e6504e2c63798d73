# Rendered by kubricks; targets: cpu.

FROM ubuntu:22.04@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa AS base-cpu

FROM base-cpu AS tools-cpu
ARG KUBRICKS_CACHE_SCOPE
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
COPY build/extra-ca.pem /usr/local/share/ca-certificates/kubricks-build-extra.crt
RUN update-ca-certificates
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt GIT_SSL_CAINFO=/etc/ssl/certs/ca-certificates.crt PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

FROM tools-cpu AS spark
ARG KUBRICKS_CACHE_SCOPE
COPY build/layout-pip-spark.py /tmp/layout-pip-spark.py
RUN python3 -m venv /tmp/pyspark && /tmp/pyspark/bin/pip install pyspark==3.5.3 \
 && /tmp/pyspark/bin/python /tmp/layout-pip-spark.py /opt/spark

FROM tools-cpu AS deps-cpu
ARG KUBRICKS_CACHE_SCOPE
RUN python3 -m venv --system-site-packages /databricks/python3 && /databricks/python3/bin/pip install --upgrade pip wheel
RUN /databricks/python3/bin/pip install -- requests==2.32.3

FROM deps-cpu AS app-cpu
ARG KUBRICKS_CACHE_SCOPE
RUN mkdir -p /opt/app /opt/kubricks/wheels /tmp/src
COPY app/0/ /tmp/src/0/
RUN /databricks/python3/bin/pip wheel --no-deps --wheel-dir /opt/kubricks/wheels /tmp/src/0
RUN /databricks/python3/bin/pip wheel --wheel-dir /opt/kubricks/wheels -- mycompany-etl==1.4.0

FROM base-cpu AS cpu
ARG KUBRICKS_CACHE_SCOPE
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends acl bash ca-certificates coreutils iproute2 openjdk-17-jdk-headless procps python3 sudo tini \
 && rm -rf /var/lib/apt/lists/* \
 && ln -sfn "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" /opt/java \
 && useradd --system --uid 185 --gid 0 --home-dir /opt/spark --shell /bin/bash spark \
 && useradd --create-home libraries && usermod --lock libraries \
 && chgrp 0 /etc/passwd && chmod g+w /etc/passwd
ENV JAVA_HOME="/opt/java" \
    SPARK_HOME="/opt/spark" \
    LANG="C.UTF-8" \
    LC_ALL="C.UTF-8" \
    PYSPARK_PYTHON="/databricks/python3/bin/python3" \
    PATH="/databricks/python3/bin:/opt/spark/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    TZ="UTC"
COPY --from=spark /opt/spark /opt/spark
RUN mkdir -p /opt/spark/work-dir && chgrp -R 0 /opt/spark/work-dir && chmod -R g+rwX /opt/spark/work-dir
COPY --from=deps-cpu /databricks/python3 /databricks/python3
COPY kubricks/ /opt/kubricks/
COPY --from=app-cpu /opt/app /opt/app
COPY --from=app-cpu /opt/kubricks/wheels /opt/kubricks/wheels
RUN if ls /opt/kubricks/wheels/*.whl >/dev/null 2>&1; then /databricks/python3/bin/pip install --no-cache-dir --no-index --find-links /opt/kubricks/wheels /opt/kubricks/wheels/*.whl; fi
WORKDIR /opt/spark/work-dir
USER 185
ENTRYPOINT ["/opt/kubricks/bin/entrypoint"]
