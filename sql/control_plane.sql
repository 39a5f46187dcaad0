-- The control plane: CreateStream, DeleteStream, DescribeStream,
-- DescribeStreamSummary, ListStreams, ListShards and DescribeLimits, with
-- every validation and semantic error.
\set VERBOSITY terse

-- Start from no streams at all (files that ran earlier may have left some):
-- ListStreams and DescribeLimits below count every stream of the database.
DO $$ BEGIN PERFORM kinesis.delete_stream(stream_name) FROM kinesis.stream_meta; END $$;
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;

-- a page of shards in one line: how many, the first and the last
CREATE FUNCTION page(shards kinesis.shard[]) RETURNS text LANGUAGE sql AS $$
    SELECT cardinality(shards) || CASE cardinality(shards) WHEN 1 THEN ' shard' ELSE ' shards' END
           || coalesce(': ' || (shards[1]).shard_id || ' .. ' || (shards[cardinality(shards)]).shard_id, '')
$$;

-- ---------------------------------------------------------------------
-- CreateStream
-- ---------------------------------------------------------------------
SELECT kinesis.create_stream(NULL, 1);
SELECT kinesis.create_stream('', 0);
SELECT kinesis.create_stream(repeat('a', 129), 1);
SELECT kinesis.create_stream('bad name!', -1);
-- values are printed as AWS prints them: quotes and backslashes as they are
SELECT kinesis.create_stream('it''s\not', 1);
SELECT kinesis.create_stream(repeat('é', 129), 1);
SELECT count(*) AS streams_after_failures FROM kinesis.stream_meta;

SELECT kinesis.create_stream('cp1', 1);
SELECT kinesis.create_stream('cp2', 2);
SELECT kinesis.create_stream('cp3', 3);
SELECT kinesis.create_stream('cp4', 4);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
-- without a shard count AWS creates 4 shards
SELECT kinesis.create_stream('cp_default');
SELECT kinesis.create_stream('cp_null', NULL);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT stream_name, shard_count, open_shard_count FROM kinesis.streams ORDER BY stream_name;
SELECT kinesis.create_stream('cp3', 1);

-- the account's shard limit counts open shards across all streams
SET kinesis.shard_limit = 20;
SELECT kinesis.create_stream('cp_big', 7);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT count(*) AS streams, sum(open_shard_count) AS open_shards FROM kinesis.streams;
SELECT kinesis.create_stream('cp_fill', 2);   -- exactly at the limit is fine
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT kinesis.create_stream('cp_over', 1);
RESET kinesis.shard_limit;

-- ---------------------------------------------------------------------
-- DeleteStream
-- ---------------------------------------------------------------------
SELECT kinesis.delete_stream(NULL);
SELECT kinesis.delete_stream('');
SELECT kinesis.delete_stream(repeat('b', 129));
SELECT kinesis.delete_stream('no_such_stream');
SELECT kinesis.delete_stream('cp_fill');
SELECT kinesis.delete_stream('cp_fill');
SELECT kinesis.delete_stream('cp_null', enforce_consumer_deletion => true);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
-- deleting inside a transaction that rolls back keeps the stream
BEGIN;
SELECT kinesis.delete_stream('cp_default');
SELECT count(*) AS during FROM kinesis.stream_meta WHERE stream_name = 'cp_default';
ROLLBACK;
SELECT count(*) AS after_rollback FROM kinesis.stream_meta WHERE stream_name = 'cp_default';
SELECT kinesis.delete_stream('cp_default');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT count(*) AS shards_left FROM kinesis.shard_meta h
 WHERE NOT EXISTS (SELECT 1 FROM kinesis.stream_meta s WHERE s.stream_id = h.stream_id);

