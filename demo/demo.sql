-- kinesis demo: capture row changes of an ordinary table into a stream, then
-- read them back shard by shard like a Kinesis consumer.
-- demo/run.sh runs this with psql -v ON_ERROR_STOP=1 against a fresh cluster.

\set QUIET on
\pset pager off
\pset null '(null)'

\echo
\echo '== 1. Create the extension and a stream with two shards'
CREATE EXTENSION kinesis;
SELECT * FROM kinesis.create_stream(stream_name => 'orders', shard_count => 2);
\echo '   the stream is CREATING until the maintenance worker makes it ACTIVE'
SELECT stream_name, stream_status FROM kinesis.streams;
SELECT kinesis.wait_for_stream('orders');
SELECT stream_name, stream_status FROM kinesis.streams;
SELECT stream_name, shard_id FROM kinesis.shards WHERE stream_name = 'orders' ORDER BY shard_id;

\echo
\echo '== 2. An ordinary table whose row changes go to the stream'
\echo '   (trigger arguments: stream name, partition-key column)'
CREATE TABLE orders (
    id       serial PRIMARY KEY,
    customer text NOT NULL,
    amount   numeric NOT NULL
);
CREATE TRIGGER orders_capture
    AFTER INSERT OR UPDATE OR DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION kinesis.capture_trigger('orders', 'customer');

\echo
\echo '== 3. Change some rows'
\echo '   transaction 1: three new orders'
BEGIN;
INSERT INTO orders (customer, amount) VALUES ('alice', 10.50);
INSERT INTO orders (customer, amount) VALUES ('bob', 99.00);
INSERT INTO orders (customer, amount) VALUES ('carol', 5.25);
COMMIT;

\echo '   transaction 2: alice changes her order, carol cancels hers'
BEGIN;
UPDATE orders SET amount = 12.00 WHERE customer = 'alice';
DELETE FROM orders WHERE customer = 'carol';
COMMIT;

\echo '   transaction 3: an order for mallory, then ROLLBACK (must never reach the stream)'
BEGIN;
INSERT INTO orders (customer, amount) VALUES ('mallory', 1000000);
UPDATE orders SET amount = 0 WHERE customer = 'bob';
ROLLBACK;

\echo '   transaction 4: bob orders again (autocommit)'
INSERT INTO orders (customer, amount) VALUES ('bob', 7.00);

\echo
\echo 'The table now holds:'
SELECT id, customer, amount FROM orders ORDER BY id;

\echo
\echo '== 4. Consume: for each shard, an iterator at TRIM_HORIZON, then GetRecords'
CREATE TEMP TABLE consumed AS
SELECT s.shard_id,
       r.sequence_number,
       r.partition_key,
       convert_from(r.data, 'UTF8')::jsonb AS event
FROM kinesis.shards s
CROSS JOIN LATERAL kinesis.get_shard_iterator(
        stream_name => s.stream_name,
        shard_id => s.shard_id,
        shard_iterator_type => 'TRIM_HORIZON') i
CROSS JOIN LATERAL kinesis.get_records(shard_iterator => i.shard_iterator) g
CROSS JOIN LATERAL unnest(g.records) r
WHERE s.stream_name = 'orders';

\echo
\echo 'What the consumer read (per shard, in sequence-number order):'
SELECT shard_id, sequence_number, partition_key, event
FROM consumed
ORDER BY shard_id, length(sequence_number), sequence_number;

\echo
\echo 'The same events, one column per field:'
SELECT shard_id,
       event->>'operation' AS operation,
       event->>'table' AS "table",
       coalesce(event->'new'->>'customer', event->'old'->>'customer') AS customer,
       event->'old'->>'amount' AS old_amount,
       event->'new'->>'amount' AS new_amount,
       event->>'transaction_id' AS transaction_id
FROM consumed
ORDER BY shard_id, length(sequence_number), sequence_number;

\echo
\echo '== 5. Checks'
CREATE TEMP VIEW rolled_back AS
SELECT * FROM consumed
WHERE event::text LIKE '%mallory%'                      -- the rolled-back INSERT
   OR (event->'new'->>'amount')::numeric = 0;           -- the rolled-back UPDATE
SELECT (SELECT count(*) FROM consumed) AS events_read,
       (SELECT count(*) FROM rolled_back) AS rolled_back_events_read,
       (SELECT count(DISTINCT event->>'transaction_id') FROM consumed) AS transactions_seen;

-- Fail the demo (psql exits non-zero) if the stream does not hold exactly the
-- six committed row changes, or if anything of the rolled-back transaction
-- got through.
DO $$
DECLARE
    n_events   bigint;
    n_rollback bigint;
BEGIN
    SELECT count(*) INTO n_events FROM consumed;
    SELECT count(*) INTO n_rollback FROM rolled_back;
    IF n_rollback <> 0 THEN
        RAISE EXCEPTION 'the rolled-back transaction reached the stream (% events)', n_rollback;
    END IF;
    IF n_events <> 6 THEN
        RAISE EXCEPTION 'expected 6 committed row changes in the stream, read %', n_events;
    END IF;
END
$$;
\echo 'ok: the consumer read the 6 committed row changes and nothing of the rolled-back transaction'
