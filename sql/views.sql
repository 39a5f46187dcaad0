-- The views: kinesis.streams, kinesis.shards and kinesis.stream_records.
\set VERBOSITY terse

-- Start from no streams at all (files that ran earlier may have left some).
DO $$ BEGIN PERFORM kinesis.delete_stream(stream_name) FROM kinesis.stream_meta; END $$;
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;

-- their columns, and who may read them
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = 'kinesis'::regnamespace
   AND c.relname IN ('streams', 'shards', 'stream_records') AND a.attnum > 0
 ORDER BY c.relname, a.attnum;
SELECT v AS view, has_table_privilege('public', v, 'SELECT') AS public_select,
       has_table_privilege('public', v, 'INSERT') AS public_insert,
       obj_description(v::regclass, 'pg_class') IS NOT NULL AS documented
  FROM unnest(ARRAY['kinesis.streams', 'kinesis.shards', 'kinesis.stream_records']) AS v;

SELECT kinesis.create_stream('v_two', 2);
SELECT kinesis.create_stream('v_one', 1);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;

-- ---------------------------------------------------------------------
-- kinesis.streams
-- ---------------------------------------------------------------------
SELECT stream_name, stream_arn, stream_status, retention_period_hours, encryption_type, key_id,
       shard_count, open_shard_count
  FROM kinesis.streams ORDER BY stream_name;
-- the same facts as DescribeStreamSummary
SELECT v.stream_name,
       (v.stream_arn, v.stream_status, v.retention_period_hours, v.stream_creation_timestamp,
        v.encryption_type, v.key_id, v.open_shard_count)
       IS NOT DISTINCT FROM
       (d.stream_arn, d.stream_status, d.retention_period_hours, d.stream_creation_timestamp,
        d.encryption_type, d.key_id, d.open_shard_count) AS same_as_summary
  FROM kinesis.streams v, kinesis.describe_stream_summary(v.stream_name) d
 ORDER BY 1;

-- ---------------------------------------------------------------------
-- kinesis.shards
-- ---------------------------------------------------------------------
SELECT stream_name, shard_id, shard_index, parent_shard_id, adjacent_parent_shard_id,
       starting_hash_key, ending_hash_key, length(starting_sequence_number) AS start_len,
       ending_sequence_number, is_open, closed_at
  FROM kinesis.shards ORDER BY stream_name, shard_index;
SELECT count(*) AS shards,
       count(*) FILTER (WHERE h.created_at >= s.stream_creation_timestamp) AS created_after_stream
  FROM kinesis.shards h JOIN kinesis.streams s USING (stream_name);
-- the same shards as DescribeStream, and hash keys that compare as numbers
SELECT v.stream_name,
       array_agg(ROW(v.shard_id, v.parent_shard_id, v.adjacent_parent_shard_id,
                     ROW(v.starting_hash_key::text, v.ending_hash_key::text)::kinesis.hash_key_range,
                     ROW(v.starting_sequence_number, v.ending_sequence_number)::kinesis.sequence_number_range
                    )::kinesis.shard ORDER BY v.shard_index)
         = (SELECT shards FROM kinesis.describe_stream(v.stream_name)) AS same_as_describe
  FROM kinesis.shards v GROUP BY v.stream_name ORDER BY 1;
SELECT shard_id FROM kinesis.shards
 WHERE stream_name = 'v_two' AND kinesis.hash_key('some key') BETWEEN starting_hash_key AND ending_hash_key;

-- ---------------------------------------------------------------------
-- kinesis.stream_records
-- ---------------------------------------------------------------------
CREATE TEMP TABLE puts AS
SELECT i, s.stream, p.*
  FROM generate_series(1, 12) AS i,
       LATERAL (SELECT CASE WHEN i % 3 = 0 THEN 'v_one' ELSE 'v_two' END AS stream) s,
       LATERAL kinesis.put_record(s.stream, convert_to('record ' || i, 'UTF8'), 'key-' || i) p;
SELECT stream_name, shard_id, count(*) AS records FROM kinesis.stream_records
 GROUP BY 1, 2 ORDER BY 1, 2;
-- each record under the shard and sequence number put_record reported
-- (sequence numbers are unique within a shard only: streams created in the
-- same second number their first shards alike)
SELECT count(*) AS puts,
       count(r.sequence_number) AS found,
       count(*) FILTER (WHERE r.partition_key = 'key-' || p.i
                          AND convert_from(r.data, 'UTF8') = 'record ' || p.i) AS matching
  FROM puts p
  LEFT JOIN kinesis.stream_records r
    ON r.stream_name = p.stream AND r.shard_id = p.shard_id AND r.sequence_number = p.sequence_number;
-- within a shard, sequence numbers follow the order of the puts
SELECT bool_and(prev IS NULL OR sequence_number::numeric > prev) AS increasing
  FROM (SELECT sequence_number,
               lag(sequence_number::numeric) OVER (PARTITION BY stream, shard_id ORDER BY i) AS prev
          FROM puts) p;
SELECT bool_and(length(sequence_number) = 56) AS len56,
       bool_and(approximate_arrival_timestamp BETWEEN now() - interval '10 minutes' AND clock_timestamp()) AS arrived_recently
  FROM kinesis.stream_records;
-- and what GetRecords returns, record for record
SELECT count(*) AS read_back
  FROM kinesis.shards h,
       kinesis.get_shard_iterator(h.stream_name, h.shard_id, 'TRIM_HORIZON') AS it,
       kinesis.get_records(it.shard_iterator) AS g,
       unnest(g.records) AS r
  JOIN kinesis.stream_records v
    ON v.sequence_number = r.sequence_number
   AND v.approximate_arrival_timestamp = r.approximate_arrival_timestamp
   AND v.partition_key = r.partition_key AND v.data = r.data
 WHERE v.stream_name = h.stream_name AND v.shard_id = h.shard_id;

-- the caller's snapshot: its own uncommitted puts, nothing once rolled back
BEGIN;
SELECT shard_id FROM kinesis.put_record('v_one', 'pending', 'pk');
SELECT convert_from(data, 'UTF8') AS data FROM kinesis.stream_records
 WHERE stream_name = 'v_one' AND partition_key = 'pk';
ROLLBACK;
SELECT count(*) AS after_rollback FROM kinesis.stream_records WHERE partition_key = 'pk';

-- records past the stream's retention period are not shown
UPDATE kinesis.records SET arrival = arrival - interval '25 hours'
 WHERE (stream_id, shard_index, seq) = (SELECT r.stream_id, r.shard_index, min(r.seq)
                                          FROM kinesis.records r JOIN kinesis.stream_meta s USING (stream_id)
                                         WHERE s.stream_name = 'v_one' GROUP BY 1, 2);
SELECT stream_name, count(*) AS records FROM kinesis.stream_records GROUP BY 1 ORDER BY 1;

-- a deleted stream leaves no rows behind in any view
SELECT kinesis.delete_stream('v_two');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT (SELECT count(*) FROM kinesis.streams WHERE stream_name = 'v_two') AS streams,
       (SELECT count(*) FROM kinesis.shards WHERE stream_name = 'v_two') AS shards,
       (SELECT count(*) FROM kinesis.stream_records WHERE stream_name = 'v_two') AS records;

SELECT kinesis.delete_stream('v_one');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT (SELECT count(*) FROM kinesis.streams) AS streams,
       (SELECT count(*) FROM kinesis.shards) AS shards,
       (SELECT count(*) FROM kinesis.stream_records) AS records;
