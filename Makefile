# Two entry points for a fresh machine (see README): `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
RAG := $(VENV)/bin/rag
QUESTION ?= 哪些地方用信托制物业?

.PHONY: install demo test bench eval-retrieval clean-index

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(RAG) ingest data/cases
	$(RAG) search "$(QUESTION)" -k 5

test: install
	$(PY) -m pytest

bench: install
	$(PY) eval/benchmark.py

eval-retrieval: install
	$(RAG) eval-retrieval

clean-index:
	rm -rf index/CURRENT index/v* index/eval
