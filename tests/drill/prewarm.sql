-- SPDX-License-Identifier: GPL-3.0-or-later
-- Copyright (c) 2026, oomguard.linux contributors
-- Run by drill-session.service: load the whole table into shared_buffers and report how many blocks that was.
SELECT pg_prewarm('drill');
