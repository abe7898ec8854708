# Safe City traffic monitoring: `make run` starts everything, `make test` runs the tests,
# `make docs-images` refreshes the README screenshots in docs/img/ (the tests alone never write there).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install install-train install-dev run test docs-images lint browser-deps mqtt-deps clean

# Three sets of packages, each installed once (a stamp per file): the runtime (make run), training
# (models.train / quantize / evaluate) and tests + tooling (make test, make lint).
$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -r requirements.txt
	# ultralytics pulls the GUI OpenCV (5.x, no Haar cascades); keep only the headless 4.x build.
	$(PY) -m pip uninstall -y -q opencv-python || true
	$(PY) -m pip install -q --force-reinstall --no-deps "opencv-python-headless<5"
	touch $(STAMP)

$(STAMP)-train: $(STAMP) requirements-train.txt
	$(PY) -m pip install -r requirements-train.txt
	touch $@

$(STAMP)-dev: $(STAMP) requirements-dev.txt
	$(PY) -m pip install -r requirements-dev.txt
	touch $@

install: $(STAMP)
install-train: $(STAMP)-train
install-dev: $(STAMP)-dev $(STAMP)-train

# Debian Chromium for the browser tests (never `playwright install`: it downloads a browser).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else echo "note: /usr/bin/chromium missing and cannot apt-get; browser tests will be skipped"; fi; \
	fi

# Debian's Mosquitto for the MQTT notification tests (each test starts its own broker on a free port).
mqtt-deps:
	@if [ ! -x /usr/sbin/mosquitto ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null) \
	      || echo "warning: could not install mosquitto; MQTT tests will be skipped"; \
	  else echo "note: /usr/sbin/mosquitto missing and cannot apt-get; MQTT tests will be skipped"; fi; \
	fi

run: install
	$(PY) -m ingest.launch

test: install-dev browser-deps mqtt-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# The browser tests save their screenshots to a temp dir; this points them at docs/img/ instead.
docs-images: install-dev browser-deps
	SAFECITY_DOCS_IMAGES=docs/img $(PY) -m pytest tests/browser $(PYTEST_ARGS)

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy core bus config storage sim vision archive services ingest dashboard

clean:
	rm -rf var runs .pytest_cache
