# Rendered by kubricks; targets: cpu, gpu.

FROM ubuntu:22.04@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa AS base-cpu

FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa AS base-gpu

FROM base-cpu AS tools-cpu
ARG KUBRICKS_CACHE_SCOPE
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
COPY build/extra-ca.pem /usr/local/share/ca-certificates/kubricks-build-extra.crt
RUN update-ca-certificates
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt GIT_SSL_CAINFO=/etc/ssl/certs/ca-certificates.crt PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

FROM base-gpu AS tools-gpu
ARG KUBRICKS_CACHE_SCOPE
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
COPY build/extra-ca.pem /usr/local/share/ca-certificates/kubricks-build-extra.crt
RUN update-ca-certificates
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt CURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt GIT_SSL_CAINFO=/etc/ssl/certs/ca-certificates.crt PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

FROM apache/spark:3.5.3@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa AS spark-dist
FROM scratch AS spark
COPY --from=spark-dist /opt/spark /opt/spark

FROM tools-cpu AS deps-cpu
ARG KUBRICKS_CACHE_SCOPE
RUN python3 -m venv /opt/kubricks/python && /opt/kubricks/python/bin/pip install --upgrade pip wheel
RUN /opt/kubricks/python/bin/pip install -- scikit-learn==1.5.2

FROM tools-gpu AS deps-gpu
ARG KUBRICKS_CACHE_SCOPE
RUN python3 -m venv /opt/kubricks/python && /opt/kubricks/python/bin/pip install --upgrade pip wheel
RUN /opt/kubricks/python/bin/pip install -- scikit-learn==1.5.2

FROM tools-gpu AS rapids
ARG KUBRICKS_CACHE_SCOPE
ARG MAVEN_REPOSITORY=https://repo1.maven.org/maven2
RUN mkdir -p /opt/rapids && curl -fsSL -o /opt/rapids/rapids-4-spark_2.12-25.04.0.jar ${MAVEN_REPOSITORY}/com/nvidia/rapids-4-spark_2.12/25.04.0/rapids-4-spark_2.12-25.04.0.jar \
 && echo "$(curl -fsSL ${MAVEN_REPOSITORY}/com/nvidia/rapids-4-spark_2.12/25.04.0/rapids-4-spark_2.12-25.04.0.jar.sha1 | cut -c1-40)  /opt/rapids/rapids-4-spark_2.12-25.04.0.jar" | sha1sum -c -

FROM base-cpu AS cpu
ARG KUBRICKS_CACHE_SCOPE
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends bash ca-certificates openjdk-17-jre-headless procps python3 tini \
 && rm -rf /var/lib/apt/lists/* \
 && ln -sfn "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" /opt/java \
 && useradd --system --uid 185 --gid 0 --home-dir /opt/spark --shell /bin/bash spark \
 && chgrp 0 /etc/passwd && chmod g+w /etc/passwd
ENV JAVA_HOME="/opt/java" \
    SPARK_HOME="/opt/spark" \
    LANG="C.UTF-8" \
    LC_ALL="C.UTF-8" \
    PYSPARK_PYTHON="/opt/kubricks/python/bin/python3" \
    PATH="/opt/kubricks/python/bin:/opt/spark/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
COPY --from=spark /opt/spark /opt/spark
RUN mkdir -p /opt/spark/work-dir && chgrp -R 0 /opt/spark/work-dir && chmod -R g+rwX /opt/spark/work-dir
COPY --from=deps-cpu /opt/kubricks/python /opt/kubricks/python
COPY kubricks/ /opt/kubricks/
WORKDIR /opt/spark/work-dir
USER 185
ENTRYPOINT ["/opt/kubricks/bin/entrypoint"]

FROM base-gpu AS gpu
ARG KUBRICKS_CACHE_SCOPE
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends bash ca-certificates openjdk-17-jre-headless procps python3 tini \
 && rm -rf /var/lib/apt/lists/* \
 && ln -sfn "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" /opt/java \
 && useradd --system --uid 185 --gid 0 --home-dir /opt/spark --shell /bin/bash spark \
 && chgrp 0 /etc/passwd && chmod g+w /etc/passwd
ENV JAVA_HOME="/opt/java" \
    SPARK_HOME="/opt/spark" \
    LANG="C.UTF-8" \
    LC_ALL="C.UTF-8" \
    PYSPARK_PYTHON="/opt/kubricks/python/bin/python3" \
    PATH="/opt/kubricks/python/bin:/opt/spark/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
COPY --from=spark /opt/spark /opt/spark
RUN mkdir -p /opt/spark/work-dir && chgrp -R 0 /opt/spark/work-dir && chmod -R g+rwX /opt/spark/work-dir
COPY --from=deps-gpu /opt/kubricks/python /opt/kubricks/python
COPY kubricks/ /opt/kubricks/
COPY --from=rapids /opt/rapids/ /opt/spark/jars/
WORKDIR /opt/spark/work-dir
USER 185
ENTRYPOINT ["/opt/kubricks/bin/entrypoint"]
