# SPDX-License-Identifier: GPL-3.0-or-later
"""Test bench fixtures: bench (see docs/testbench.md)."""
from __future__ import annotations