-- ---------------------------------------------------------------------
-- Hash key ranges at creation: 2^128 split evenly, step floor(2^128 / N),
-- the last shard ending at 2^128 - 1 (values recorded from AWS)
-- ---------------------------------------------------------------------
SELECT d.stream_name, (sh).shard_id,
       ((sh).hash_key_range).starting_hash_key, ((sh).hash_key_range).ending_hash_key
  FROM (VALUES ('cp1'), ('cp2'), ('cp3'), ('cp4')) AS v(n),
       kinesis.describe_stream(v.n) AS d, unnest(d.shards) AS sh
 ORDER BY 1, 2;
SELECT ((shards[1]).hash_key_range).ending_hash_key = '340282366920938463463374607431768211455' AS n1_whole_space
  FROM kinesis.describe_stream('cp1');
SELECT ((shards[1]).hash_key_range).ending_hash_key = '170141183460469231731687303715884105727' AS n2_end0,
       ((shards[2]).hash_key_range).starting_hash_key = '170141183460469231731687303715884105728' AS n2_start1
  FROM kinesis.describe_stream('cp2');
SELECT ((shards[1]).hash_key_range).ending_hash_key = '113427455640312821154458202477256070484' AS n3_end0,
       ((shards[2]).hash_key_range).ending_hash_key = '226854911280625642308916404954512140969' AS n3_end1,
       ((shards[3]).hash_key_range).ending_hash_key = '340282366920938463463374607431768211455' AS n3_end2
  FROM kinesis.describe_stream('cp3');
SELECT ((shards[1]).hash_key_range).ending_hash_key = '85070591730234615865843651857942052863' AS n4_end0
  FROM kinesis.describe_stream('cp4');
-- every stream's ranges are contiguous and cover [0, 2^128 - 1]
SELECT stream_name,
       bool_and(starting_hash_key = coalesce(prev_end + 1, 0)) AS contiguous,
       max(ending_hash_key) = 2::numeric ^ 128 - 1 AS covers
  FROM (SELECT stream_name, starting_hash_key, ending_hash_key,
               lag(ending_hash_key) OVER (PARTITION BY stream_name ORDER BY shard_index) AS prev_end
          FROM kinesis.shards) s
 GROUP BY stream_name ORDER BY stream_name;

-- starting sequence numbers: 56 digits, counter 0, the shard's own index,
-- a creation time two seconds before the stream's, and adjacent shards
-- 2^144 + 16 apart; open shards have no ending sequence number
SELECT (sh).shard_id,
       length(((sh).sequence_number_range).starting_sequence_number) AS len,
       p.shard_index, p.counter, p.seq_epoch = p.shard_epoch AS same_epoch,
       p.shard_epoch - extract(epoch FROM d.stream_creation_timestamp) BETWEEN -3 AND -2 AS two_seconds_before,
       ((sh).sequence_number_range).starting_sequence_number::numeric
         - lag(((sh).sequence_number_range).starting_sequence_number::numeric) OVER (ORDER BY (sh).shard_id) AS step,
       ((sh).sequence_number_range).ending_sequence_number AS ending
  FROM kinesis.describe_stream('cp4') AS d, unnest(d.shards) AS sh,
       kinesis.parse_sequence_number(((sh).sequence_number_range).starting_sequence_number) AS p
 ORDER BY 1;

-- ---------------------------------------------------------------------
-- DescribeStream
-- ---------------------------------------------------------------------
SELECT stream_name, stream_arn, stream_status, page(shards), has_more_shards,
       retention_period_hours, enhanced_monitoring, encryption_type, key_id
  FROM kinesis.describe_stream('cp3');
SELECT stream_creation_timestamp = (SELECT s.stream_creation_timestamp FROM kinesis.stream_meta s
                                     WHERE s.stream_name = 'cp3') AS created_as_stored,
       stream_creation_timestamp BETWEEN now() - interval '10 minutes' AND clock_timestamp() AS created_recently,
       (enhanced_monitoring[1]).shard_level_metrics = '{}' AS no_metrics
  FROM kinesis.describe_stream('cp3');
-- positional and named arguments
SELECT page(shards), has_more_shards
  FROM kinesis.describe_stream(stream_name => 'cp3', "limit" => 1, exclusive_start_shard_id => 'shardId-000000000000');

