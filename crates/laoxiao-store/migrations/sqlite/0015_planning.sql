-- Issue 14: spatial planning (laoxiao_store::planning, laoxiao_rules::planning).
-- An imported resident grid (常住人口网格): cell centres or points with a
-- count, in WGS-84. When present it replaces the residents the analysis
-- estimates from the registers. One grid at a time: an import replaces it.
CREATE TABLE resident_grid (
    seq INTEGER PRIMARY KEY,
    lng REAL NOT NULL,
    lat REAL NOT NULL,
    residents REAL NOT NULL
);
-- Who loaded the grid, when, from what.
CREATE TABLE resident_grid_import (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    source TEXT NOT NULL,
    points BIGINT NOT NULL,
    residents REAL NOT NULL,
    cleared BOOLEAN NOT NULL DEFAULT 0
);
