-- Change capture with kinesis.capture_trigger(): every committed insert,
-- update and delete becomes one record, read back with get_shard_iterator
-- and get_records; rolled-back changes never appear.
\set VERBOSITY terse

-- Start from no streams at all (files that ran earlier may have left some).
DO $$ BEGIN PERFORM kinesis.delete_stream(stream_name) FROM kinesis.stream_meta; END $$;
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;

-- One shard, so the records come back in the order they were put.
SELECT kinesis.create_stream('changes', 1);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;

-- Everything in the stream from the start, as a consumer reads it.
CREATE FUNCTION read_changes(OUT n bigint, OUT partition_key text, OUT body jsonb)
RETURNS SETOF record LANGUAGE sql AS $$
    SELECT r.ordinality, r.partition_key, convert_from(r.data, 'UTF8')::jsonb
      FROM kinesis.get_shard_iterator('changes', 'shardId-000000000000', 'TRIM_HORIZON') AS it,
           kinesis.get_records(it.shard_iterator) AS g,
           unnest(g.records) WITH ORDINALITY AS r
     ORDER BY r.ordinality
$$;

-- ---------------------------------------------------------------------
-- A table with a primary key: the key values are the partition key
-- ---------------------------------------------------------------------
CREATE TABLE items (id integer PRIMARY KEY, name text, price numeric, added date);
CREATE TRIGGER items_capture AFTER INSERT OR UPDATE OR DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('changes');

INSERT INTO items VALUES (1, 'apple', 0.50, '2024-01-02'), (2, 'pear', 0.75, NULL);
UPDATE items SET price = 0.55 WHERE id = 1;
UPDATE items SET id = 3 WHERE id = 2;
DELETE FROM items WHERE id = 1;
SELECT n, partition_key, body - 'transaction_id' AS body FROM read_changes();
SELECT count(*) AS records,
       bool_and(body ->> 'transaction_id' ~ '^[0-9]+$') AS transaction_ids,
       count(DISTINCT body ->> 'transaction_id') AS transactions
  FROM read_changes();

-- a composite primary key, in the primary key's column order
CREATE TABLE order_lines (line integer, order_id integer, sku text, PRIMARY KEY (order_id, line));
CREATE TRIGGER order_lines_capture AFTER INSERT OR UPDATE OR DELETE ON order_lines
    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('changes');
INSERT INTO order_lines VALUES (1, 70, 'A-1'), (2, 70, 'B|2');
DELETE FROM order_lines WHERE line = 2;
SELECT n, partition_key, body - 'transaction_id' AS body FROM read_changes() WHERE n > 5;

-- ---------------------------------------------------------------------
-- A named partition key column (the table needs no primary key)
-- ---------------------------------------------------------------------
CREATE TABLE events (id integer, tenant text, score integer);
CREATE TRIGGER events_capture AFTER INSERT OR UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('changes', 'tenant');
INSERT INTO events VALUES (1, 'acme', 10);
UPDATE events SET tenant = 'globex' WHERE id = 1;   -- the key of the new row
DELETE FROM events WHERE id = 1;                    -- the key of the old row
-- a key AWS would refuse must not fail the write: NULL and '' become the
-- table's name, one over 256 characters its md5, 256 are kept as they are
INSERT INTO events VALUES (2, NULL, 20), (3, '', 30), (4, repeat('t', 257), 40), (5, repeat('u', 256), 50);
SELECT n, partition_key = md5(repeat('t', 257)) AS md5_of_key, length(partition_key) AS key_length,
       CASE WHEN length(partition_key) <= 40 THEN partition_key END AS key,
       body -> 'new' ->> 'id' AS id
  FROM read_changes() WHERE n > 8;
SELECT body - 'transaction_id' AS body FROM read_changes() WHERE n = 9;
-- the key is the value as it appears in the record: numbers, dates, ...
CREATE TABLE readings (sensor integer, taken date, value numeric);
CREATE TRIGGER readings_capture AFTER INSERT ON readings
    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('changes', 'taken');
INSERT INTO readings VALUES (7, '2024-03-04', 1.5);
SELECT n, partition_key, body -> 'new' AS new FROM read_changes() WHERE n > 15;