SELECT kinesis.describe_stream(NULL);
SELECT kinesis.describe_stream('', 0, '');
SELECT kinesis.describe_stream(repeat('a', 129), 100000, repeat('a', 129));
SELECT kinesis.describe_stream('cp3', 10001);
SELECT kinesis.describe_stream('cp3', -5, 'shard id');
SELECT kinesis.describe_stream('no_such_stream');
SELECT kinesis.describe_stream('no_such_stream', 0);

-- pagination: at most 100 shards a call whatever the limit, in index order
SELECT kinesis.create_stream('cp_many', 150);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT 'default' AS call, page(shards), has_more_shards FROM kinesis.describe_stream('cp_many')
UNION ALL
SELECT 'limit 5', page(shards), has_more_shards FROM kinesis.describe_stream('cp_many', 5)
UNION ALL
SELECT 'limit 100', page(shards), has_more_shards FROM kinesis.describe_stream('cp_many', 100)
UNION ALL
SELECT 'limit 101', page(shards), has_more_shards FROM kinesis.describe_stream('cp_many', 101)
UNION ALL
SELECT 'limit 10000', page(shards), has_more_shards FROM kinesis.describe_stream('cp_many', 10000)
UNION ALL
SELECT 'after 4, limit 5', page(shards), has_more_shards FROM kinesis.describe_stream('cp_many', 5, 'shardId-000000000004')
UNION ALL
SELECT 'after 99', page(shards), has_more_shards FROM kinesis.describe_stream('cp_many', NULL, 'shardId-000000000099')
UNION ALL
SELECT 'after 147', page(shards), has_more_shards FROM kinesis.describe_stream('cp_many', NULL, 'shardId-000000000147')
UNION ALL
SELECT 'after 148, limit 1', page(shards), has_more_shards FROM kinesis.describe_stream('cp_many', 1, 'shardId-000000000148')
UNION ALL
SELECT 'after 149', page(shards), has_more_shards FROM kinesis.describe_stream('cp_many', NULL, 'shardId-000000000149')
UNION ALL
SELECT 'after 5000 (no such shard)', page(shards), has_more_shards FROM kinesis.describe_stream('cp_many', NULL, 'shardId-000000005000');
-- shard ids parse loosely, as AWS parses them: the digits after the first '-'
SELECT id, page(shards), has_more_shards
  FROM (VALUES ('shardId-146'), ('shard-146'), ('x-146'), ('x-000146-y'), ('shardId-00000000000000000146')) AS v(id),
       kinesis.describe_stream('cp_many', 100, v.id)
 ORDER BY id;
-- an id that names no index (no digits after the '-', more than 20 digits,
-- or a value over 2^31 - 1) is compared with the shard ids as text, in
-- byte order
SELECT id, page(shards), has_more_shards
  FROM (VALUES ('shardId-abc'), ('abc'), ('shardId-'), ('shardId-99999999999'), ('shardId-000000000000000000001')) AS v(id),
       kinesis.describe_stream('cp_many', 3, v.id)
 ORDER BY id;
-- walking every page with exclusive_start_shard_id visits each shard once, in order
WITH RECURSIVE pages(n, shards, more) AS (
    SELECT 1, d.shards, d.has_more_shards FROM kinesis.describe_stream('cp_many', 40) d
  UNION ALL
    SELECT p.n + 1, d.shards, d.has_more_shards
      FROM pages p, kinesis.describe_stream('cp_many', 40, (p.shards[cardinality(p.shards)]).shard_id) d
     WHERE p.more
)
SELECT count(DISTINCT n) AS calls, count(*) AS shards,
       array_agg(u.shard_id ORDER BY n, u.ordinality)
         = (SELECT array_agg(shard_id ORDER BY shard_index) FROM kinesis.shards
             WHERE stream_name = 'cp_many') AS all_in_order
  FROM pages, unnest(shards) WITH ORDINALITY AS u;

