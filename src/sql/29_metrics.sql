-- Metrics: the seven CloudWatch shard-level metrics, counted in shared
-- memory on the hot path (no table write per put or get), shown live by
-- kinesis.shard_metrics, rolled up per minute by maintenance into
-- kinesis.metrics_history; EnableEnhancedMonitoring and
-- DisableEnhancedMonitoring choose which shard-level metrics the history
-- keeps (stream totals are kept always, as CloudWatch has them).

CREATE FUNCTION kinesis._shard_metrics(OUT stream_id integer, OUT shard_index integer,
                                       OUT incoming_records bigint, OUT incoming_bytes bigint,
                                       OUT outgoing_records bigint, OUT outgoing_bytes bigint,
                                       OUT write_provisioned_throughput_exceeded bigint,
                                       OUT read_provisioned_throughput_exceeded bigint,
                                       OUT iterator_age_milliseconds bigint)
RETURNS SETOF record
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'kinesis_shard_metrics';
COMMENT ON FUNCTION kinesis._shard_metrics() IS
    'Internal: the shard counters in shared memory, since each shard''s entry was made (server start or reuse).';

CREATE VIEW kinesis.shard_metrics AS
SELECT s.stream_name, 'shardId-' || lpad(m.shard_index::text, 12, '0') AS shard_id,
       m.incoming_records, m.incoming_bytes, m.outgoing_records, m.outgoing_bytes,
       m.write_provisioned_throughput_exceeded, m.read_provisioned_throughput_exceeded,
       m.iterator_age_milliseconds
  FROM kinesis._shard_metrics() m
  JOIN kinesis.stream_meta s ON s.stream_id = m.stream_id
 WHERE kinesis.is_authorized('DescribeStreamSummary', s.stream_name);
COMMENT ON VIEW kinesis.shard_metrics IS
    'Live shard metrics of this database''s streams that the caller may describe: totals since the server started (or the shard''s shared entry was reused), and the iterator age of the latest read. kinesis.metrics_history has them per minute.';
GRANT SELECT ON kinesis.shard_metrics TO PUBLIC;

CREATE FUNCTION kinesis._metric_names()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ARRAY['IncomingBytes', 'IncomingRecords', 'OutgoingBytes', 'OutgoingRecords',
                 'WriteProvisionedThroughputExceeded', 'ReadProvisionedThroughputExceeded',
                 'IteratorAgeMilliseconds']
$$;
COMMENT ON FUNCTION kinesis._metric_names() IS
    'Internal: the seven shard-level metrics, in AWS''s order.';

CREATE TYPE kinesis.enhanced_monitoring_output AS (
    stream_name                 text,
    current_shard_level_metrics text[],
    desired_shard_level_metrics text[],
    stream_arn                  text
);
COMMENT ON TYPE kinesis.enhanced_monitoring_output IS
    'The EnableEnhancedMonitoring and DisableEnhancedMonitoring response.';

CREATE FUNCTION kinesis._change_monitoring(stream_name text, shard_level_metrics text[], enable boolean)
RETURNS kinesis.enhanced_monitoring_output
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    errors text[] := '{}';
    s kinesis.stream_meta;
    wanted text[];
    desired text[];
    shown text := '[' || array_to_string(shard_level_metrics, ', ', 'null') || ']';
BEGIN
    IF shard_level_metrics IS NULL THEN
        errors := errors || 'Value null at ''shardLevelMetrics'' failed to satisfy constraint: Member must not be null'::text;
    ELSE
        IF cardinality(shard_level_metrics) < 1 THEN
            errors := errors || format('Value ''%s'' at ''shardLevelMetrics'' failed to satisfy constraint: Member must have length greater than or equal to 1', shown);
        ELSIF cardinality(shard_level_metrics) > 7 THEN
            errors := errors || format('Value ''%s'' at ''shardLevelMetrics'' failed to satisfy constraint: Member must have length less than or equal to 7', shown);
        END IF;
        IF EXISTS (SELECT 1 FROM unnest(shard_level_metrics) m
                    WHERE m IS NULL OR NOT (m = ANY (kinesis._metric_names() || 'ALL'::text))) THEN
            errors := errors || format('Value ''%s'' at ''shardLevelMetrics'' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [IncomingBytes, OutgoingRecords, IteratorAgeMilliseconds, IncomingRecords, ReadProvisionedThroughputExceeded, WriteProvisionedThroughputExceeded, OutgoingBytes, ALL]]', shown);
        END IF;
    END IF;
    errors := errors || kinesis._validate_stream_name(stream_name);
    PERFORM kinesis._raise_validation(errors);

    s := kinesis._active_stream(stream_name);
    wanted := CASE WHEN 'ALL' = ANY (shard_level_metrics) THEN kinesis._metric_names()
                   ELSE shard_level_metrics END;
    -- kept in AWS's order of the seven
    desired := ARRAY(SELECT m FROM unnest(kinesis._metric_names()) WITH ORDINALITY AS x(m, o)
                      WHERE CASE WHEN enable THEN m = ANY (s.enhanced_monitoring) OR m = ANY (wanted)
                                 ELSE m = ANY (s.enhanced_monitoring) AND NOT m = ANY (wanted) END
                      ORDER BY o);
    UPDATE kinesis.stream_meta m SET enhanced_monitoring = desired WHERE m.stream_id = s.stream_id;
    RETURN ROW(stream_name, s.enhanced_monitoring, desired, kinesis.stream_arn(stream_name))
           ::kinesis.enhanced_monitoring_output;
