-- The data plane: routing, sequence numbers, put_record(s), iterators and
-- get_records, with every validation and semantic error.
\set VERBOSITY terse
CREATE EXTENSION pgcrypto;

-- The exception table (documented in the README).
SELECT * FROM kinesis.error_codes();

-- ---------------------------------------------------------------------
-- Routing: MD5 of the key's UTF-8 bytes as a big-endian 128-bit integer
-- ---------------------------------------------------------------------
CREATE FUNCTION md5_numeric(k text) RETURNS numeric LANGUAGE sql AS $$
    SELECT sum(('x' || lpad(substr(md5(convert_to(k, 'UTF8')), i, 1), 8, '0'))::bit(32)::int
               * 16::numeric ^ (32 - i))
      FROM generate_series(1, 32) AS i
$$;
SELECT count(*) AS keys, count(*) FILTER (WHERE kinesis.hash_key(k) = md5_numeric(k)) AS agree
  FROM (SELECT 'key-' || i AS k FROM generate_series(1, 500) i
        UNION ALL VALUES (''), ('ü'), ('日本語'), (repeat('z', 256))) keys(k);
SELECT kinesis.hash_key('a') AS a, kinesis.hash_key('partitionKey') AS pk;

SELECT kinesis.create_stream('dp', 4);
SELECT kinesis.create_stream('dp_other', 1);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;

-- every put lands in the open shard whose range holds its hash key
CREATE TABLE puts AS
SELECT i, p.*
  FROM generate_series(1, 200) i,
       LATERAL kinesis.put_record(stream_name => 'dp', data => convert_to('r' || i, 'UTF8'),
                                  partition_key => 'pk-' || i) p;
SELECT count(*) AS puts,
       count(*) FILTER (WHERE p.shard_id = 'shardId-' || lpad(h.shard_index::text, 12, '0')) AS routed_right
  FROM puts p
  JOIN kinesis.shard_meta h ON h.stream_id = (SELECT stream_id FROM kinesis.stream_meta WHERE stream_name = 'dp')
   AND kinesis.hash_key('pk-' || p.i) BETWEEN h.starting_hash_key AND h.ending_hash_key;
SELECT count(DISTINCT shard_id) AS shards_used FROM puts;

-- sequence numbers: 56 digits, unique, strictly increasing within a shard
SELECT count(*) FILTER (WHERE length(sequence_number) = 56) AS len56,
       count(DISTINCT sequence_number) AS distinct_numbers,
       bool_and(encryption_type = 'NONE') AS not_encrypted
  FROM puts;
SELECT bool_and(prev IS NULL OR sequence_number::numeric > prev) AS increasing_per_shard
  FROM (SELECT sequence_number,
               lag(sequence_number::numeric) OVER (PARTITION BY shard_id ORDER BY i) AS prev
          FROM puts) s;
SELECT bool_and((kinesis.parse_sequence_number(sequence_number)).shard_index
                = substr(shard_id, 9)::int) AS encodes_shard
  FROM puts;

-- get_records rebuilds the same numbers put_record returned (it formats
-- consecutive counters incrementally)
SELECT count(*) AS read_back, count(*) FILTER (WHERE p.sequence_number = r.sequence_number) AS same_number
  FROM kinesis.shards s
 CROSS JOIN LATERAL kinesis.get_records(kinesis.get_shard_iterator('dp', s.shard_id, 'TRIM_HORIZON')) g
 CROSS JOIN LATERAL unnest(g.records) r
  JOIN puts p ON convert_to('r' || p.i, 'UTF8') = r.data
 WHERE s.stream_name = 'dp';

-- the layout: known value, and adjacent shards' starting numbers differ by 2^144 + 16
SELECT kinesis.format_sequence_number(1700000000, 0, 0, 1700000000)
       = '49646437577108476416916876405825929425585429676275269634' AS known_value;
SELECT kinesis.format_sequence_number(1700000000, 1, 0, 1700000000)::numeric
     - kinesis.format_sequence_number(1700000000, 0, 0, 1700000000)::numeric AS shard_step;
