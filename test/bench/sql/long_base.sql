-- Baseline of the long producer transaction: a plain INSERT, then 5 ms.
\set k random(1, 1000000000)
BEGIN;
INSERT INTO bench.base (stream_id, shard_index, seq, arrival, partition_key, data)
VALUES (1, 0, nextval('bench.base_seq'), clock_timestamp(), :k, :data);
SELECT pg_sleep(0.005);
COMMIT;
