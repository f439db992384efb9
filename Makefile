# Every target sets itself up: a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.userl-installed
# A CPU build of torch; a plain `pip install torch` would pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
export RAY_USAGE_STATS_ENABLED := 0
PYTEST_ARGS ?=
# Test processes: many integration tests wait (robots paced to real time, process and Ray
# starts), so three share two cores well (four were slower); the unit tests compute, so two.
# Each test module stays in one process (its shared fixtures).
TEST_WORKERS ?= 3
FAST_TEST_WORKERS ?= 2

.PHONY: setup run test test-fast bench gpu-check lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e '.[test,hardware,lerobot,docs,wandb]' "$(TORCH_SPEC)"
	# A second resolve: transformers 5.23 needs huggingface-hub >= 1.31, which
	# lerobot-dataset 0.4.4 declares it does not support (< 0.36); its dataset code runs on
	# the newer hub (tests/integration/test_lerobot_interop.py), so pip's warning is expected.
	$(PY) -m pip install --quiet -e '.[vla]' "$(TORCH_SPEC)"
	./scripts/install-system-libs.sh
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/userl train

# Two tiers. `make test-fast`: tests/unit only, the code's logic without physics, Ray or
# trainings (tests/unit/conftest.py fails a test that starts Ray or builds a MuJoCo model), in
# under two minutes on two cores: for every edit. `make test`: what CI runs, both tiers
# (tests/integration and tests/e2e are marked `integration` by their folder: MuJoCo physics,
# Ray, trainings, simulated robots and vendors' simulators), the full-length learning checks
# (`slow`) left to `make bench`.
test: $(STAMP)
	$(PY) -m pytest -m "not slow" -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest tests/unit -m "not integration and not slow" -n $(FAST_TEST_WORKERS) \
	  --dist loadfile $(PYTEST_ARGS)

BENCH_OUT ?= bench-results
TASKS := peg_insertion charger pick_place cap_tightening table_cleanup
BENCHMARKS := learner sync control pipeline faults multirobot multitask
BENCH_STEPS := $(BENCH_OUT)/slow-tests.passed $(TASKS:%=$(BENCH_OUT)/sim-%.json) \
  $(BENCHMARKS:%=$(BENCH_OUT)/%.json) $(BENCH_OUT)/learning.json \
  $(BENCH_OUT)/learning-rewards.json $(BENCH_OUT)/vla.json

# The full-length learning checks, then every benchmark's figures as JSON in $(BENCH_OUT)/.
# Each step is a file, written only when the step succeeds: `make bench` again runs only the
# steps not yet done (delete a file to measure it again). The learning matrices take many
# hours; inside them finished runs are read back and a run cut short continues from its
# checkpoint.
bench: $(BENCH_STEPS)

$(BENCH_OUT)/slow-tests.passed: | $(STAMP)
	@mkdir -p $(BENCH_OUT)
	$(PY) -m pytest -m slow $(PYTEST_ARGS)
	@touch $@

$(BENCH_OUT)/sim-%.json: | $(STAMP)
	@mkdir -p $(BENCH_OUT)
	$(VENV)/bin/userl bench sim task=$* obs=image out=$@

$(BENCHMARKS:%=$(BENCH_OUT)/%.json): $(BENCH_OUT)/%.json: | $(STAMP)
	@mkdir -p $(BENCH_OUT)
	$(VENV)/bin/userl bench $* out=$@

$(BENCH_OUT)/learning.json: | $(STAMP)
	$(VENV)/bin/userl bench learning matrix=paper seeds=2 root=$(BENCH_OUT)/learning out=$@

$(BENCH_OUT)/learning-rewards.json: | $(STAMP)
	$(VENV)/bin/userl bench learning matrix=rewards seeds=2 root=$(BENCH_OUT)/learning-rewards \
	  out=$@

$(BENCH_OUT)/vla.json: | $(STAMP)
	$(VENV)/bin/userl bench vla root=$(BENCH_OUT)/vla out=$@

# The GPU check (docs/benchmarks.md): `userl bench gpu`, 8 minutes at most in all. The bench
# keeps to GPU_CHECK_BUDGET_S itself; at GPU_CHECK_S a SIGINT ends the step in progress and
# the JSON is still written (exit 124 says the bound was hit); GPU_CHECK_KILL_S later a
# SIGKILL. USERL=... runs an install that is already there (a lent GPU machine's, with a
# CUDA torch) without setting one up.
GPU_CHECK_BUDGET_S ?= 390
GPU_CHECK_S ?= 450
GPU_CHECK_KILL_S ?= 30
USERL ?=
gpu-check: $(if $(USERL),,$(STAMP))
	@mkdir -p $(BENCH_OUT)
	timeout --signal=INT --kill-after=$(GPU_CHECK_KILL_S) $(GPU_CHECK_S) \
	  $(or $(USERL),$(VENV)/bin/userl) bench gpu budget_s=$(GPU_CHECK_BUDGET_S) \
	  root=$(BENCH_OUT)/gpu-check out=$(BENCH_OUT)/gpu-check.json $(GPU_CHECK_ARGS)

# What CI runs before the tests: style (ruff) and types (mypy, configured in pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests scripts docs/hooks
	$(VENV)/bin/ruff format --check src tests scripts docs/hooks
	$(VENV)/bin/mypy
	# The docs site (mkdocs.yml), strictly: a broken link or anchor, or a page left out of the
	# navigation, fails. Not --quiet: mkdocs 1.6.1 then drops the warnings strict mode counts.
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) runs .pytest_cache