SELECT * FROM kinesis.parse_sequence_number('49646437577108476416916876405825929425585429676275269634');
SELECT kinesis.parse_sequence_number('12345') IS NULL AS not_ours;

-- explicit hash keys override the partition key
SELECT shard_id FROM kinesis.put_record('dp', 'x', 'k', explicit_hash_key => '0');
SELECT shard_id FROM kinesis.put_record('dp', 'x', 'k', explicit_hash_key => '85070591730234615865843651857942052863');
SELECT shard_id FROM kinesis.put_record('dp', 'x', 'k', explicit_hash_key => '85070591730234615865843651857942052864');
SELECT shard_id FROM kinesis.put_record('dp', 'x', 'k', explicit_hash_key => '340282366920938463463374607431768211455');

-- ---------------------------------------------------------------------
-- put_record errors; a failing call writes nothing
-- ---------------------------------------------------------------------
SELECT count(*) AS before FROM kinesis.records;
SELECT * FROM kinesis.put_record('dp', 'x', 'k', explicit_hash_key => '340282366920938463463374607431768211456');
SELECT * FROM kinesis.put_record('dp', 'x', 'k', explicit_hash_key => '01');
SELECT * FROM kinesis.put_record('dp', 'x', 'k', explicit_hash_key => repeat('9', 40));
SELECT * FROM kinesis.put_record('dp', 'x', '');
SELECT * FROM kinesis.put_record('dp', 'x', repeat('k', 257));
SELECT shard_id IS NOT NULL AS ok FROM kinesis.put_record('dp', 'x', repeat('ü', 256));
SELECT * FROM kinesis.put_record('dp', convert_to(repeat('x', 1048577), 'UTF8'), 'k');
SELECT * FROM kinesis.put_record('dp', convert_to(repeat('x', 1048576), 'UTF8'), 'kk');
SELECT * FROM kinesis.put_record(NULL, NULL, NULL);
SELECT * FROM kinesis.put_record('bad name!', 'x', 'k');
SELECT * FROM kinesis.put_record(repeat('s', 129), 'x', 'k');
SELECT * FROM kinesis.put_record('', 'x', 'k');
SELECT * FROM kinesis.put_record('nosuchstream', 'x', 'k');
SELECT * FROM kinesis.put_record('dp', 'x', 'k', sequence_number_for_ordering => 'abc');
SELECT * FROM kinesis.put_record('dp', 'x', 'k', sequence_number_for_ordering => '12345');
-- a well-formed number of another shard generation (creation second) than
-- the target shard's is refused
SELECT shard_id FROM kinesis.put_record('dp_other', 'x', 'k');
DO $$
BEGIN
    PERFORM kinesis.put_record('dp', 'x', 'k', sequence_number_for_ordering =>
        (SELECT kinesis.format_sequence_number(h.create_epoch + 1, 0, 1, h.create_epoch + 1)
           FROM kinesis.shard_meta h JOIN kinesis.stream_meta s USING (stream_id)
          WHERE s.stream_name = 'dp' AND h.shard_index = 0));
    RAISE NOTICE 'accepted';
EXCEPTION WHEN SQLSTATE 'KN002' THEN
    RAISE NOTICE 'refused: %', split_part(SQLERRM, ':', 1);
END
$$;
SELECT count(*) - 202 AS after_minus_before FROM kinesis.records;  -- the 'ü' key and the dp_other put

-- sequence_number_for_ordering of the same shard: the new number is larger
WITH a AS (SELECT * FROM kinesis.put_record('dp', 'a', 'same-key')),
     b AS (SELECT p.* FROM a, kinesis.put_record('dp', 'b', 'same-key', sequence_number_for_ordering => a.sequence_number) p)
SELECT a.shard_id = b.shard_id AS same_shard, b.sequence_number::numeric > a.sequence_number::numeric AS larger
  FROM a, b;

-- ---------------------------------------------------------------------
-- put_records
-- ---------------------------------------------------------------------
SELECT failed_record_count, cardinality(records) AS n, encryption_type,
       (SELECT bool_and(r.error_code IS NULL AND r.error_message IS NULL AND length(r.sequence_number) = 56)
          FROM unnest(records) r) AS all_ok
  FROM kinesis.put_records(
         ARRAY(SELECT ROW(convert_to('batch-' || i, 'UTF8'), NULL, 'same')::kinesis.put_records_request_entry
                 FROM generate_series(1, 500) i), 'dp');