-- ---------------------------------------------------------------------
-- DescribeStreamSummary
-- ---------------------------------------------------------------------
SELECT stream_name, stream_arn, stream_status, retention_period_hours, enhanced_monitoring,
       encryption_type, key_id, open_shard_count, consumer_count,
       stream_creation_timestamp = (SELECT stream_creation_timestamp FROM kinesis.describe_stream('cp3')) AS same_created
  FROM kinesis.describe_stream_summary('cp3');
SELECT stream_name, open_shard_count FROM kinesis.describe_stream_summary(stream_name => 'cp_many');
SELECT kinesis.describe_stream_summary(NULL);
SELECT kinesis.describe_stream_summary('');
SELECT kinesis.describe_stream_summary(repeat('a', 129));
SELECT kinesis.describe_stream_summary('no_such_stream');

-- ---------------------------------------------------------------------
-- ListStreams: names in byte order, 10 by default
-- ---------------------------------------------------------------------
-- (at most five streams may be CREATING at once: make each ACTIVE)
DO $$
DECLARE
    n text;
BEGIN
    FOREACH n IN ARRAY ARRAY['Zeta', 'alpha', '_under', '-dash', '.dot', '9nine', 'cp10', 'cp1.5'] LOOP
        PERFORM kinesis.create_stream(n, 1);
        PERFORM kinesis.run_maintenance();
    END LOOP;
END $$;
SELECT * FROM kinesis.list_streams();
SELECT * FROM kinesis.list_streams(100);
SELECT * FROM kinesis.list_streams(10000);
SELECT * FROM kinesis.list_streams(5);
SELECT * FROM kinesis.list_streams(5, '_under');
SELECT * FROM kinesis.list_streams(5, 'cp3');
SELECT * FROM kinesis.list_streams(exclusive_start_stream_name => 'cp4');
-- a name that is not a stream is a position all the same
SELECT * FROM kinesis.list_streams(3, 'b');
SELECT * FROM kinesis.list_streams(3, 'zzz');
-- paging through with the last name of each page lists every stream once
WITH RECURSIVE pages(n, names, more) AS (
    SELECT 1, l.stream_names, l.has_more_streams FROM kinesis.list_streams(3) l
  UNION ALL
    SELECT p.n + 1, l.stream_names, l.has_more_streams
      FROM pages p, kinesis.list_streams(3, p.names[cardinality(p.names)]) l
     WHERE p.more
)
SELECT count(*) AS calls, sum(cardinality(names)) AS names,
       (SELECT count(*) FROM kinesis.stream_meta) AS streams
  FROM pages;
SELECT kinesis.list_streams(0, '');
SELECT kinesis.list_streams(1000000, repeat('a', 129));
SELECT kinesis.list_streams(-1);
SELECT kinesis.list_streams(1, 'no way');

-- ---------------------------------------------------------------------
-- ListShards
-- ---------------------------------------------------------------------
-- schema problems first, then the rules on which members go together
SELECT kinesis.list_shards('', '', '', 0);
SELECT kinesis.list_shards(repeat('a', 129), NULL, repeat('a', 129), 100000);
SELECT kinesis.list_shards('cp3', max_results => 10001);
SELECT kinesis.list_shards('cp3', exclusive_start_shard_id => 'shard 1');
SELECT kinesis.list_shards();
SELECT kinesis.list_shards(stream_creation_timestamp => now());
SELECT kinesis.list_shards(max_results => 5);
SELECT kinesis.list_shards('cp3', 'sometoken');
SELECT kinesis.list_shards(next_token => 'sometoken', exclusive_start_shard_id => 'shardId-000000000000');
SELECT kinesis.list_shards(next_token => 'sometoken', stream_creation_timestamp => now());
SELECT kinesis.list_shards('no_such_stream');