-- ---------------------------------------------------------------------
-- Transactions: one transaction id per transaction; rolled-back changes
-- are never read, whole transactions or savepoints
-- ---------------------------------------------------------------------
BEGIN;
INSERT INTO items VALUES (10, 'kiwi', 1, NULL);
INSERT INTO items VALUES (11, 'plum', 2, NULL);
COMMIT;
BEGIN;
INSERT INTO items VALUES (12, 'rolled back', 3, NULL);
UPDATE items SET name = 'rolled back too' WHERE id = 10;
ROLLBACK;
BEGIN;
INSERT INTO items VALUES (13, 'kept', 4, NULL);
SAVEPOINT s;
INSERT INTO items VALUES (14, 'undone', 5, NULL);
DELETE FROM items WHERE id = 11;
ROLLBACK TO SAVEPOINT s;
UPDATE items SET price = 4.5 WHERE id = 13;
COMMIT;
SELECT n, partition_key, body ->> 'operation' AS op, body -> 'new' ->> 'name' AS name,
       body -> 'new' ->> 'price' AS price
  FROM read_changes() WHERE n > 16;
SELECT count(DISTINCT body ->> 'transaction_id') AS transactions,
       count(*) AS records
  FROM read_changes() WHERE n > 16;
SELECT count(*) AS rolled_back_records
  FROM read_changes() WHERE body::text ~ 'rolled back|undone' OR body -> 'old' ->> 'id' = '11';
SELECT id, name, price FROM items ORDER BY id;

-- a partitioned table: the trigger fires for each partition's rows
CREATE TABLE measurements (id integer, region text, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE measurements_eu PARTITION OF measurements FOR VALUES IN ('eu');
CREATE TABLE measurements_us PARTITION OF measurements FOR VALUES IN ('us');
CREATE TRIGGER measurements_capture AFTER INSERT OR UPDATE OR DELETE ON measurements
    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('changes');
INSERT INTO measurements VALUES (1, 'eu'), (2, 'us');
SELECT n, partition_key, body ->> 'table' AS "table" FROM read_changes() WHERE n > 20;

-- ---------------------------------------------------------------------
-- Misuse is an error, and the write does not happen
-- ---------------------------------------------------------------------
CREATE TABLE no_pk (a integer, b text);
CREATE TRIGGER no_pk_capture AFTER INSERT ON no_pk
    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('changes');
INSERT INTO no_pk VALUES (1, 'x');
DROP TRIGGER no_pk_capture ON no_pk;
CREATE TRIGGER no_pk_capture AFTER INSERT ON no_pk
    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('changes', 'no_such_column');
INSERT INTO no_pk VALUES (2, 'y');
DROP TRIGGER no_pk_capture ON no_pk;
CREATE TRIGGER no_pk_capture AFTER INSERT ON no_pk
    FOR EACH STATEMENT EXECUTE FUNCTION kinesis.capture_trigger('changes', 'a');
INSERT INTO no_pk VALUES (3, 'z');
DROP TRIGGER no_pk_capture ON no_pk;
CREATE TRIGGER no_pk_capture BEFORE INSERT ON no_pk
    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('changes', 'a');
INSERT INTO no_pk VALUES (4, 'w');
DROP TRIGGER no_pk_capture ON no_pk;
CREATE TRIGGER no_pk_capture AFTER INSERT ON no_pk
    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger();
INSERT INTO no_pk VALUES (5, 'v');
DROP TRIGGER no_pk_capture ON no_pk;
CREATE TRIGGER no_pk_capture AFTER INSERT ON no_pk
    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('changes', 'a', 'b');
INSERT INTO no_pk VALUES (6, 'u');
DROP TRIGGER no_pk_capture ON no_pk;
CREATE TRIGGER no_pk_capture AFTER TRUNCATE ON no_pk
    FOR EACH STATEMENT EXECUTE FUNCTION kinesis.capture_trigger('changes', 'a');
TRUNCATE no_pk;
DROP TRIGGER no_pk_capture ON no_pk;
-- the stream must exist
CREATE TRIGGER no_pk_capture AFTER INSERT ON no_pk
    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('no_such_stream', 'a');
INSERT INTO no_pk VALUES (7, 't');
DROP TRIGGER no_pk_capture ON no_pk;
SELECT count(*) AS rows_written FROM no_pk;
SELECT count(*) AS records FROM read_changes();

SELECT obj_description('kinesis.capture_trigger()'::regprocedure, 'pg_proc') IS NOT NULL AS documented;

DROP TABLE items, order_lines, events, readings, measurements, no_pk;
DROP FUNCTION read_changes();
SELECT kinesis.delete_stream('changes');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