-- entries of one shard get increasing numbers in array order
SELECT bool_and(prev IS NULL OR seq > prev) AS in_array_order, count(DISTINCT shard_id) AS shards
  FROM (SELECT r.sequence_number::numeric AS seq, r.shard_id,
               lag(r.sequence_number::numeric) OVER (ORDER BY o) AS prev
          FROM kinesis.put_records(
                 ARRAY(SELECT ROW('x'::bytea, NULL, 'one-key')::kinesis.put_records_request_entry
                         FROM generate_series(1, 20)), 'dp') p,
               unnest(p.records) WITH ORDINALITY AS r(sequence_number, shard_id, error_code, error_message, o)) s;
-- every number put_records returns (formatted incrementally per shard) is
-- the number of the stored record, formatted from scratch
CREATE TABLE pr AS
SELECT r.sequence_number
  FROM kinesis.put_records(
         ARRAY(SELECT ROW('y'::bytea, NULL, 'key-' || i)::kinesis.put_records_request_entry
                 FROM generate_series(1, 300) i), 'dp') p,
       unnest(p.records) r;
SELECT count(*) AS n,
       count(*) FILTER (WHERE pr.sequence_number = kinesis.format_sequence_number(
           sh.create_epoch, k.shard_index, k.seq, floor(extract(epoch FROM k.arrival))::bigint)) AS same,
       count(DISTINCT k.shard_index) AS shards
  FROM pr, kinesis.parse_sequence_number(pr.sequence_number) ps
  JOIN kinesis.stream_meta sm ON sm.stream_name = 'dp'
  JOIN kinesis.records k ON k.stream_id = sm.stream_id AND k.shard_index = ps.shard_index AND k.seq = ps.counter
  JOIN kinesis.shard_meta sh ON sh.stream_id = sm.stream_id AND sh.shard_index = k.shard_index;
-- explicit hash keys per entry
SELECT r.shard_id
  FROM kinesis.put_records(ARRAY[ROW('x', '0', 'k'), ROW('x', '340282366920938463463374607431768211455', 'k')]
                           ::kinesis.put_records_request_entry[], 'dp') p, unnest(p.records) r;

SELECT count(*) AS before FROM kinesis.records \gset
SELECT * FROM kinesis.put_records('{}', 'dp');
SELECT * FROM kinesis.put_records(NULL, 'dp');
DO $$
BEGIN
    PERFORM * FROM kinesis.put_records(ARRAY(SELECT ROW('x', NULL, 'k' || i)::kinesis.put_records_request_entry
                                               FROM generate_series(1, 501) i), 'dp');
EXCEPTION WHEN SQLSTATE 'KN001' THEN
    RAISE NOTICE '% ... %', left(SQLERRM, 111),
        regexp_replace(right(SQLERRM, 150), '@[0-9a-f]{8}', '@<hash>', 'g');
    RAISE NOTICE 'entries printed: %', (SELECT count(*) FROM regexp_matches(SQLERRM, 'PutRecordsRequestEntry@[0-9a-f]{8}', 'g'));
END $$;
SELECT * FROM kinesis.put_records(ARRAY[ROW('x', NULL, 'k'), ROW(NULL, '01', ''), NULL]
                                  ::kinesis.put_records_request_entry[], 'dp');
SELECT * FROM kinesis.put_records(ARRAY[ROW('x', NULL, 'k')]::kinesis.put_records_request_entry[], NULL);
SELECT * FROM kinesis.put_records(ARRAY[ROW('x', NULL, 'k')]::kinesis.put_records_request_entry[], 'nosuchstream');
SELECT * FROM kinesis.put_records(ARRAY[ROW('x', NULL, 'k'), ROW('x', '340282366920938463463374607431768211456', 'k')]
                                  ::kinesis.put_records_request_entry[], 'dp');
