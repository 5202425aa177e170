# Every target creates .venv and installs what it needs; nothing is assumed installed by hand.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# the docs extra (make docs; make test-slow builds the site too)
DOCS_STAMP := $(VENV)/.docs-installed

.PHONY: demo test peers numba test-slow test-mpi mpi torch notebooks docs bench bench-mpi graphviz chromium fashion-mnist clean fortunes text-model

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[testing,nets,notebooks]'
	touch $(STAMP)

# Graphviz's `dot` renders the pictures; install it when missing and we may (root + apt).
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq graphviz) >/dev/null 2>&1 || echo "could not install graphviz; pictures are written as .dot text"; \
	  else echo "Graphviz's dot is missing: install it (e.g. 'sudo apt-get install graphviz') to render pictures; .dot text is written meanwhile"; fi; }

# Debian's Chromium, for the explorer page's browser tests (tests/autograd_np/test_explore_browser.py, driven by
# Playwright from the testing extra, which uses this browser and downloads none); without it they skip, saying so.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 || echo "could not install chromium; the browser tests will be skipped"; \
	  else echo "Chromium is missing (sudo apt-get install chromium): the browser tests will be skipped"; fi; }

# Open MPI (from apt when root) and mpi4py (into .venv) for data-parallel training and its tests;
# when either cannot be installed, the MPI tests skip and say how to install it.
MPI_STAMP := $(VENV)/.mpi-installed
mpi: $(STAMP)
	@command -v mpirun >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq openmpi-bin libopenmpi-dev) >/dev/null 2>&1 || echo "could not install Open MPI; the MPI tests will be skipped"; \
	  else echo "Open MPI is missing (sudo apt-get install openmpi-bin libopenmpi-dev): the MPI tests will be skipped"; fi; }
	@[ -f $(MPI_STAMP) ] || ! command -v mpirun >/dev/null 2>&1 || { \
	  $(PY) -m pip install -q -e '.[mpi]' && touch $(MPI_STAMP); } || echo "could not install mpi4py; the MPI tests will be skipped"

fashion-mnist:
	@[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >/dev/null; \
	  else echo "Fashion-MNIST missing: apt-get install dataset-fashion-mnist"; exit 1; fi; }

# Debian's fortune files (English, and fortunes-zh's Tang and Song poems) for the text models; apt when root.
fortunes:
	@[ -f /usr/share/games/fortunes/fortunes.dat ] && [ -f /usr/share/games/fortunes/tang300.dat ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq fortunes fortunes-zh) >/dev/null; \
	  else echo "fortunes missing: apt-get install fortunes fortunes-zh"; exit 1; fi; }

# The text-model figures of docs/guides/sequence-models.md: a character-level LSTM and a small causal transformer, 3 minutes of training
# each on Debian's fortunes (one BLAS thread: the matrices are small), test loss per character against n-grams.
text-model: $(STAMP) fortunes
	OPENBLAS_NUM_THREADS=1 $(PY) -m nets text --model lstm --minutes 3 --out runs/text-lstm
	OPENBLAS_NUM_THREADS=1 $(PY) -m nets text --model transformer --minutes 3 --out runs/text-transformer

demo: $(STAMP) graphviz
	$(PY) -m nets train --dataset digits --out runs/demo

# PyTorch, for the cross-checks against it (the boundary sweep, conv, transforms): the CPU build
# that lies on disk here (exactly torch==2.13.0: any other spec downloads gigabytes); when it
# cannot be installed, those tests are skipped, saying so.
TORCH_STAMP := $(VENV)/.torch-installed
torch: $(STAMP)
	@[ -f $(TORCH_STAMP) ] || { $(PY) -m pip install -q torch==2.13.0 >/dev/null 2>&1 && touch $(TORCH_STAMP); } \
	  || echo "could not install torch==2.13.0: the PyTorch cross-checks will be skipped"

# HIPS autograd and MyGrad (the bench extra), whose names the "Coming from" pages are checked against;
# when they cannot be installed, those checks are skipped, saying so.
PEERS_STAMP := $(VENV)/.peers-installed
peers: $(STAMP)
	@[ -f $(PEERS_STAMP) ] || { $(PY) -m pip install -q -e '.[bench]' >/dev/null 2>&1 && touch $(PEERS_STAMP); } \
	  || echo "could not install HIPS autograd and MyGrad: the checks of their names will be skipped"

# numba (the numba extra): the compiled kernels, which the tests compare with the NumPy ones; without it, the
# compiled side of those comparisons is skipped, saying so.
NUMBA_STAMP := $(VENV)/.numba-installed
numba: $(STAMP)
	@[ -f $(NUMBA_STAMP) ] || { $(PY) -m pip install -q -e '.[numba]' >/dev/null 2>&1 && touch $(NUMBA_STAMP); } \
	  || echo "could not install numba: the compiled kernels' tests will be skipped"

test: $(STAMP) graphviz mpi torch chromium peers numba $(DOCS_STAMP)
	$(PY) -m pytest

# The distributed-training tests alone (real ranks: mpirun -n 2 and 3 on this machine); make test runs them too.
test-mpi: $(STAMP) mpi
	$(PY) -m pytest tests/nets/test_distributed.py

# The checks too slow for the default suite (seconds to minutes each); CI runs them after `make test`.
# (With the docs extra: tests/docs/test_site.py builds the site and checks its links.)
test-slow: $(STAMP) graphviz torch fashion-mnist chromium numba $(DOCS_STAMP)
	$(PY) -m pytest -m slow

# Execute every notebook of examples/notebooks/ in a fresh kernel and write it as HTML into
# build/notebooks/, to read without Jupyter (Fashion-MNIST is used when installed: make fashion-mnist).
notebooks: $(STAMP) graphviz
	$(PY) examples/notebooks/render.py --out build/notebooks

# The documentation site, docs/ -> build/docs/index.html (Sphinx, the PyData theme, MyST pages, the API reference
# generated from the docstrings, the notebooks executed during the build: about a few minutes), warnings as errors.
# The docs extra installs in its own stamp.
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP) graphviz
	$(PY) -m sphinx -W --keep-going -b html docs build/docs

# The peers are optional extras: torch pinned to the CPU build on disk (any other spec
# downloads gigabytes), HIPS autograd and MyGrad from the index.
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[testing,nets,notebooks,bench,numba]'
	touch $(BENCH_STAMP)

# Every workload, all contenders interleaved; prints the table and writes benchmarks/results/.
bench: $(BENCH_STAMP) fashion-mnist
	$(PY) -m benchmarks --e2e --wait 60

# Data-parallel throughput: 2 ranks x 1 BLAS thread against 1 rank x 2 threads (benchmarks/distributed.py).
bench-mpi: $(STAMP) mpi
	$(PY) -m benchmarks.distributed

clean:
	rm -rf $(VENV) build *.egg-info runs
