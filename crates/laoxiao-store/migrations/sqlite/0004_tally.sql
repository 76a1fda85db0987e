-- Analytics support for the console at city scale (1.15 M people).
--
-- 1. The people list walks one covering index in (area path, register, id)
--    order: a page and its count read the index only, whatever the filters.
--    The most varied column leads each index: building an index sorts its
--    keys, and keys that tie on a constant first column compare slowly.
-- 2. person_tally (人口统计汇总) counts live people by residence area, role,
--    status and year of birth, kept current by triggers, so that an area's
--    figures (60+, 80+, under 3) sum a few thousand tally rows instead of
--    scanning a million people; the one birth year that straddles an age
--    threshold is counted exactly through person_birth_idx.
DROP INDEX person_path_idx;
CREATE INDEX person_list_idx ON person (area_path, role, id, birth_date, status, ability_level,
    living_arrangement, dementia, special_difficulty, name) WHERE deleted_at IS NULL;
CREATE INDEX person_birth_idx ON person (birth_date) WHERE deleted_at IS NULL;

CREATE TABLE person_tally (
    area_path TEXT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (area_path, role, status, birth_year)
);
INSERT INTO person_tally (area_path, role, status, birth_year, n)
SELECT area_path, role, status, CAST(substr(birth_date, 1, 4) AS INTEGER), COUNT(*)
FROM person WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4;

CREATE TRIGGER person_tally_insert AFTER INSERT ON person WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO person_tally (area_path, role, status, birth_year, n)
    VALUES (NEW.area_path, NEW.role, NEW.status, CAST(substr(NEW.birth_date, 1, 4) AS INTEGER), 1)
    ON CONFLICT (area_path, role, status, birth_year) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER person_tally_update_old
AFTER UPDATE OF area_path, role, status, birth_date, deleted_at ON person WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE person_tally SET n = n - 1
    WHERE area_path = OLD.area_path AND role = OLD.role AND status = OLD.status
      AND birth_year = CAST(substr(OLD.birth_date, 1, 4) AS INTEGER);
END;
CREATE TRIGGER person_tally_update_new
AFTER UPDATE OF area_path, role, status, birth_date, deleted_at ON person WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO person_tally (area_path, role, status, birth_year, n)
    VALUES (NEW.area_path, NEW.role, NEW.status, CAST(substr(NEW.birth_date, 1, 4) AS INTEGER), 1)
    ON CONFLICT (area_path, role, status, birth_year) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER person_tally_delete AFTER DELETE ON person WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE person_tally SET n = n - 1
    WHERE area_path = OLD.area_path AND role = OLD.role AND status = OLD.status
      AND birth_year = CAST(substr(OLD.birth_date, 1, 4) AS INTEGER);
END;
