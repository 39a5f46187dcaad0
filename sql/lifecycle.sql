-- The life of a stream: CREATING, DELETING and UPDATING transitions carried
-- out by maintenance, SplitShard, MergeShards and UpdateShardCount with
-- real lineage, retention changes, time buckets and trimming, with every
-- validation and semantic error.  The suite runs with kinesis.worker = off
-- and drives maintenance itself with kinesis.run_maintenance().
\set VERBOSITY terse

DO $$ BEGIN PERFORM kinesis.delete_stream(stream_name) FROM kinesis.stream_meta; END $$;
SELECT count(*) >= 0 AS cleaned FROM kinesis.run_maintenance();

-- the open shards of a stream in hash order, one line
CREATE FUNCTION open_shards(name text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(shard_index || ':' || starting_hash_key || '-' || ending_hash_key, ' '
                      ORDER BY starting_hash_key)
      FROM kinesis.shards WHERE stream_name = name AND is_open
$$;
-- the lineage of a stream: shard <- parents, closed or open
CREATE FUNCTION lineage(name text) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT shard_index || CASE WHEN is_open THEN ' open' ELSE ' closed' END
           || coalesce(' <- ' || parent_shard_id, '') || coalesce(' + ' || adjacent_parent_shard_id, '')
      FROM kinesis.shards WHERE stream_name = name ORDER BY shard_index
$$;
-- is the open layout exactly N equal-width shards (boundaries floor(2^128/N)*i)?
CREATE FUNCTION uniform(name text) RETURNS boolean LANGUAGE sql AS $$
    WITH o AS (SELECT starting_hash_key AS lo, ending_hash_key AS hi,
                      row_number() OVER (ORDER BY starting_hash_key) - 1 AS i,
                      count(*) OVER () AS n
                 FROM kinesis.shards WHERE stream_name = name AND is_open)
    SELECT bool_and(lo = div(2::numeric ^ 128, n) * i
                    AND hi = CASE WHEN i = n - 1 THEN 2::numeric ^ 128 - 1
                                  ELSE div(2::numeric ^ 128, n) * (i + 1) - 1 END)
      FROM o
$$;
-- is the lineage valid: every closed shard's children exactly cover its
-- range, every shard has at most two parents, and they are closed?
CREATE FUNCTION lineage_valid(name text) RETURNS boolean LANGUAGE sql AS $$
    WITH h AS (SELECT * FROM kinesis.shards WHERE stream_name = name),
         kids AS (SELECT p.shard_id, p.starting_hash_key AS plo, p.ending_hash_key AS phi,
                         min(c.starting_hash_key) AS clo, max(c.ending_hash_key) AS chi,
                         count(c.*) AS n
                    FROM h p LEFT JOIN h c
                      ON c.parent_shard_id = p.shard_id OR c.adjacent_parent_shard_id = p.shard_id
                   WHERE NOT p.is_open GROUP BY 1, 2, 3)
    SELECT coalesce(bool_and(n > 0 AND clo <= plo AND chi >= phi), true)
           AND NOT EXISTS (SELECT 1 FROM h c JOIN h p
                             ON p.shard_id IN (c.parent_shard_id, c.adjacent_parent_shard_id)
                            WHERE p.is_open)
      FROM kids
$$;
\set maint 'SELECT stream_name, task, outcome, detail FROM kinesis.run_maintenance() WHERE task <> \'metrics\' ORDER BY 1, 2'

-- ---------------------------------------------------------------------
-- CREATING: described without shards; puts, iterators, resharding fail
-- ---------------------------------------------------------------------
SELECT kinesis.create_stream('lc', 2);
SELECT stream_status, cardinality(shards) AS shards FROM kinesis.describe_stream('lc');
SELECT stream_status, open_shard_count FROM kinesis.describe_stream_summary('lc');
SELECT * FROM kinesis.put_record('lc', 'x', 'k');
SELECT * FROM kinesis.put_records(ARRAY[ROW('x', NULL, 'k')]::kinesis.put_records_request_entry[], 'lc');
SELECT kinesis.get_shard_iterator('lc', 'shardId-000000000000', 'TRIM_HORIZON');
SELECT kinesis.split_shard('lc', 'shardId-000000000000', '100');
SELECT kinesis.merge_shards('lc', 'shardId-000000000000', 'shardId-000000000001');
SELECT * FROM kinesis.update_shard_count('lc', 3);
SELECT kinesis.increase_stream_retention_period('lc', 48);
-- its shards count against the shard limit already
SELECT open_shard_count FROM kinesis.describe_limits();
:maint;
SELECT stream_status, cardinality(shards) AS shards FROM kinesis.describe_stream('lc');
SELECT shard_id FROM kinesis.put_record('lc', 'x', 'k');
:maint;

-- creation splits the hash space evenly for any N (6 and 7 are where a
-- rounded division would be off by one)
SELECT kinesis.create_stream('lc_n' || n, n) FROM unnest(ARRAY[3, 5, 6, 7]) n;
:maint;
SELECT n, uniform('lc_n' || n) FROM unnest(ARRAY[3, 5, 6, 7]) n;
SELECT kinesis.delete_stream('lc_n' || n) FROM unnest(ARRAY[3, 5, 6, 7]) n;
:maint;

-- at most five streams CREATING at once
SELECT kinesis.create_stream('lc_c' || i, 1) FROM generate_series(1, 5) i;
SELECT kinesis.create_stream('lc_c6', 1);
:maint;
SELECT kinesis.create_stream('lc_c6', 1);
:maint;

-- a creation delay keeps the stream CREATING until it has passed
SET kinesis.create_stream_delay = '1h';
SELECT kinesis.create_stream('lc_slow', 1);
RESET kinesis.create_stream_delay;
:maint;
SELECT stream_status FROM kinesis.streams WHERE stream_name = 'lc_slow';
UPDATE kinesis.stream_meta SET pending = jsonb_set(pending, '{not_before}', to_jsonb(now() - interval '1 second'))
 WHERE stream_name = 'lc_slow';
:maint;
SELECT stream_status FROM kinesis.streams WHERE stream_name = 'lc_slow';

-- ---------------------------------------------------------------------
-- DELETING: puts and reads fail at once; maintenance removes everything
-- ---------------------------------------------------------------------
SELECT kinesis.get_shard_iterator('lc_slow', 'shardId-000000000000', 'TRIM_HORIZON') AS slow_it \gset
SELECT shard_id FROM kinesis.put_record('lc_slow', 'x', 'k');
SELECT (SELECT count(*) FROM kinesis.buckets b JOIN kinesis.stream_meta s USING (stream_id)
         WHERE s.stream_name = 'lc_slow') AS buckets;
SELECT kinesis.delete_stream('lc_slow');
SELECT stream_status FROM kinesis.describe_stream_summary('lc_slow');
SELECT * FROM kinesis.put_record('lc_slow', 'x', 'k');
SELECT cardinality(records) FROM kinesis.get_records(:'slow_it');
SELECT kinesis.get_shard_iterator('lc_slow', 'shardId-000000000000', 'TRIM_HORIZON');
SELECT kinesis.split_shard('lc_slow', 'shardId-000000000000', '100');
SELECT kinesis.delete_stream('lc_slow');   -- already DELETING: nothing more to do
:maint;
SELECT kinesis.describe_stream_summary('lc_slow');
SELECT count(*) AS bucket_tables_left FROM pg_class
 WHERE relnamespace = 'kinesis'::regnamespace AND relname ~ '^records_\d+_\d+$'
   AND relname NOT IN (SELECT 'records_' || stream_id || '_' || bucket FROM kinesis.buckets);
SELECT kinesis.delete_stream('lc_c' || i) FROM generate_series(1, 6) i;
:maint;

-- ---------------------------------------------------------------------
-- SplitShard
-- ---------------------------------------------------------------------
SELECT kinesis.split_shard(NULL, NULL, NULL);
SELECT kinesis.split_shard('lc', 'shard 0', '-1');
SELECT kinesis.split_shard('lc', repeat('s', 129), '1234567890123456789012345678901234567890');
SELECT kinesis.split_shard('no_such', 'shardId-000000000000', '100');
SELECT kinesis.split_shard('lc', 'shardId-000000000009', '100');
SELECT kinesis.split_shard('lc', 'nonsense', '100');
-- the key must be > StartingHashKey + 1 and < EndingHashKey
SELECT kinesis.split_shard('lc', 'shardId-000000000000', '1');
SELECT kinesis.split_shard('lc', 'shardId-000000000000', '170141183460469231731687303715884105727');
SELECT kinesis.split_shard('lc', 'shardId-000000000001', '340282366920938463463374607431768211456');
SET kinesis.shard_limit = 2;
SELECT kinesis.split_shard('lc', 'shardId-000000000000', '2');
RESET kinesis.shard_limit;

-- put two records to shard 0, split it at 2^126
SELECT kinesis.get_shard_iterator('lc', 'shardId-000000000000', 'TRIM_HORIZON') AS parent_it \gset
SELECT shard_id FROM kinesis.put_record('lc', 'before-1', 'k', explicit_hash_key => '5');
SELECT shard_id FROM kinesis.put_record('lc', 'before-2', 'k', explicit_hash_key => '85070591730234615865843651857942052864');
SELECT kinesis.split_shard('lc', 'shard-0', '85070591730234615865843651857942052864');
-- UPDATING: the old shards are shown and take the puts; no second change
SELECT stream_status, cardinality(shards) AS shards FROM kinesis.describe_stream('lc');
SELECT shard_id FROM kinesis.put_record('lc', 'during', 'k', explicit_hash_key => '7');
SELECT kinesis.split_shard('lc', 'shardId-000000000000', '100');
SELECT kinesis.merge_shards('lc', 'shardId-000000000000', 'shardId-000000000001');
SELECT * FROM kinesis.update_shard_count('lc', 4);
SELECT kinesis.decrease_stream_retention_period('lc', 24);
:maint;
SELECT * FROM lineage('lc');
SELECT open_shards('lc');
-- the parent has a real ending number: its last record's counter, and no
-- smaller than any of its records' numbers
SELECT (kinesis.parse_sequence_number(ending_sequence_number)).counter
       = (SELECT max((kinesis.parse_sequence_number(r.sequence_number)).counter) FROM kinesis.stream_records r
           WHERE r.stream_name = 'lc' AND r.shard_id = 'shardId-000000000000') AS ends_at_last_record,
       ending_sequence_number::numeric >= (SELECT max(r.sequence_number::numeric) FROM kinesis.stream_records r
           WHERE r.stream_name = 'lc' AND r.shard_id = 'shardId-000000000000') AS not_below_records
  FROM kinesis.shards WHERE stream_name = 'lc' AND shard_id = 'shardId-000000000000';
-- children's numbers embed a creation time a second after the split
SELECT c.shard_id, (kinesis.parse_sequence_number(c.starting_sequence_number)).shard_epoch
                   > (kinesis.parse_sequence_number(p.starting_sequence_number)).shard_epoch AS later_epoch
  FROM kinesis.shards c JOIN kinesis.shards p ON p.shard_id = c.parent_shard_id AND p.stream_name = c.stream_name
 WHERE c.stream_name = 'lc' ORDER BY 1;
-- puts now go to the children
SELECT shard_id FROM kinesis.put_record('lc', 'after-low', 'k', explicit_hash_key => '5');
SELECT shard_id FROM kinesis.put_record('lc', 'after-high', 'k', explicit_hash_key => '85070591730234615865843651857942052864');
-- a closed shard can be neither split nor merged
SELECT kinesis.split_shard('lc', 'shardId-000000000000', '100');
SELECT kinesis.merge_shards('lc', 'shardId-000000000000', 'shardId-000000000002');

-- reading the closed parent: its records, then no next iterator and the children
SELECT array(SELECT convert_from(r.data, 'UTF8') FROM unnest(g.records) r) AS records,
       g.next_shard_iterator IS NULL AS closed, g.millis_behind_latest,
       (SELECT string_agg(c.shard_id || '<-' || array_to_string(c.parent_shards, ',') || ' ['
                          || c.starting_hash_key || ', ' || c.ending_hash_key || ']', '; ')
          FROM unnest(g.child_shards) c) AS child_shards
  FROM kinesis.get_records(:'parent_it') g;
-- in pages of one: the iterator goes on until the last record is read
SELECT cardinality(g1.records) AS first, g1.next_shard_iterator IS NULL AS first_closed, g1.child_shards IS NULL AS no_children_yet,
       cardinality(g2.records) AS second, g2.next_shard_iterator IS NULL AS second_closed,
       cardinality(g3.records) AS third, g3.next_shard_iterator IS NULL AS third_closed,
       cardinality(g3.child_shards) AS children
  FROM kinesis.get_records(kinesis.get_shard_iterator('lc', 'shardId-000000000000', 'TRIM_HORIZON'), 1) g1,
       kinesis.get_records(g1.next_shard_iterator, 1) g2,
       kinesis.get_records(g2.next_shard_iterator, 1) g3;
-- the row form carries the children on its last row
SELECT count(sequence_number) AS records, count(child_shards) AS rows_with_children,
       bool_and(next_shard_iterator IS NULL) AS closed
  FROM kinesis.read_records(kinesis.get_shard_iterator('lc', 'shardId-000000000000', 'TRIM_HORIZON'));
-- LATEST and AFTER_SEQUENCE_NUMBER(ending) on a closed shard: nothing, closed
SELECT cardinality(records), next_shard_iterator IS NULL AS closed, cardinality(child_shards) AS children
  FROM kinesis.get_records(kinesis.get_shard_iterator('lc', 'shardId-000000000000', 'LATEST'));
SELECT cardinality(records), next_shard_iterator IS NULL AS closed
  FROM kinesis.get_records(kinesis.get_shard_iterator('lc', 'shardId-000000000000', 'AT_SEQUENCE_NUMBER',
       (SELECT ending_sequence_number FROM kinesis.shards WHERE stream_name = 'lc' AND shard_index = 0)));
-- an open shard's reader never sees a closed iterator
SELECT next_shard_iterator IS NOT NULL AS open, child_shards IS NULL AS no_children
  FROM kinesis.get_records(kinesis.get_shard_iterator('lc', 'shardId-000000000002', 'TRIM_HORIZON'));
-- through kinesis.api(): ChildShards at the end of the parent
SELECT jsonb_pretty(kinesis.api('GetRecords', jsonb_build_object('ShardIterator', :'parent_it')) - 'Records' - 'MillisBehindLatest');

-- ---------------------------------------------------------------------
-- MergeShards: adjacent in either order; lineage follows the arguments
-- ---------------------------------------------------------------------
SELECT kinesis.merge_shards(NULL, NULL, NULL);
SELECT kinesis.merge_shards('lc', 'bad id!', repeat('x', 129));
SELECT kinesis.merge_shards('no_such', 'shardId-000000000001', 'shardId-000000000002');
SELECT kinesis.merge_shards('lc', 'shardId-000000000001', 'shardId-000000000042');
SELECT kinesis.merge_shards('lc', 'shardId-000000000001', 'shardId-000000000001');
-- 2 [0, 2^126-1], 3 [2^126, 2^127-1], 1 [2^127, 2^128-1]: 2 and 1 are not adjacent
SELECT kinesis.merge_shards('lc', 'shardId-000000000002', 'shardId-000000000001');
SELECT kinesis.merge_shards('lc', 'shardId-000000000001', 'shardId-000000000003');
:maint;
SELECT * FROM lineage('lc');
SELECT open_shards('lc');
SELECT shard_id FROM kinesis.put_record('lc', 'merged', 'k', explicit_hash_key => '340282366920938463463374607431768211455');

-- ---------------------------------------------------------------------
-- UpdateShardCount: 1, 2, 3, 5, 3, 6, each time uniform with valid lineage
-- ---------------------------------------------------------------------
SELECT * FROM kinesis.update_shard_count(NULL, NULL, NULL);
SELECT * FROM kinesis.update_shard_count('lc', 0, 'SOMETHING');
SELECT * FROM kinesis.update_shard_count('no_such', 2);
SELECT kinesis.create_stream('us', 1);
:maint;
SELECT count(*) FROM generate_series(1, 50) i, LATERAL kinesis.put_record('us', convert_to('r' || i, 'UTF8'), 'k' || i) p;
SELECT * FROM kinesis.update_shard_count('us', 3);
SELECT * FROM kinesis.update_shard_count('us', 2);
SELECT stream_status FROM kinesis.streams WHERE stream_name = 'us';
:maint;
SELECT open_shards('us'), uniform('us'), lineage_valid('us');
SELECT * FROM kinesis.update_shard_count('us', 3);
:maint;
SELECT open_shards('us'), uniform('us'), lineage_valid('us');
SELECT * FROM kinesis.update_shard_count('us', 5);
:maint;
SELECT open_shards('us'), uniform('us'), lineage_valid('us');
SELECT * FROM kinesis.update_shard_count('us', 2);
SELECT * FROM kinesis.update_shard_count('us', 11);
SELECT * FROM kinesis.update_shard_count('us', 3);
:maint;
SELECT open_shards('us'), uniform('us'), lineage_valid('us');
SELECT * FROM kinesis.update_shard_count('us', 6);
:maint;
SELECT open_shards('us'), uniform('us'), lineage_valid('us');
SELECT * FROM lineage('us');
-- no shard has more than two parents, and every record is still readable
SELECT count(*) AS shards, count(*) FILTER (WHERE is_open) AS open FROM kinesis.shards WHERE stream_name = 'us';
SELECT count(*) AS records FROM kinesis.stream_records WHERE stream_name = 'us';
-- a consumer walking the lineage from shard 0 (children after all their
-- parents) reads every record exactly once: every closed shard, empty or
-- not, ends with no next iterator and names its children
CREATE TEMP TABLE walked (shard_id text, data text);
DO $$
DECLARE
    todo text[] := ARRAY['shardId-000000000000'];
    done text[] := '{}';
    sid text;
    it text;
    g record;
    steps integer := 0;
BEGIN
    WHILE cardinality(todo) > 0 LOOP
        steps := steps + 1;
        IF steps > 1000 THEN RAISE EXCEPTION 'lineage walk does not end'; END IF;
        sid := todo[1];
        todo := todo[2:];
        CONTINUE WHEN sid = ANY (done);
        IF EXISTS (SELECT 1 FROM kinesis.shards s WHERE s.stream_name = 'us' AND s.shard_id = sid
                      AND ((s.parent_shard_id IS NOT NULL AND NOT s.parent_shard_id = ANY (done))
                           OR (s.adjacent_parent_shard_id IS NOT NULL
                               AND NOT s.adjacent_parent_shard_id = ANY (done)))) THEN
            todo := todo || sid;
            CONTINUE;
        END IF;
        it := kinesis.get_shard_iterator('us', sid, 'TRIM_HORIZON');
        LOOP
            SELECT * INTO g FROM kinesis.get_records(it, 7);
            INSERT INTO walked SELECT sid, convert_from(r.data, 'UTF8') FROM unnest(g.records) r;
            EXIT WHEN g.next_shard_iterator IS NULL
                   OR (cardinality(g.records) = 0 AND g.millis_behind_latest = 0);
            it := g.next_shard_iterator;
        END LOOP;
        done := done || sid;
        IF g.next_shard_iterator IS NULL THEN
            todo := todo || ARRAY(SELECT c.shard_id FROM unnest(g.child_shards) c);
        END IF;
    END LOOP;
    RAISE NOTICE 'shards walked: %', cardinality(done);
END $$;
SELECT count(*) AS delivered, count(DISTINCT data) AS distinct_records FROM walked;
-- the same count as UpdateShardCount: nothing to do, but a change all the same
SELECT * FROM kinesis.update_shard_count('us', 6);
:maint;
SELECT open_shards('us') = (SELECT open_shards('us')) AS same, uniform('us');
-- at most kinesis.max_scalings_per_day in 24 hours
SET kinesis.max_scalings_per_day = 6;
SELECT * FROM kinesis.update_shard_count('us', 5);
RESET kinesis.max_scalings_per_day;
SET kinesis.shard_limit = 12;
SELECT * FROM kinesis.update_shard_count('us', 12);
RESET kinesis.shard_limit;
-- through kinesis.api()
SELECT kinesis.api('UpdateShardCount', '{"StreamName": "us", "TargetShardCount": 4, "ScalingType": "UNIFORM_SCALING"}');
SELECT kinesis.api('UpdateShardCount', '{"StreamName": "us", "TargetShardCount": 4}');
:maint;
SELECT kinesis.api('SplitShard', '{"StreamName": "us", "ShardToSplit": "x", "NewStartingHashKey": "12"}');
SELECT kinesis.api('MergeShards', '{"StreamName": "us", "ShardToMerge": "x", "AdjacentShardToMerge": "y"}');
SELECT open_shards('us'), uniform('us'), lineage_valid('us');

-- ---------------------------------------------------------------------
-- Retention: bounds and messages; records past it are never returned
-- ---------------------------------------------------------------------
SELECT kinesis.increase_stream_retention_period('lc', NULL);
SELECT kinesis.increase_stream_retention_period('lc', 23);
SELECT kinesis.increase_stream_retention_period('lc', 8761);
SELECT kinesis.increase_stream_retention_period('no_such', 48);
SELECT kinesis.increase_stream_retention_period('lc', 48);
SELECT kinesis.increase_stream_retention_period('lc', 36);
SELECT kinesis.decrease_stream_retention_period('lc', 72);
SELECT kinesis.decrease_stream_retention_period('lc', 0);
SELECT kinesis.increase_stream_retention_period('lc', 48);   -- the same value is fine
SELECT kinesis.api('IncreaseStreamRetentionPeriod', '{"StreamName": "lc", "RetentionPeriodHours": 8760}');
SELECT kinesis.api('DecreaseStreamRetentionPeriod', '{"StreamName": "lc", "RetentionPeriodHours": 9000}');
SELECT kinesis.api('DecreaseStreamRetentionPeriod', '{"StreamName": "lc", "RetentionPeriodHours": 24}');
SELECT retention_period_hours FROM kinesis.streams WHERE stream_name = 'lc';

-- a stream of its own, moved through time with kinesis.test_clock_offset
SELECT kinesis.create_stream('rt', 1);
:maint;
SELECT count(*) FROM generate_series(1, 10) i, LATERAL kinesis.put_record('rt', convert_to('day0-' || i, 'UTF8'), 'k') p;
SELECT kinesis.get_shard_iterator('rt', 'shardId-000000000000', 'TRIM_HORIZON') AS rt_it \gset
-- 4 hours later: a new bucket (every 3 h for 24 h of retention), more records
SET kinesis.test_clock_offset = '4h';
:maint;
SELECT count(*) FROM generate_series(1, 10) i, LATERAL kinesis.put_record('rt', convert_to('day0b-' || i, 'UTF8'), 'k') p;
-- 26 hours later the first ten are past retention: never returned
SET kinesis.test_clock_offset = '26h';
SELECT count(*) FROM generate_series(1, 10) i, LATERAL kinesis.put_record('rt', convert_to('day1-' || i, 'UTF8'), 'k') p;
SELECT cardinality(records) AS returned, convert_from(records[1].data, 'UTF8') AS first
  FROM kinesis.get_records(:'rt_it');
SELECT convert_from(records[1].data, 'UTF8') AS trim_horizon_starts_at
  FROM kinesis.get_records(kinesis.get_shard_iterator('rt', 'shardId-000000000000', 'TRIM_HORIZON'));
SELECT convert_from(records[1].data, 'UTF8') AS at_old_timestamp
  FROM kinesis.get_records(kinesis.get_shard_iterator('rt', 'shardId-000000000000', 'AT_TIMESTAMP',
                                                      "timestamp" => now() - interval '1 hour'));
SELECT count(*) AS in_view FROM kinesis.stream_records WHERE stream_name = 'rt';
-- bucket 0 may hold records up to when bucket 1 started (4 h): not yet
-- a candidate for trimming; a new bucket is due (3 h since the last)
:maint;
SELECT b.bucket FROM kinesis.buckets b JOIN kinesis.stream_meta s USING (stream_id) WHERE s.stream_name = 'rt' ORDER BY 1;
-- 30 hours: bucket 1 started before the horizon, so bucket 0 is checked,
-- under its lock, record by record; a straggler within retention keeps it
SET kinesis.test_clock_offset = '30h';
UPDATE kinesis.records SET arrival = kinesis._now() - interval '1 hour'
 WHERE stream_id = (SELECT stream_id FROM kinesis.stream_meta WHERE stream_name = 'rt') AND seq = 10;
SELECT stream_name, task, outcome, regexp_replace(detail, '\(newest .*\)', '(newest ...)') AS detail
  FROM kinesis.run_maintenance() WHERE stream_name = 'rt' AND task <> 'metrics' ORDER BY 1, 2;
UPDATE kinesis.records SET arrival = arrival - interval '2 days'
 WHERE stream_id = (SELECT stream_id FROM kinesis.stream_meta WHERE stream_name = 'rt') AND seq = 10;
SELECT stream_name, task, outcome, detail FROM kinesis.run_maintenance() WHERE stream_name = 'rt' AND task <> 'metrics' ORDER BY 1, 2;
SELECT b.bucket FROM kinesis.buckets b JOIN kinesis.stream_meta s USING (stream_id) WHERE s.stream_name = 'rt' ORDER BY 1;
SELECT count(*) AS stored FROM kinesis.records r JOIN kinesis.stream_meta s USING (stream_id) WHERE s.stream_name = 'rt';
SELECT to_regclass('kinesis.records_' || stream_id || '_0') AS bucket_0_table
  FROM kinesis.stream_meta WHERE stream_name = 'rt';
-- the trimmed counters are never issued again, even after the shared
-- counters are rebuilt from storage (as after a restart)
SELECT seq_floor FROM kinesis.shard_meta h JOIN kinesis.stream_meta s USING (stream_id) WHERE s.stream_name = 'rt';
SELECT (kinesis.parse_sequence_number(sequence_number)).counter AS next_counter
  FROM kinesis.put_record('rt', 'day1-later', 'k');
-- a reader whose position was in the dropped bucket goes on from what is left
SELECT cardinality(records) AS returned, convert_from(records[1].data, 'UTF8') AS first
  FROM kinesis.get_records(:'rt_it');
-- a longer retention does not bring back what had expired (day0b, put at
-- 4 h, is still stored in bucket 1); it keeps what has not
SET kinesis.test_clock_offset = '29h';
SELECT cardinality(records) AS before_increase
  FROM kinesis.get_records(kinesis.get_shard_iterator('rt', 'shardId-000000000000', 'TRIM_HORIZON'));
SELECT kinesis.increase_stream_retention_period('rt', 48);
SELECT cardinality(records) AS after_increase
  FROM kinesis.get_records(kinesis.get_shard_iterator('rt', 'shardId-000000000000', 'TRIM_HORIZON'));
SET kinesis.test_clock_offset = '60h';
SELECT cardinality(records) AS at_60h_with_48h
  FROM kinesis.get_records(kinesis.get_shard_iterator('rt', 'shardId-000000000000', 'TRIM_HORIZON'));
-- a shorter one hides the older records at once
SELECT kinesis.decrease_stream_retention_period('rt', 24);
SELECT cardinality(records) AS after_decrease
  FROM kinesis.get_records(kinesis.get_shard_iterator('rt', 'shardId-000000000000', 'TRIM_HORIZON'));
-- much later, everything but the newest bucket goes; the stream stays usable
SET kinesis.test_clock_offset = '100h';
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE stream_name = 'rt' AND task <> 'metrics' ORDER BY 1, 2;
SELECT count(*) AS buckets FROM kinesis.buckets b JOIN kinesis.stream_meta s USING (stream_id) WHERE s.stream_name = 'rt';
SELECT shard_id FROM kinesis.put_record('rt', 'day4', 'k');
SELECT array(SELECT convert_from(r.data, 'UTF8') FROM unnest(records) r) AS records
  FROM kinesis.get_records(kinesis.get_shard_iterator('rt', 'shardId-000000000000', 'TRIM_HORIZON'));
RESET kinesis.test_clock_offset;

-- ---------------------------------------------------------------------
-- What maintenance did (contention is tested by the isolation suite)
-- ---------------------------------------------------------------------
SELECT stream_name, task, outcome FROM kinesis.maintenance WHERE stream_name IN ('lc', 'us', 'rt') ORDER BY 1, 2;
SELECT kinesis.maintenance_worker_pid() IS NULL AS no_worker_in_this_suite;
SELECT obj_description('kinesis.maintenance'::regclass, 'pg_class') IS NOT NULL AS documented;

-- leave nothing behind
SELECT count(kinesis.delete_stream(stream_name)) AS deleted FROM kinesis.stream_meta;
SELECT count(*) >= 0 AS cleaned FROM kinesis.run_maintenance();
SELECT count(*) AS streams FROM kinesis.stream_meta;
SELECT count(*) AS bucket_tables FROM pg_class
 WHERE relnamespace = 'kinesis'::regnamespace AND relname ~ '^records_\d+_\d+$';
DROP FUNCTION open_shards(text), lineage(text), uniform(text), lineage_valid(text);

-- DROP EXTENSION needs no CASCADE for the bucket tables, which are not
-- extension members (so that pg_dump dumps them) but are the extension's data
SELECT kinesis.create_stream('dropped_with_extension', 1);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics';
SELECT shard_id FROM kinesis.put_record('dropped_with_extension', 'x', 'k');
DROP EXTENSION kinesis;
SELECT count(*) AS tables_left FROM pg_class WHERE relname ~ '^records_\d+_\d+$';
CREATE EXTENSION kinesis;