SELECT * FROM kinesis.put_records(ARRAY(SELECT ROW(convert_to(repeat('x', 1048576), 'UTF8'), NULL, 'k')::kinesis.put_records_request_entry
                                          FROM generate_series(1, 5)), 'dp');
SELECT count(*) - :before AS written_by_failures FROM kinesis.records;

-- ---------------------------------------------------------------------
-- Iterators and get_records
-- ---------------------------------------------------------------------
SELECT kinesis.create_stream('rd', 1);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT count(*) FROM generate_series(1, 25) i,
       LATERAL kinesis.put_record('rd', convert_to('m' || i, 'UTF8'), 'k' || i) p;
CREATE TABLE seqs AS
SELECT r.sequence_number, convert_from(r.data, 'UTF8') AS msg, ord
  FROM kinesis.get_records(kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'TRIM_HORIZON')) g,
       unnest(g.records) WITH ORDINALITY AS r(sequence_number, approximate_arrival_timestamp, data, partition_key, encryption_type, ord);
SELECT count(*), min(msg), max(msg) FROM seqs;
SELECT bool_and(msg = 'm' || ord) AS in_put_order FROM seqs;

-- follow next_shard_iterator in pages of 10; the last page is caught up
CREATE TABLE pages (page int, n int, behind bigint, first text, last text, it text);
DO $$
DECLARE
    it text := kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'TRIM_HORIZON');
    g record;
BEGIN
    FOR p IN 1..4 LOOP
        SELECT * INTO g FROM kinesis.get_records(it, 10);
        INSERT INTO pages VALUES (p, cardinality(g.records), g.millis_behind_latest,
            convert_from(g.records[1].data, 'UTF8'),
            convert_from(g.records[cardinality(g.records)].data, 'UTF8'), it);
        IF g.next_shard_iterator = it THEN RAISE EXCEPTION 'next iterator equals its input'; END IF;
        it := g.next_shard_iterator;
    END LOOP;
END $$;
SELECT page, n, (n = 10) = (behind > 0) AS zero_iff_caught_up, first, last FROM pages ORDER BY page;

-- read_records: the same pages as rows, then a closing row with no record
-- that carries the iterator
CREATE TABLE row_pages (page int, ord bigint, seq text, msg text, it text, behind bigint);
DO $$
DECLARE
    it text := kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'TRIM_HORIZON');
BEGIN
    FOR p IN 1..4 LOOP
        INSERT INTO row_pages
        SELECT p, r.ordinality, r.sequence_number, convert_from(r.data, 'UTF8'), r.next_shard_iterator,
               r.millis_behind_latest
          FROM kinesis.read_records(it, 10) WITH ORDINALITY AS r;
        SELECT r.it INTO it FROM row_pages r WHERE r.page = p ORDER BY r.ord DESC LIMIT 1;
    END LOOP;
END $$;
SELECT page, count(*) AS rows, count(seq) AS n, min(msg) AS first, max(msg) AS last,
       count(it) AS iterators, bool_and((it IS NOT NULL) = (behind IS NOT NULL)) AS together,
       max(ord) FILTER (WHERE it IS NOT NULL) = max(ord) AS on_last_row,
       bool_and(seq IS NULL) FILTER (WHERE it IS NOT NULL) AS closing_row_has_no_record
  FROM row_pages GROUP BY page ORDER BY page;
-- the same records, numbers and order as get_records
SELECT count(*) AS same FROM row_pages r JOIN seqs s ON s.sequence_number = r.seq AND s.msg = r.msg;
-- bad input is rejected as get_records rejects it
SELECT * FROM kinesis.read_records(NULL);
SELECT * FROM kinesis.read_records('x', 0);

-- loose shard ids, iterator types
SELECT cardinality(records) FROM kinesis.get_records(kinesis.get_shard_iterator('rd', 'shard-0', 'TRIM_HORIZON'));
SELECT cardinality(records) FROM kinesis.get_records(kinesis.get_shard_iterator('rd', 'x-000', 'TRIM_HORIZON'));
SELECT cardinality(records), millis_behind_latest FROM kinesis.get_records(kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'LATEST'));
SELECT convert_from(records[1].data, 'UTF8') AS first, cardinality(records)
  FROM kinesis.get_records(kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'AT_SEQUENCE_NUMBER',
                                                      (SELECT sequence_number FROM seqs WHERE ord = 5)));