END
$$;
COMMENT ON FUNCTION kinesis._change_monitoring(text, text[], boolean) IS
    'Internal: EnableEnhancedMonitoring and DisableEnhancedMonitoring (ALL stands for the seven).';

CREATE FUNCTION kinesis.enable_enhanced_monitoring(stream_name text, shard_level_metrics text[])
RETURNS kinesis.enhanced_monitoring_output
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT kinesis._change_monitoring(stream_name, shard_level_metrics, true)
$$;
COMMENT ON FUNCTION kinesis.enable_enhanced_monitoring(text, text[]) IS
    'EnableEnhancedMonitoring: keep these shard-level metrics (or ALL) in the per-minute history; returns the metrics before and after.';

CREATE FUNCTION kinesis.disable_enhanced_monitoring(stream_name text, shard_level_metrics text[])
RETURNS kinesis.enhanced_monitoring_output
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT kinesis._change_monitoring(stream_name, shard_level_metrics, false)
$$;
COMMENT ON FUNCTION kinesis.disable_enhanced_monitoring(text, text[]) IS
    'DisableEnhancedMonitoring: stop keeping these shard-level metrics (or ALL); returns the metrics before and after.';

CREATE FUNCTION kinesis._task_metrics(sid integer, OUT outcome text, OUT detail text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s kinesis.stream_meta;
    now_minute timestamptz := date_trunc('minute', clock_timestamp());
    n integer;
BEGIN
    SELECT * INTO s FROM kinesis.stream_meta m WHERE m.stream_id = sid;
    IF NOT FOUND THEN
        outcome := 'nothing to do';
        RETURN;
    END IF;
    -- the counters now, one row per shard and metric; the amounts since
    -- the last snapshot (all of it after a reset; the iterator age is a
    -- level, not an amount); stream totals always, shard rows for the
    -- metrics enabled; then the new snapshot
    WITH now_c AS (
        SELECT m.shard_index, x.metric, x.value
          FROM kinesis._shard_metrics() m,
               LATERAL (VALUES ('IncomingRecords', m.incoming_records), ('IncomingBytes', m.incoming_bytes),
                               ('OutgoingRecords', m.outgoing_records), ('OutgoingBytes', m.outgoing_bytes),
                               ('WriteProvisionedThroughputExceeded', m.write_provisioned_throughput_exceeded),
                               ('ReadProvisionedThroughputExceeded', m.read_provisioned_throughput_exceeded),
                               ('IteratorAgeMilliseconds', m.iterator_age_milliseconds)) AS x(metric, value)
         WHERE m.stream_id = sid),
    delta AS (
        SELECT c.shard_index, c.metric,
               CASE WHEN c.metric = 'IteratorAgeMilliseconds' OR p.value IS NULL OR c.value < p.value
                    THEN c.value ELSE c.value - p.value END AS value
          FROM now_c c
          LEFT JOIN kinesis.metrics_snapshot p
            ON p.stream_id = sid AND p.shard_index = c.shard_index AND p.metric = c.metric),
    history AS (
        INSERT INTO kinesis.metrics_history AS h (minute, stream_id, shard_index, metric, value)
        SELECT now_minute, sid, -1, d.metric,
               CASE WHEN d.metric = 'IteratorAgeMilliseconds' THEN max(d.value) ELSE sum(d.value) END
          FROM delta d GROUP BY d.metric
        UNION ALL
        SELECT now_minute, sid, d.shard_index, d.metric, d.value
          FROM delta d WHERE d.metric = ANY (s.enhanced_monitoring)
        ON CONFLICT ON CONSTRAINT metrics_history_pkey DO UPDATE
           SET value = CASE WHEN h.metric = 'IteratorAgeMilliseconds' THEN excluded.value
                            ELSE h.value + excluded.value END
        RETURNING 1),
    snapshot AS (
        INSERT INTO kinesis.metrics_snapshot AS p (stream_id, shard_index, metric, value, taken_at)
        SELECT sid, c.shard_index, c.metric, c.value, clock_timestamp() FROM now_c c
        ON CONFLICT ON CONSTRAINT metrics_snapshot_pkey DO UPDATE
           SET value = excluded.value, taken_at = excluded.taken_at
        RETURNING 1)
    SELECT (SELECT count(*) FROM history) INTO n
      FROM (SELECT count(*) FROM snapshot) x;
    -- bounded history
    DELETE FROM kinesis.metrics_history h
     WHERE h.stream_id = sid
       AND h.minute < clock_timestamp() - current_setting('kinesis.metrics_retention')::interval;
    outcome := 'done';
    detail := format('%s rows for %s', n, to_char(now_minute, 'YYYY-MM-DD HH24:MI'));
END
$$;
COMMENT ON FUNCTION kinesis._task_metrics(integer) IS
    'Internal: roll the stream''s shared-memory counters into kinesis.metrics_history for this minute, and drop history older than kinesis.metrics_retention.';
