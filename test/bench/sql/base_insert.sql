-- Baseline of put_record: the same row into a plain table with a btree
-- primary key, the per-shard number from a sequence.
\set k random(1, 1000000000)
\set s :k % :shards
INSERT INTO bench.base (stream_id, shard_index, seq, arrival, partition_key, data)
VALUES (1, :s, nextval('bench.base_seq'), clock_timestamp(), :k, :data);
