# The two entry points of the README. Both set themselves up (tools/setup_env.sh is idempotent:
# a cold run builds the environment in ~12 min on 2 cores, a warm one returns in about a second).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo test clean-demo

setup:
	@VENV=$(VENV) bash tools/setup_env.sh

# Generate a DOTA-format dataset, train a small rotated detector on CPU with tools/train.py,
# evaluate it and an untrained copy with tools/test.py, print both mAPs.
demo: setup
	$(PY) tools/quickstart.py

# Unit + end-to-end tests (CPU; GPU-only tests skip without CUDA).
test: setup
	@VENV=$(VENV) bash tools/run_tests.sh $(PYTEST_ARGS)

clean-demo:
	rm -rf data/dota_demo work_dirs/quickstart
