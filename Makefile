# SPDX-License-Identifier: GPL-3.0-or-later
# Every target bootstraps what it needs: a Python venv in .venv with pinned requirements, and the
# collection linked into a project-local collections path (.collections) so FQCNs and ansible-doc work.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT        := $(CURDIR)
PYTHON      ?= $(shell command -v /usr/bin/python3 || command -v python3)
VENV        := $(ROOT)/.venv
BIN         := $(VENV)/bin
COLL_PATH   := $(ROOT)/.collections
COLL_LINK   := $(COLL_PATH)/ansible_collections/oomguard/linux
SANITY_ROOT := $(ROOT)/.tmp/sanity/ansible_collections/oomguard/linux
BUILD_DIR   := $(ROOT)/.tmp/build
PYTEST_ARGS ?=

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLL_PATH)
export ANSIBLE_CONFIG := $(ROOT)/tests/ansible.cfg
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0

.PHONY: help audit bootstrap lint sanity units integration minver changelog build test clean bench bench-image vm-image vm-smoke

help:  ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

$(VENV)/.stamp: requirements/test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/test.txt
	touch $@

$(COLL_LINK):
	mkdir -p $(dir $(COLL_LINK))
	ln -sfn $(ROOT) $(COLL_LINK)

bootstrap: $(VENV)/.stamp $(COLL_LINK)  ## Create the venv and the collections path

# The audit's own runtime: ansible-core only (requirements/audit.txt), apart from the test venv.
AUDIT_VENV  := $(ROOT)/.venv-audit

$(AUDIT_VENV)/.stamp: requirements/audit.txt
	@echo "audit: creating the runtime venv $(AUDIT_VENV) (ansible-core only, once; about a minute)"
	test -x $(AUDIT_VENV)/bin/python || $(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install --disable-pip-version-check --progress-bar on -r requirements/audit.txt
	touch $@

audit: $(AUDIT_VENV)/.stamp $(COLL_LINK)  ## Audit this machine's OOM risk; report in ./report/ (AUDIT_INVENTORY=, AUDIT_REPORT_DIR=, AUDIT_FAIL_ON=kills,drift)
	AUDIT_VENV=$(AUDIT_VENV) scripts/audit $(AUDIT_ARGS)

lint: bootstrap  ## yamllint and ansible-lint (production profile)
	yamllint -s .
	ansible-lint --offline
	$(BIN)/python scripts/role-readme --check

minver: bootstrap  ## Module code must run on the oldest target Python ansible-core supports (3.8)
	vermin --no-tips --violations --eval-annotations -t=3.8- plugins/modules plugins/module_utils

changelog: bootstrap  ## Lint the changelog fragments
	antsibull-changelog lint

sanity: bootstrap  ## ansible-test sanity, in a copy placed under ansible_collections/oomguard/linux
	command -v shellcheck >/dev/null || { apt-get update -qq && apt-get install -y -qq shellcheck >/dev/null; }
	scripts/ansible-test-prepare "$(SANITY_ROOT)"
	cd $(SANITY_ROOT) && ansible-test sanity --venv --python 3.11 --color no 2>&1 | tee $(ROOT)/.tmp/sanity.log
	! grep -q "All targets skipped" $(ROOT)/.tmp/sanity.log  # a sanity run that tested nothing is a failure

build: bootstrap  ## Build the collection tarball and check ansible-galaxy accepts it
	rm -rf $(BUILD_DIR) && mkdir -p $(BUILD_DIR)
	ansible-galaxy collection build --force --output-path $(BUILD_DIR) .
	ansible-galaxy collection install --force -p $(BUILD_DIR)/installed $(BUILD_DIR)/oomguard-linux-*.tar.gz
	ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR)/installed ansible-doc -l oomguard.linux >/dev/null

units: bootstrap  ## Unit tests only
	cd tests && pytest unit $(PYTEST_ARGS)

integration: bootstrap  ## Integration tests only (real /proc, real systemd test hosts, real swap)
	cd tests && pytest integration $(PYTEST_ARGS)

test: bootstrap lint minver changelog build sanity  ## Everything: lint, sanity, build, unit and integration tests
	cd tests && pytest --durations=12 unit integration vm $(PYTEST_ARGS)

# Benchmarks never run as tests. They need root (memory cgroups, 5,000 spawned processes) and a quiet machine; each prints
# its ratios and the load, and make bench fails when any target is missed (docs/performance.md). An existing venv is used
# as it is (no pip run); only a missing one is bootstrapped.
BENCHES := bench_module.py bench_fleet.py bench_kernel_log.py bench_oom_facts.py bench_oom_score_adj.py
bench: $(COLL_LINK)  ## Time the modules as Ansible runs them against ps/grep/ping, in one run (root; exit 1 on a missed target)
	test -x $(BIN)/python || $(MAKE) bootstrap
	status=0; for b in $(BENCHES); do echo "== benchmarks/$$b"; $(BIN)/python benchmarks/$$b || status=1; done; \
	echo "== benchmarks/bench_audit.py --skip-fleet"; $(BIN)/python benchmarks/bench_audit.py --skip-fleet || status=1; \
	exit $$status

bench-image:  ## Build (or reuse) the systemd test host image of the test bench
	scripts/testbench install
	scripts/testbench image

VM_SUITES ?= bookworm trixie
vm-image:  ## Build (or reuse) the qemu guest images, one per Debian suite (VM_SUITES=)
	for s in $(VM_SUITES); do scripts/vm image $$s; done

vm-smoke:  ## Boot one qemu guest per suite and print its kernel, systemd, cgroup2 memory, CAP_SYS_RESOURCE, -1000 line
	scripts/vm smoke $(VM_SUITES)

clean:  ## Remove build and test output (keeps the venv and the cached test image)
	rm -rf .tmp tests/output .pytest_cache tests/.pytest_cache
