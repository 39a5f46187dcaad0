-- Stand-ins for the boto3 client-side helpers: the stream_exists and
-- stream_not_exists waiters, and the describe_stream, list_streams and
-- list_shards paginators.
\set VERBOSITY terse

DO $$ BEGIN PERFORM kinesis.delete_stream(stream_name) FROM kinesis.stream_meta; END $$;
SELECT count(*) >= 0 AS cleaned FROM kinesis.run_maintenance();

-- ---------------------------------------------------------------------
-- Waiters
-- ---------------------------------------------------------------------
SELECT kinesis.create_stream('hw', 2);
-- right after create_stream in the same transaction: it could never see ACTIVE
BEGIN;
SELECT kinesis.create_stream('hw_same_tx', 1);
SELECT kinesis.wait_for_stream_exists('hw_same_tx', '0', 1);
ROLLBACK;
-- nothing runs maintenance here (the suite runs without the worker)
SELECT kinesis.wait_for_stream_exists('hw', '10 ms', 3);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT kinesis.wait_for_stream_exists('hw', '10 ms', 3);
-- a snapshot that never moves could not see a change either
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT kinesis.wait_for_stream_exists('hw');
ROLLBACK;
SELECT kinesis.wait_for_stream_exists('hw', NULL, 1);
SELECT kinesis.wait_for_stream_exists('hw', '1 s', 0);
SELECT kinesis.wait_for_stream_not_exists('never_created', '0', 1);
SELECT kinesis.wait_for_stream_not_exists('hw', '0', 2);
BEGIN;
SELECT kinesis.delete_stream('hw');
SELECT kinesis.wait_for_stream_not_exists('hw', '0', 1);
ROLLBACK;
SELECT kinesis.delete_stream('hw');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT kinesis.wait_for_stream_not_exists('hw', '0', 1);

-- ---------------------------------------------------------------------
-- Paginators
-- ---------------------------------------------------------------------
DO $$
BEGIN
    FOR i IN 1 .. 23 LOOP
        PERFORM kinesis.create_stream('hp_' || lpad(i::text, 2, '0'), CASE WHEN i = 1 THEN 150 ELSE 1 END);
        PERFORM kinesis.run_maintenance();
    END LOOP;
END $$;
-- ListStreams pages 10 names by default; the paginator returns them all, in order
SELECT cardinality(stream_names), has_more_streams FROM kinesis.list_streams();
SELECT count(*), min(s), max(s), bool_and(s > coalesce(prev, '')) AS in_order
  FROM (SELECT s, lag(s) OVER () AS prev FROM kinesis.list_all_streams() s) x;
-- DescribeStream pages 100 shards; ListShards 1000 (and follows tokens)
SELECT cardinality(shards), has_more_shards FROM kinesis.describe_stream('hp_01');
SELECT count(*), count(DISTINCT shard_id), min(shard_id), max(shard_id)
  FROM kinesis.describe_stream_all_shards('hp_01');
SELECT count(*), count(DISTINCT shard_id) FROM kinesis.list_all_shards('hp_01');
-- smaller pages, so that the tokens are followed
SELECT count(*), count(DISTINCT shard_id) FROM kinesis.list_all_shards('hp_01', 7);
SELECT count(*), count(DISTINCT shard_id) FROM kinesis.describe_stream_all_shards('hp_01', 7);
SELECT count(*) FROM kinesis.list_all_streams(3);
SELECT count(*) FROM kinesis.list_all_shards('hp_02');
SELECT * FROM kinesis.list_all_shards('no_such');
SELECT * FROM kinesis.describe_stream_all_shards('no_such');

DO $$ BEGIN PERFORM kinesis.delete_stream(stream_name) FROM kinesis.stream_meta; END $$;
SELECT count(*) >= 0 AS cleaned FROM kinesis.run_maintenance();
SELECT count(*) AS streams_left FROM kinesis.list_all_streams();
