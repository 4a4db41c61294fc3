# The README's first two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CATALOGS := $(patsubst %.po,%.mo,$(wildcard web/translations/*/LC_MESSAGES/messages.po))
SHARED_GEO := ../shared/geo/NL.txt
PORT ?= 5000

.PHONY: demo test setup messages lint clean audit scan load

setup: $(STAMP) $(CATALOGS)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

web/translations/%/LC_MESSAGES/messages.mo: web/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

# Loads the demo population (Utrecht's postcode areas when a postcode file is at hand), then
# runs the scheduler process beside the web app until you press Ctrl-C. `make demo PORT=5050`
# serves on another port; links in e-mails follow it (unless BASE_URL is set).
demo: setup
	@export MAATWERK_DEMO=1; \
	if [ -z "$$BASE_URL" ]; then export BASE_URL=http://127.0.0.1:$(PORT); fi; \
	if [ -z "$$GEO_POSTCODES_FILE" ] && [ -f $(SHARED_GEO) ]; then export GEO_POSTCODES_FILE=$(SHARED_GEO); fi; \
	$(BIN)/maatwerk demo && \
	{ $(BIN)/maatwerk scheduler & scheduler=$$!; \
	  trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/maatwerk run --host 127.0.0.1 --port $(PORT); }

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

# Static analysis: medium and high severity must be zero (also a test: tests/test_bandit.py).
audit: setup
	$(BIN)/bandit -r matching web jobs demo config.py -q -ll

# Black-box scan of a running app on 127.0.0.1 (wapiti 3.2 from PyPI, e.g. WAPITI=/path/to/wapiti;
# not part of `make test`).
scan: setup
	$(BIN)/python benchmarks/security_scan.py $(SCAN_ARGS)

# Load test against gunicorn with 4 workers (needs BENCH_DATABASE_URL: a PostgreSQL database).
load: setup
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/load.py $(LOAD_ARGS)

messages: $(STAMP)
	$(BIN)/pybabel extract -F web/babel.cfg -k _l -o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance .pytest_cache
