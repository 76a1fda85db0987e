-- Issue 11: what a server keeps in memory (the people index, cached figures)
-- stays correct when another server writes.
-- register_version (登记册版本): one counter per register, bumped in the same
-- transaction as every write to it (laoxiao_store::versions); the row lock
-- orders the writers of one register, so versions follow commit order.
-- `rebuilt` is the version of the last bulk write (an import), after which
-- readers reload the register instead of patching it. The row '#database'
-- holds a random number naming this database, so that memory built from one
-- database is never reused for another.
CREATE TABLE register_version (
    register TEXT COLLATE "C" PRIMARY KEY,
    version BIGINT NOT NULL DEFAULT 0,
    rebuilt BIGINT NOT NULL DEFAULT 0
);
INSERT INTO register_version (register, version, rebuilt)
VALUES ('#database', CAST(floor(random() * 9007199254740991) AS BIGINT), 0);
-- A person row's change_seq is the person version of the write that last
-- changed it (0: written by a bulk load, which marks `rebuilt` instead), so
-- a server fetches only the rows changed since the version it has seen.
ALTER TABLE person ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX person_change_idx ON person (change_seq) WHERE change_seq > 0;
-- A city's service records by kind in list order (id): a page reads the
-- first ids of one kind, not every record of the kind sorted.
CREATE INDEX service_record_kind_id_idx ON service_record (kind, id);
