# Kafka Connect worker (distributed mode) with our BigQuery source plugin and the stock
# Debezium JDBC sink. Build context: the repository root (compose: `context: ..`), after
#   mvn -pl bigquery-source-connector package -DskipTests
# has produced bigquery-source-connector/target/plugin/bigquery-source-connector.
# connect.Dockerfile.dockerignore (BuildKit) keeps the context to the few files copied below.
ARG KAFKA_IMAGE=apache/kafka:4.3.1

# --- stage 1: the Debezium JDBC sink plugin from Maven Central (checksum-verified) -------------
FROM alpine:3.22 AS debezium
ARG DEBEZIUM_VERSION=3.6.0.Final
RUN apk add --no-cache curl tar
RUN set -eux; \
    base="https://repo1.maven.org/maven2/io/debezium/debezium-connector-jdbc/${DEBEZIUM_VERSION}"; \
    f="debezium-connector-jdbc-${DEBEZIUM_VERSION}-plugin.tar.gz"; \
    curl -fsSL --retry 3 -o "/tmp/$f" "$base/$f"; \
    curl -fsSL --retry 3 -o "/tmp/$f.sha1" "$base/$f.sha1"; \
    echo "$(head -c 40 "/tmp/$f.sha1")  /tmp/$f" | sha1sum -c -; \
    mkdir -p /plugins; \
    tar -xzf "/tmp/$f" -C /plugins; \
    test -d /plugins/debezium-connector-jdbc

# --- stage 2: the worker ------------------------------------------------------------------------
FROM ${KAFKA_IMAGE}
USER root
RUN mkdir -p /opt/bq2k/plugins /etc/bq2k
# plugin.path=/opt/bq2k/plugins: one directory per plugin (isolated class loaders; the sink uses the
# MySQL Connector/J bundled in its own directory).
COPY --from=debezium /plugins/ /opt/bq2k/plugins/
COPY bigquery-source-connector/target/plugin/bigquery-source-connector/ /opt/bq2k/plugins/bigquery-source-connector/
# The project's worker properties as the image default; compose mounts the live file over it.
COPY config/connect-distributed.properties /etc/bq2k/connect-distributed.properties
COPY docker/connect-entrypoint.sh /opt/bq2k/connect-entrypoint.sh
RUN chmod 755 /opt/bq2k/connect-entrypoint.sh && chmod -R a+rX /opt/bq2k /etc/bq2k
# apache/kafka runs as the unprivileged `appuser`.
USER appuser
ENV KAFKA_HEAP_OPTS="-Xms256m -Xmx1g"
EXPOSE 8083
ENTRYPOINT ["/opt/bq2k/connect-entrypoint.sh"]
