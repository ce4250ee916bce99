# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench web-assets browser bench-tools image image-smoke

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev,train]'
	touch $(STAMP)

demo: $(STAMP) web-assets
	$(BIN)/tovholder demo

test: $(STAMP) web-assets browser
	$(BIN)/python -m pytest

# The house rules: style, types, the direction of imports, no tangled function.
lint: $(STAMP)
	$(BIN)/ruff check bot channels journal scheduler tests bench
	$(BIN)/ruff format --check bot channels journal scheduler tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/xenon --max-absolute C --exclude 'bot/migrations/*' bot channels journal scheduler

bench: $(STAMP) bench-tools
	$(BIN)/python -m bench

# The inbound benchmark drives its servers with Debian's wrk; install it when missing (only as root).
bench-tools:
	@if ! command -v wrk >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; fi

# Web pages: the design system (dkfds) and axe-core from npm, copied into static/vendor.
WEB_VENDOR := bot/http/pages/static/vendor/dkfds/.stamp
web-assets: $(WEB_VENDOR)
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
$(WEB_VENDOR): node_modules/.package-lock.json bot/http/pages/build_assets.py
	$(PYTHON) bot/http/pages/build_assets.py

# Browser tests drive Debian's Chromium; install it when missing (only as root).
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; fi

# The container image (docs/deploy.md, section 8): wheels and web assets built here, then
# `docker build` with no package index; the base made from Debian's packages when no
# registry answers. IMAGE names it.
IMAGE ?= tovholder:latest
image: $(STAMP) web-assets
	PYTHON=$(BIN)/python IMAGE=$(IMAGE) docker/build.sh

# The image against this machine's PostgreSQL and the Twilio simulator (tests/image/smoke.py).
image-smoke: image
	$(BIN)/python tests/image/smoke.py --image $(IMAGE)
