# The service image: the outage-planner wheel and its pinned runtime dependencies on a
# slim Python, run as a non-root user. One image for every process of compose.yaml:
#   outage run (app, the default command) | outage worker | outage db upgrade | outage notify send-due
#
#   docker build -t outage-planner:0.1.0 .
#
# Written without Docker at hand (see docs/deploy.md): `make serve-prod` runs the same
# processes without containers, and the wheel install below was checked in a plain venv.
# Every dependency ships manylinux wheels (GDAL, PROJ, GEOS, libpq, OR-Tools inside them),
# so no compiler and no system library is installed.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app/ app/
COPY gis/ gis/
COPY planning/ planning/
COPY routing/ routing/
COPY outage_demo/ outage_demo/
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/outage/bin:$PATH \
    OUTAGE_INSTANCE_PATH=/var/lib/outage
RUN groupadd --system outage \
    && useradd --system --gid outage --home-dir /var/lib/outage --shell /usr/sbin/nologin outage \
    && install -d -o outage -g outage -m 0750 /var/lib/outage
COPY requirements/runtime.txt /tmp/runtime.txt
COPY --from=build /wheels/ /tmp/wheels/
# -c: the wheel's own requirements (pyproject ranges) resolved to the tested pins
RUN python -m venv /opt/outage \
    && /opt/outage/bin/pip install --no-cache-dir -c /tmp/runtime.txt /tmp/wheels/outage_planner-*.whl \
    && /opt/outage/bin/pip check \
    && rm -rf /tmp/wheels /tmp/runtime.txt
USER outage
WORKDIR /var/lib/outage
EXPOSE 8000
CMD ["outage", "run", "--host", "0.0.0.0", "--port", "8000", "--threads", "8"]
