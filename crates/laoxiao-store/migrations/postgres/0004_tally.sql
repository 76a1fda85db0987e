-- Analytics support for the console at city scale; see the SQLite twin of this
-- file for the reasons. One row trigger keeps person_tally (人口统计汇总) current.
DROP INDEX person_path_idx;
CREATE INDEX person_list_idx ON person (area_path, role, id, birth_date, status, ability_level,
    living_arrangement, dementia, special_difficulty, name) WHERE deleted_at IS NULL;
CREATE INDEX person_birth_idx ON person (birth_date) WHERE deleted_at IS NULL;

CREATE TABLE person_tally (
    area_path TEXT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    birth_year BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (area_path, role, status, birth_year)
);
INSERT INTO person_tally (area_path, role, status, birth_year, n)
SELECT area_path, role, status, CAST(substr(birth_date, 1, 4) AS BIGINT), COUNT(*)
FROM person WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4;

CREATE FUNCTION person_tally_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        UPDATE person_tally SET n = n - 1
        WHERE area_path = OLD.area_path AND role = OLD.role AND status = OLD.status
          AND birth_year = CAST(substr(OLD.birth_date, 1, 4) AS BIGINT);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.deleted_at IS NULL THEN
        INSERT INTO person_tally (area_path, role, status, birth_year, n)
        VALUES (NEW.area_path, NEW.role, NEW.status, CAST(substr(NEW.birth_date, 1, 4) AS BIGINT), 1)
        ON CONFLICT (area_path, role, status, birth_year) DO UPDATE SET n = person_tally.n + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER person_tally_trigger
AFTER INSERT OR DELETE OR UPDATE OF area_path, role, status, birth_date, deleted_at ON person
FOR EACH ROW EXECUTE FUNCTION person_tally_apply();