-- a whole stream, then with a start shard, loosely parsed
SELECT page(shards), next_token FROM kinesis.list_shards('cp3');
SELECT page(shards), next_token FROM kinesis.list_shards('cp3', exclusive_start_shard_id => 'shardId-000000000000');
SELECT page(shards), next_token FROM kinesis.list_shards('cp3', exclusive_start_shard_id => 'x-1');
SELECT page(shards), next_token FROM kinesis.list_shards('cp3', exclusive_start_shard_id => 'shardId-000000000002');
SELECT page(shards), next_token FROM kinesis.list_shards('cp3', exclusive_start_shard_id => 'shardId-000000000007');
-- the same shards as DescribeStream, field for field
SELECT (SELECT shards FROM kinesis.list_shards('cp4')) = (SELECT shards FROM kinesis.describe_stream('cp4')) AS same_as_describe;

-- stream_creation_timestamp must be the stream's own
SELECT stream_creation_timestamp AS cp3_created FROM kinesis.describe_stream_summary('cp3') \gset
SELECT page(shards) FROM kinesis.list_shards('cp3', stream_creation_timestamp => :'cp3_created');
SELECT page(shards) FROM kinesis.list_shards('cp3', stream_creation_timestamp => :'cp3_created'::timestamptz + interval '1 second');
SELECT page(shards) FROM kinesis.list_shards('cp3', stream_creation_timestamp => :'cp3_created'::timestamptz - interval '1 second');
-- compared to the second: SDKs send the whole seconds the API gives
SELECT page(shards) FROM kinesis.list_shards('cp3', stream_creation_timestamp => date_trunc('second', :'cp3_created'::timestamptz));

-- paging with next_token: a token only while shards remain
SELECT page(shards), next_token IS NOT NULL AS more FROM kinesis.list_shards('cp3', max_results => 2);
SELECT next_token AS tok FROM kinesis.list_shards('cp3', max_results => 2) \gset
SELECT page(shards), next_token IS NOT NULL AS more FROM kinesis.list_shards(next_token => :'tok');
SELECT page(shards), next_token IS NOT NULL AS more FROM kinesis.list_shards(next_token => :'tok', max_results => 1);
-- a token can be used again while it is valid, and AWS's surrounding quotes are ignored
SELECT page(shards) FROM kinesis.list_shards(next_token => :'tok');
SELECT page(shards) FROM kinesis.list_shards(next_token => '"' || :'tok' || '"');
SELECT page(shards), next_token IS NOT NULL AS more FROM kinesis.list_shards('cp3', max_results => 3);
SELECT page(shards), next_token IS NOT NULL AS more FROM kinesis.list_shards('cp3', max_results => 10000);
-- a token carries the start shard of the first call along
SELECT next_token AS tok FROM kinesis.list_shards('cp_many', exclusive_start_shard_id => 'shardId-000000000100', max_results => 20) \gset
SELECT page(shards), next_token IS NOT NULL AS more FROM kinesis.list_shards(next_token => :'tok', max_results => 20);
-- walking every page visits each shard once, in order
WITH RECURSIVE pages(n, shards, token) AS (
    SELECT 1, l.shards, l.next_token FROM kinesis.list_shards('cp_many', max_results => 60) l
  UNION ALL
    SELECT p.n + 1, l.shards, l.next_token
      FROM pages p, kinesis.list_shards(next_token => p.token, max_results => 60) l
     WHERE p.token IS NOT NULL
)
SELECT n, page(shards), token IS NOT NULL AS more FROM pages ORDER BY n;

