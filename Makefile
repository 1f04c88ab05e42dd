# ecgtf: one-command set-up.  `make demo` trains the main job, `make test` runs the tests.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install install-gpu demo test test-all clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "ecgtf needs $(PYTHON) on PATH (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) requirements.txt setup.cfg
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m pip install --quiet "pytest>=8,<10" "pytest-timeout>=2.3,<3" "pytest-xdist>=3.6,<4" \
		"pytest-rerunfailures>=15,<17"
	# gRPC request classes for the export tests; --no-deps: it requires the full `tensorflow`
	# package, which would sit beside tensorflow-cpu (grpcio and protobuf come with TensorFlow).
	$(PY) -m pip install --quiet --no-deps "tensorflow-serving-api>=2.21,<2.22"
	touch $(STAMP)

install: $(STAMP)

# GPU machine: swap the CPU build of TensorFlow for the CUDA one.
install-gpu: $(STAMP)
	$(PY) -m pip uninstall --yes tensorflow-cpu
	$(PY) -m pip install --quiet -e ".[gpu]"

demo: $(STAMP)
	$(PY) scripts/train.py --model inception_spectrogram

# Two worker processes (CI has 2 cores). A worker that crashes (a rare segfault inside
# TensorFlow's runtime was seen once in CI) is replaced and only its test is rerun, once;
# ordinary failures are never rerun.
PYTEST_ARGS ?= -n 2 --dist loadfile --reruns 1 --only-rerun crashed

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS) --run-slow

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
