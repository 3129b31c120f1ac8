# Two commands on a fresh clone: `make run` and `make test` (see README).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast lint lint-imports typecheck fmt clean-data bench-webhooks bench-import bench-dispatch bench-sends bench-inbox bench-ai bench-smoke

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m devstack run

test: install
	$(PY) -m devstack test $(ARGS)

# The inner loop: everything except the browser and process-kill fault tests (`make test` runs all).
test-fast: install
	$(PY) -m devstack test -m "not browser and not faults" $(ARGS)

# Benchmarks print a table; each accepts ARGS=--smoke (a tiny size, seconds) and its own options.
# Webhook intake and processing under rising load, processing on the same cores as intake: inbound
# messages, one status per POST and 100 per POST (Meta's batches) for messages that exist; per stage
# ACK p50/p95/p99, errors, updates processed/s, drain s, lost, duplicated, then the targets
# (see bench/webhooks/__init__.py for the modes, columns and options).
bench-webhooks: install
	$(PY) -m bench.webhooks $(ARGS)

# Contacts CSV import: 100,000 rows upload → run, then the same file again (see bench/imports.py).
bench-import: install
	$(PY) -m bench.imports $(ARGS)

# One campaign to 20,000 recipients through the batch engine: limits off, 80 and 250 msg/s buckets,
# and a 100,000-recipient launch snapshot (see bench/campaigns/__init__.py).
bench-dispatch: install
	$(PY) -m bench.campaigns $(ARGS)

# One-off sends, each its own POST /api/v1/messages to the production web server, sent by the `sends`
# workers: a burst, then 100 msg/s paced (see bench/dispatch/__init__.py).
bench-sends: install
	$(PY) -m bench.dispatch $(ARGS)

# The team inbox at 100,000 conversations / 1,000,000 messages: list views, filters, search and a
# 500-message conversation over HTTP, p95 < 50 ms each (see bench/inbox/__init__.py).
bench-inbox: install
	$(PY) -m bench.inbox $(ARGS)

# The built-in AI provider, offline (no database): answer / correct / out-of-scope declined /
# hand-over rates at four thresholds on samples/ai/evaluation.csv (267 messages) with the sample
# knowledge base, leave-one-out over its own pairs, and p50/p95/p99 per answer with 5,000 pairs,
# p95 < 20 ms (see bench/ai.py; bench/ai_calibrate.py refits the confidence).
bench-ai: install
	$(PY) -m bench.ai $(ARGS)

# Every benchmark above at a tiny size (`--smoke`: seconds each, the same code path, correctness
# checks only); CI runs it after the suite so a broken benchmark fails the day it breaks.
bench-smoke: install
	$(PY) -m bench.webhooks --smoke
	$(PY) -m bench.imports --smoke
	$(PY) -m bench.campaigns --smoke
	$(PY) -m bench.dispatch --smoke
	$(PY) -m bench.inbox --smoke
	$(PY) -m bench.ai --smoke

# The import contract and mypy, then ruff, then pip-audit over requirements.txt
# (tools/audit_requirements.py; it needs the OSV service online and fails when it cannot reach it,
# unless AUDIT_OFFLINE=warn).
lint: install lint-imports typecheck
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(PY) tools/audit_requirements.py

# The app layers (.importlinter): offline and quick, so CI runs it too. `tools/import_graph.py`
# prints the app graph, its cycles and the modules over 400 lines (issue 17's work list).
lint-imports: install
	$(VENV)/bin/lint-imports --no-cache

# mypy with django-stubs and the DRF stubs ([tool.mypy] in pyproject.toml) over the domain: services,
# selectors, models, jobs, the sending path, webhook processing and aerostic/core. The edges are
# excluded: portal and admin views, forms, admin, DRF serializers and api modules (request plumbing,
# typed by Django's own stubs at best), tests, migrations, management commands and the Graph simulator
# (a development tool); `Any` stays only for Meta's JSON. The settings only parse the two URLs below
# (nothing connects), so this runs offline with no services.
typecheck: install
	DATABASE_URL=postgres://typecheck@127.0.0.1:1/typecheck REDIS_URL=redis://127.0.0.1:1/0 $(VENV)/bin/mypy

fmt: install
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

# Deletes the local database, Redis data, generated development secrets and the demo password.
clean-data:
	rm -rf .data
