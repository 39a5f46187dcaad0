-- put_record: one record per transaction; random partition keys (spread
-- over the shards of a 16-shard stream, all in shard 0 of a 1-shard one).
\set k random(1, 1000000000)
SELECT 1 FROM kinesis.put_record(stream_name => :stream, data => :data, partition_key => :k);
