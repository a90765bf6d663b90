# SPDX-License-Identifier: GPL-3.0-or-later
"""Test bench fixtures: oomkill (see docs/testbench.md)."""
from __future__ import annotations
