-- Long producer transaction: the put stays in flight for 5 ms.
\set k random(1, 1000000000)
BEGIN;
SELECT 1 FROM kinesis.put_record(stream_name => :stream, data => :data, partition_key => :k);
SELECT pg_sleep(0.005);
COMMIT;
