# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean serve-prod

$(STAMP): requirements.txt $(wildcard requirements/*.txt)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# The service on http://127.0.0.1:5000 with SQLite (instance/outage.db), the demo city
# (outage_demo/monaco.gpkg + monaco_roads.graphml; tests/data/small_ring when absent), demo
# users (passwords printed once), crews and jobs. Plain HTTP on localhost: cookies not Secure.
run: $(STAMP)
	FLASK_APP=app OUTAGE_LOAD_ROADS=false $(PY) -m flask db upgrade
	FLASK_APP=app OUTAGE_LOAD_ROADS=false $(PY) -m flask runs reap
	FLASK_APP=app OUTAGE_LOAD_ROADS=false $(PY) -m flask demo seed
	OUTAGE_SESSION_COOKIE_SECURE=false $(PY) -m waitress --host=127.0.0.1 --port=5000 --threads=8 --call app:create_app

# The production topology on this machine, without containers (docs/deploy.md): 2 app
# processes (waitress) on http://127.0.0.1:8001 and :8002 and 2 RQ workers, on the local
# PostgreSQL (database "outage", created when missing) and Redis. Options: scripts/serve_prod.py -h
serve-prod: $(STAMP)
	$(PY) scripts/serve_prod.py

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy gis planning routing app

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
