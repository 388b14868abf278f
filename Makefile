# Two set-up commands on a fresh clone: `make run` and `make test`. Both install everything first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
AMPI := $(VENV)/bin/ampi
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: install run serve ingest test eval train cv bench bench-embed loadtest browser clean

install: $(STAMP)

# torch first, pinned: a plain `torch` (asked for by sentence-transformers) would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

ingest: install
	$(AMPI) ingest --quiet || test $$? -eq 3

run: ingest
	$(AMPI) serve

serve: run

# Debian's chromium + chromedriver for the browser tests (their own browser downloads do not work offline).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  ( (test "$$(id -u)" = 0 && apt-get update -qq && apt-get install -y -qq chromium chromium-driver) || \
	    (command -v sudo >/dev/null && sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver) || \
	    echo "chromium could not be installed: browser tests will be skipped" )

# Two workers (machines here have two cores): most tests wait on a browser, a server or a child process.
test: install browser
	$(PY) -m pytest -q -n auto --maxprocesses 2

eval: ingest  # regression sets (tuned on), the rewording check, then the held-out validation split of the pool
	$(AMPI) eval
	$(AMPI) eval tests/eval/probe.jsonl --no-baseline --out eval-results/probe
	$(AMPI) eval tests/eval/probe2.jsonl --no-baseline --out eval-results/probe2
	$(AMPI) eval tests/eval/dev_reworded.jsonl --no-baseline --out eval-results/reworded
	$(AMPI) eval tests/eval/conversations.jsonl --no-baseline --out eval-results/conversations
	$(AMPI) eval tests/eval/conversations_fresh.jsonl --no-baseline --out eval-results/conversations_fresh
	$(AMPI) eval tests/eval/conversations_unseen.jsonl --no-baseline --out eval-results/conversations_unseen
	$(AMPI) eval tests/eval/fresh_unseen.jsonl --no-baseline --out eval-results/fresh_unseen
	$(AMPI) eval tests/eval/holdout_unseen.jsonl --no-baseline --out eval-results/holdout_unseen
	$(AMPI) eval tests/eval/unseen_more.jsonl --no-baseline --out eval-results/unseen_more
	$(AMPI) eval tests/eval/conversations_holdout.jsonl --no-baseline --out eval-results/conversations_holdout
	$(AMPI) eval tests/eval/unseen_s17.jsonl --no-baseline --out eval-results/unseen_s17
	$(AMPI) eval tests/eval/conversations_s17.jsonl --no-baseline --out eval-results/conversations_s17
	$(AMPI) eval tests/eval/conversations_s17b.jsonl --no-baseline --out eval-results/conversations_s17b
	$(AMPI) eval tests/eval/unseen_s18.jsonl --no-baseline --out eval-results/unseen_s18
	$(AMPI) eval tests/eval/conversations_s18.jsonl --no-baseline --out eval-results/conversations_s18
	$(AMPI) eval tests/eval/unseen_s19.jsonl --no-baseline --out eval-results/unseen_s19
	$(AMPI) eval tests/eval/conversations_s19.jsonl --no-baseline --out eval-results/conversations_s19
	$(AMPI) eval tests/eval/unseen_s20.jsonl --no-baseline --out eval-results/unseen_s20
	$(AMPI) eval tests/eval/conversations_s20.jsonl --no-baseline --out eval-results/conversations_s20
	$(AMPI) eval tests/eval/unseen_s21.jsonl --no-baseline --out eval-results/unseen_s21
	$(AMPI) eval tests/eval/conversations_s21.jsonl --no-baseline --out eval-results/conversations_s21
	$(AMPI) eval tests/eval/unseen_s22.jsonl --no-baseline --out eval-results/unseen_s22
	$(AMPI) eval tests/eval/conversations_s22.jsonl --no-baseline --out eval-results/conversations_s22
	$(AMPI) eval tests/eval/unseen_s23.jsonl --no-baseline --out eval-results/unseen_s23
	$(AMPI) eval tests/eval/conversations_s23.jsonl --no-baseline --out eval-results/conversations_s23
	$(AMPI) eval tests/eval/unseen_s24.jsonl --no-baseline --out eval-results/unseen_s24
	$(AMPI) eval tests/eval/conversations_s24.jsonl --no-baseline --out eval-results/conversations_s24
	$(PY) -m assistant.train --check

# Refit the answer chooser on the pool's train split (writes assistant/weights.json; scikit-learn needed).
train: ingest
	$(PY) -m assistant.train

# Cross-validated chooser accuracy over every labelled question (fits nothing, writes nothing).
cv: ingest
	$(PY) -m assistant.train --cv --also fresh_unseen unseen_more unseen_s17 unseen_s18 unseen_s19 unseen_s20

bench: ingest
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_query.py
	$(PY) bench/memory.py
	$(PY) bench/api_memory.py
	$(PY) bench/bench_startup.py

# Ingest embedding: batch sizes 8/16/32/64, length-sorted batches, 1 and 2 threads (≈ 5-10 min).
bench-embed: ingest
	$(PY) bench/bench_embed.py

loadtest: ingest
	$(PY) bench/loadtest.py

clean:
	rm -rf .ampi eval-results bench-results
