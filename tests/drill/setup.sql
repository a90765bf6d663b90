-- SPDX-License-Identifier: GPL-3.0-or-later
-- Copyright (c) 2026, oomguard.linux contributors
-- The drill's table: one 700-byte row per 8 kB page (fillfactor 10), 26,000 pages = 203 MB, more than the
-- 192 MB of shared_buffers, so pg_prewarm fills every buffer. No autovacuum: no other backend touches it.
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
DROP TABLE IF EXISTS drill;
CREATE TABLE drill WITH (fillfactor = 10, autovacuum_enabled = false) AS
    SELECT g AS id, repeat('x', 700) AS pad FROM generate_series(1, 26000) AS g;
SELECT pg_size_pretty(pg_relation_size('drill'));