-- tokens are ours or nothing: an edited token, garbage, a shard iterator
SELECT next_token AS tok FROM kinesis.list_shards('cp3', max_results => 1) \gset
SELECT overlay(:'tok' PLACING CASE WHEN substr(:'tok', 12, 1) = 'A' THEN 'B' ELSE 'A' END FROM 12 FOR 1) AS edited \gset
SELECT :'edited' <> :'tok' AS one_character_edited, length(:'edited') = length(:'tok') AS same_length;
SELECT kinesis.list_shards(next_token => :'edited');
SELECT kinesis.list_shards(next_token => left(:'tok', -4));
SELECT kinesis.list_shards(next_token => 'sometoken');
SELECT kinesis.list_shards(next_token => (SELECT shard_iterator FROM kinesis.get_shard_iterator('cp3', 'shardId-000000000000', 'TRIM_HORIZON')));
-- a token that is 301 seconds old has expired; one from the future is not ours
SELECT kinesis._token_encode('L', convert_to(jsonb_build_object('o', 'ListShards',
           'i', (SELECT stream_id FROM kinesis.stream_meta WHERE stream_name = 'cp3'), 'n', 'cp3', 'a', 0,
           't', floor(extract(epoch FROM clock_timestamp() - interval '301 seconds') * 1000)::bigint)::text, 'UTF8')) AS old_tok,
       kinesis._token_encode('L', convert_to(jsonb_build_object('o', 'ListShards',
           'i', (SELECT stream_id FROM kinesis.stream_meta WHERE stream_name = 'cp3'), 'n', 'cp3', 'a', 0,
           't', floor(extract(epoch FROM clock_timestamp() + interval '1 hour') * 1000)::bigint)::text, 'UTF8')) AS future_tok,
       kinesis._token_encode('L', convert_to(jsonb_build_object('o', 'ListShards',
           'i', (SELECT stream_id FROM kinesis.stream_meta WHERE stream_name = 'cp3'), 'n', 'cp3', 'a', 0,
           't', floor(extract(epoch FROM clock_timestamp() - interval '290 seconds') * 1000)::bigint)::text, 'UTF8')) AS fresh_tok
\gset
-- signed with our key but made for another call: not a ListShards token
SELECT kinesis._token_encode('L', convert_to('{"o": "ListStreams", "t": 0}', 'UTF8')) AS other_tok,
       kinesis._token_encode('L', '\xff00'::bytea) AS binary_tok
\gset
SELECT kinesis.list_shards(next_token => :'other_tok');
SELECT kinesis.list_shards(next_token => :'binary_tok');
SELECT kinesis.list_shards(next_token => :'old_tok');
SELECT kinesis.list_shards(next_token => :'future_tok');
SELECT page(shards) FROM kinesis.list_shards(next_token => :'fresh_tok');
-- a token outlives neither its stream nor a stream re-created under its name
SELECT kinesis.create_stream('cp_gone', 2);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT next_token AS tok FROM kinesis.list_shards('cp_gone', max_results => 1) \gset
SELECT kinesis.delete_stream('cp_gone');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT kinesis.list_shards(next_token => :'tok');
SELECT kinesis.create_stream('cp_gone', 2);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT kinesis.list_shards(next_token => :'tok');
SELECT kinesis.delete_stream('cp_gone');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;

-- at most 1000 shards a call, whatever max_results says (1..10000 is valid)
SET kinesis.shard_limit = 2000;
SELECT kinesis.create_stream('cp_huge', 1001);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT page(shards), next_token IS NOT NULL AS more FROM kinesis.list_shards('cp_huge');
SELECT page(shards), next_token IS NOT NULL AS more FROM kinesis.list_shards('cp_huge', max_results => 10000);
SELECT page(shards), next_token IS NOT NULL AS more FROM kinesis.list_shards('cp_huge', max_results => 1000);
SELECT next_token AS tok FROM kinesis.list_shards('cp_huge', max_results => 5000) \gset
SELECT page(shards), next_token IS NOT NULL AS more FROM kinesis.list_shards(next_token => :'tok');

-- ---------------------------------------------------------------------
-- DescribeLimits
-- ---------------------------------------------------------------------
SELECT * FROM kinesis.describe_limits();
SELECT kinesis.delete_stream('cp_huge');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
RESET kinesis.shard_limit;
SELECT * FROM kinesis.describe_limits();
SELECT open_shard_count = (SELECT count(*) FROM kinesis.shards WHERE is_open) AS counts_open_shards
  FROM kinesis.describe_limits();

-- leave nothing behind for the files that run later
SELECT count(kinesis.delete_stream(stream_name)) AS deleted FROM kinesis.stream_meta;
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT * FROM kinesis.describe_limits();
DROP FUNCTION page(kinesis.shard[]);
