-- Metrics: the seven shard-level metrics counted in shared memory, the
-- live view, the per-minute history, and EnableEnhancedMonitoring /
-- DisableEnhancedMonitoring.
\set VERBOSITY terse

SELECT kinesis.create_stream('mt', 2);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;

-- ---------------------------------------------------------------------
-- Enable / Disable
-- ---------------------------------------------------------------------
SELECT * FROM kinesis.enable_enhanced_monitoring(NULL, NULL);
SELECT * FROM kinesis.enable_enhanced_monitoring('mt', '{}');
SELECT * FROM kinesis.enable_enhanced_monitoring('mt', ARRAY['IncomingBytes', 'Bogus']);
SELECT * FROM kinesis.enable_enhanced_monitoring('no_such', ARRAY['ALL']);
SELECT * FROM kinesis.enable_enhanced_monitoring('mt', ARRAY['IncomingRecords', 'OutgoingRecords']);
SELECT * FROM kinesis.enable_enhanced_monitoring('mt', ARRAY['ALL']);
SELECT * FROM kinesis.disable_enhanced_monitoring('mt', ARRAY['IteratorAgeMilliseconds', 'IncomingBytes']);
SELECT (enhanced_monitoring[1]).shard_level_metrics FROM kinesis.describe_stream('mt');
SELECT kinesis.api('DisableEnhancedMonitoring', '{"StreamName": "mt", "ShardLevelMetrics": ["ALL"]}');
SELECT kinesis.api('EnableEnhancedMonitoring', '{"StreamName": "mt", "ShardLevelMetrics": ["IncomingRecords"]}');

-- ---------------------------------------------------------------------
-- Counting, live and per minute
-- ---------------------------------------------------------------------
SELECT count(*) FROM generate_series(1, 3) i,
       LATERAL kinesis.put_record('mt', convert_to('abcd' || i, 'UTF8'), 'k' || i, explicit_hash_key => '0') p;
SELECT count(*) FROM kinesis.put_records(
    ARRAY(SELECT ROW(convert_to('xy', 'UTF8'), '0', 'k')::kinesis.put_records_request_entry FROM generate_series(1, 4)), 'mt');
SELECT cardinality(records) FROM kinesis.get_records(kinesis.get_shard_iterator('mt', 'shardId-000000000000', 'TRIM_HORIZON'));
SELECT shard_id, incoming_records, incoming_bytes, outgoing_records, outgoing_bytes,
       write_provisioned_throughput_exceeded, read_provisioned_throughput_exceeded, iterator_age_milliseconds
  FROM kinesis.shard_metrics WHERE stream_name = 'mt' ORDER BY shard_id;
-- the roll-up runs once a minute; make this one due now, as if the minute had passed
DELETE FROM kinesis.maintenance_status WHERE task = 'metrics';
SELECT count(*) > 0 AS rolled_up FROM kinesis.run_maintenance() WHERE task = 'metrics' AND outcome = 'done';
-- stream totals always; shard rows only for IncomingRecords, the one enabled
SELECT shard_index, metric, value FROM kinesis.metrics_history h
  JOIN kinesis.stream_meta s USING (stream_id)
 WHERE s.stream_name = 'mt' AND h.value <> 0 ORDER BY 1, 2;
SELECT count(DISTINCT metric) AS stream_level_metrics FROM kinesis.metrics_history h
  JOIN kinesis.stream_meta s USING (stream_id) WHERE s.stream_name = 'mt' AND h.shard_index = -1;
SELECT kinesis.delete_stream('mt');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT count(*) AS history_left FROM kinesis.metrics_history;
