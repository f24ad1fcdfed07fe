# The BigQuery emulator (bqemulator from PyPI): REST on 9050, Storage Read API (plaintext gRPC) on 9060.
# Build context: this directory (nothing is copied from it).
#
# Why the pins (as bin/emulator): bqemulator 1.4.0 refuses to start without DuckDB's `spatial`
# extension, which it otherwise downloads from extensions.duckdb.org at start-up. PyPI ships that
# extension for DuckDB 1.5.5 as `duckdb-extension-spatial`, so DuckDB is pinned to 1.5.5 and the
# extension file is put where DuckDB's INSTALL finds it: ~/.duckdb/extensions/v1.5.5/<platform>/.
# The emulator then starts without network access, reproducibly.
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
RUN pip install bqemulator==1.4.0 duckdb==1.5.5 duckdb-extension-spatial==1.5.5 numpy
RUN set -eux; \
    ext=$(python -c "import duckdb_extension_spatial, os; print(os.path.join(os.path.dirname(duckdb_extension_spatial.__file__), 'extensions', 'v1.5.5', 'spatial.duckdb_extension'))"); \
    test -f "$ext"; \
    platform=$(python -c "import duckdb; print(duckdb.sql('PRAGMA platform').fetchone()[0])" || echo linux_amd64); \
    mkdir -p "$HOME/.duckdb/extensions/v1.5.5/$platform"; \
    cp "$ext" "$HOME/.duckdb/extensions/v1.5.5/$platform/"; \
    ls -l "$HOME/.duckdb/extensions/v1.5.5/$platform/"
EXPOSE 9050 9060
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=30 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9050/bigquery/v2/projects/demo/datasets', timeout=2).status == 200 else 1)"
ENTRYPOINT ["bqemulator", "start", "--rest-host", "0.0.0.0", "--grpc-host", "0.0.0.0", "--project", "demo"]
# Extra options (e.g. --log-level warning) can be given as the container command.
CMD []
