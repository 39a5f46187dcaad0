-- Per-shard throughput limits (kinesis.enforce_throughput_limits): writes
-- 1,000 records and 1 MiB a second, reads 5 calls and 2 MiB a second.
-- Over them, put_record and get_records fail with
-- ProvisionedThroughputExceededException, and put_records fails only the
-- entries over the limit and stores the others in order.  Each check below
-- leaves a wide margin against the buckets refilling between statements.
\set VERBOSITY terse

SELECT kinesis.create_stream('th', 2);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SHOW kinesis.enforce_throughput_limits;

-- off (the default): 2 MiB into one shard at once is fine
SELECT failed_record_count FROM kinesis.put_records(
    ARRAY(SELECT ROW(convert_to(repeat('x', 4000), 'UTF8'), '0', 'k')::kinesis.put_records_request_entry
            FROM generate_series(1, 500)), 'th');

SET kinesis.enforce_throughput_limits = on;
-- 500 entries of 3,000 bytes to one shard: about 1 MiB fits, the rest fails
CREATE TEMP TABLE r AS
SELECT x.* FROM kinesis.put_records(
    ARRAY(SELECT ROW(convert_to(lpad(i::text, 3000, '0'), 'UTF8'), '0', 'k')::kinesis.put_records_request_entry
            FROM generate_series(1, 500) i), 'th') p,
    unnest(p.records) WITH ORDINALITY AS x(sequence_number, shard_id, error_code, error_message, o);
SELECT count(*) FILTER (WHERE error_code IS NULL) BETWEEN 300 AND 400 AS about_1mib_stored,
       count(*) FILTER (WHERE error_code IS NOT NULL) > 0 AS some_failed,
       -- the full bucket takes the first 300 at least (the bucket refills
       -- while the call runs, so a later entry may still fit now and then)
       min(o) FILTER (WHERE error_code IS NOT NULL) > 300 AS first_300_stored,
       bool_and((sequence_number IS NULL AND shard_id IS NULL) = (error_code IS NOT NULL)) AS shapes
  FROM r;
-- the stored ones keep their request order
SELECT bool_and(seq > prev) AS stored_in_request_order
  FROM (SELECT sequence_number::numeric AS seq, lag(sequence_number::numeric) OVER (ORDER BY o) AS prev
          FROM r WHERE error_code IS NULL) s
 WHERE prev IS NOT NULL;
SELECT DISTINCT error_code, error_message FROM r WHERE error_code IS NOT NULL;
-- the other shard has its own limits
SELECT shard_id FROM kinesis.put_record('th', convert_to(repeat('y', 500000), 'UTF8'), 'k',
                                        explicit_hash_key => '340282366920938463463374607431768211455');
-- this one's bytes are used up: a record of 500 KB does not fit
SELECT shard_id FROM kinesis.put_record('th', convert_to(repeat('y', 500000), 'UTF8'), 'k', explicit_hash_key => '0');
-- through kinesis.api(), the failed entries as AWS reports them
SELECT j -> 'FailedRecordCount' AS failed, j #> '{Records,0}' AS entry
  FROM kinesis.api('PutRecords', jsonb_build_object('StreamName', 'th', 'Records',
         jsonb_build_array(jsonb_build_object(
             'Data', replace(encode(convert_to(repeat('z', 600000), 'UTF8'), 'base64'), E'\n', ''),
             'PartitionKey', 'k', 'ExplicitHashKey', '0')))) j;

-- reads: five calls a second per shard
SELECT kinesis.get_shard_iterator('th', 'shardId-000000000001', 'LATEST') AS it \gset
SELECT set_config('th.it', :'it', false) IS NOT NULL AS set;
DO $$
BEGIN
    FOR i IN 1 .. 5 LOOP
        PERFORM kinesis.get_records(current_setting('th.it'));
    END LOOP;
END $$;
SELECT cardinality(records) FROM kinesis.get_records(:'it');
SELECT pg_sleep(0.5);
SELECT cardinality(records) FROM kinesis.get_records(:'it');

RESET kinesis.enforce_throughput_limits;
SELECT cardinality(records) FROM kinesis.get_records(:'it');
SELECT kinesis.delete_stream('th');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