SELECT convert_from(records[1].data, 'UTF8') AS first, cardinality(records)
  FROM kinesis.get_records(kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'AFTER_SEQUENCE_NUMBER',
                                                      (SELECT sequence_number FROM seqs WHERE ord = 5)));
SELECT cardinality(records) FROM kinesis.get_records(kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'AT_TIMESTAMP',
                                                      "timestamp" => now() - interval '1 hour'));
SELECT cardinality(records) FROM kinesis.get_records(kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'AT_TIMESTAMP',
                                                      "timestamp" => clock_timestamp()));
-- a shard's StartingSequenceNumber (counter 0) is a valid AT_SEQUENCE_NUMBER start
SELECT cardinality(records) FROM kinesis.get_records(kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'AT_SEQUENCE_NUMBER',
    (SELECT kinesis.format_sequence_number(create_epoch, 0, 0, create_epoch) FROM kinesis.shard_meta
      WHERE stream_id = (SELECT stream_id FROM kinesis.stream_meta WHERE stream_name = 'rd'))));
-- LATEST then a new put: delivered
SELECT kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'LATEST') AS latest \gset
SELECT shard_id FROM kinesis.put_record('rd', 'after-latest', 'k');
SELECT convert_from(r.data, 'UTF8') FROM kinesis.get_records(:'latest') g, unnest(g.records) r;
-- quoted iterators are accepted
SELECT cardinality(records) FROM kinesis.get_records('"' || :'latest' || '"');

-- get_shard_iterator errors
SELECT kinesis.get_shard_iterator(NULL, NULL, NULL);
SELECT kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'OLDEST');
SELECT kinesis.get_shard_iterator('rd', 'bad id!', 'LATEST', 'x1');
SELECT kinesis.get_shard_iterator('rd', 'shardId', 'LATEST');
SELECT kinesis.get_shard_iterator('rd', 'shardId-000000000001', 'LATEST');
SELECT kinesis.get_shard_iterator('nosuchstream', 'shardId-000000000000', 'LATEST');
SELECT kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'AT_SEQUENCE_NUMBER');
SELECT kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'AFTER_SEQUENCE_NUMBER');
SELECT kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'LATEST', (SELECT sequence_number FROM seqs WHERE ord = 1));
SELECT kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'TRIM_HORIZON', (SELECT sequence_number FROM seqs WHERE ord = 1));
SELECT kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'AT_SEQUENCE_NUMBER', '12345');
SELECT kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'AT_SEQUENCE_NUMBER',
                                  kinesis.format_sequence_number(1700000000, 3, 5, 1700000000));
SELECT kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'AT_SEQUENCE_NUMBER',
                                  kinesis.format_sequence_number(1700000000, 0, 5, 1700000000));
SELECT kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'AFTER_SEQUENCE_NUMBER',
    (SELECT kinesis.format_sequence_number(create_epoch, 0, 9223372036854775807, create_epoch) FROM kinesis.shard_meta
      WHERE stream_id = (SELECT stream_id FROM kinesis.stream_meta WHERE stream_name = 'rd')));
SELECT kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'AT_TIMESTAMP');
DO $$
BEGIN
    PERFORM kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'AT_TIMESTAMP', "timestamp" => '2100-01-01'::timestamptz);
EXCEPTION WHEN SQLSTATE 'KN002' THEN
    RAISE NOTICE '%', regexp_replace(SQLERRM, 'currentTimestampInMillis: \d{13}$', 'currentTimestampInMillis: <now>');
END $$;

-- get_records errors
SELECT * FROM kinesis.get_records(NULL);
SELECT * FROM kinesis.get_records('', 0);
SELECT * FROM kinesis.get_records(:'latest', 10001);
SELECT * FROM kinesis.get_records(repeat('A', 513));
SELECT * FROM kinesis.get_records('not an iterator');
-- an edited iterator is rejected: flip one character in the middle
SELECT * FROM kinesis.get_records(overlay(:'latest' PLACING
    CASE WHEN substr(:'latest', 20, 1) = 'A' THEN 'B' ELSE 'A' END FROM 20 FOR 1));
