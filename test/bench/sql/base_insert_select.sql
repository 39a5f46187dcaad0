-- Baseline of put_records: one INSERT ... SELECT of 500 rows.
INSERT INTO bench.base (stream_id, shard_index, seq, arrival, partition_key, data)
SELECT 1, floor(random() * :shards)::int, nextval('bench.base_seq'), clock_timestamp(),
       (random() * 1e9)::int::text, :data::bytea
  FROM generate_series(1, 500);