-- a forged iterator signed with another key is rejected
SELECT * FROM kinesis.get_records(
    encode('I'::bytea || substring(decode(:'latest', 'base64') FROM 2 FOR length(decode(:'latest', 'base64')) - 17)
           || substring(hmac('x'::bytea, 'wrong key'::bytea, 'sha256') FROM 1 FOR 16), 'base64'));
-- an iterator older than 300 s expires (signed here with the real key to backdate it)
CREATE FUNCTION backdated_iterator(it text, seconds int) RETURNS text LANGUAGE sql AS $$
    WITH raw AS (SELECT decode(it, 'base64') AS b),
         payload AS (
             SELECT substring(b FROM 2 FOR 24)
                    || int8send((((extract(epoch FROM now()) - seconds) - 946684800) * 1000000)::bigint)
                    || substring(b FROM 34 FOR length(b) - 33 - 16) AS p
               FROM raw)
    SELECT replace(encode('I'::bytea || p
                          || substring(hmac('I'::bytea || p, (SELECT iterator_key FROM kinesis.secrets), 'sha256') FROM 1 FOR 16),
                          'base64'), E'\n', '')
      FROM payload
$$;
SELECT cardinality(records) FROM kinesis.get_records(backdated_iterator(:'latest', 200));
DO $$
BEGIN
    PERFORM * FROM kinesis.get_records(backdated_iterator(kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'LATEST'), 301));
EXCEPTION WHEN SQLSTATE 'KN006' THEN
    RAISE NOTICE '%', regexp_replace(SQLERRM, '[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d UTC \d{4}', '<time>', 'g');
END $$;

-- ---------------------------------------------------------------------
-- get_records caps a response at 10 MiB; retention hides old records
-- ---------------------------------------------------------------------
SELECT kinesis.create_stream('big', 1);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT count(*) FROM (SELECT * FROM kinesis.put_records(
    ARRAY(SELECT ROW(convert_to(repeat('x', 1048000), 'UTF8'), NULL, 'k')::kinesis.put_records_request_entry
            FROM generate_series(1, 4)), 'big')) s;
SELECT count(*) FROM (SELECT * FROM kinesis.put_records(
    ARRAY(SELECT ROW(convert_to(repeat('x', 1048000), 'UTF8'), NULL, 'k')::kinesis.put_records_request_entry
            FROM generate_series(1, 4)), 'big')) s;
SELECT count(*) FROM (SELECT * FROM kinesis.put_records(
    ARRAY(SELECT ROW(convert_to(repeat('x', 1048000), 'UTF8'), NULL, 'k')::kinesis.put_records_request_entry
            FROM generate_series(1, 4)), 'big')) s;
SELECT cardinality(records) AS first_call, millis_behind_latest >= 0 AS behind_ok,
       (SELECT sum(length(r.data)) FROM unnest(records) r) <= 10 * 1048576 AS within_10mib,
       cardinality((kinesis.get_records(next_shard_iterator)).records) AS second_call
  FROM kinesis.get_records(kinesis.get_shard_iterator('big', 'shardId-000000000000', 'TRIM_HORIZON'));

UPDATE kinesis.records SET arrival = arrival - interval '25 hours'
 WHERE stream_id = (SELECT stream_id FROM kinesis.stream_meta WHERE stream_name = 'rd')
   AND seq <= 10;
SELECT cardinality(records) AS within_retention, convert_from(records[1].data, 'UTF8') AS first
  FROM kinesis.get_records(kinesis.get_shard_iterator('rd', 'shardId-000000000000', 'TRIM_HORIZON'));

-- deleting a stream invalidates its iterators
SELECT kinesis.delete_stream('rd');
SELECT * FROM kinesis.get_records(:'latest');
SELECT kinesis.delete_stream('dp');
SELECT kinesis.delete_stream('dp_other');
SELECT kinesis.delete_stream('big');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
SELECT count(*) AS records_left FROM kinesis.records;
