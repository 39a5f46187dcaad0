-- kinesis.reader_memory_keep: a backend that reads keeps the memory of a
-- large answer mapped for its next read (so that the next call does not
-- fault every page in again), and gives it back when the setting is 0.
-- Observed through the backend's own RssAnon (Linux and glibc).
\set VERBOSITY terse
SHOW kinesis.reader_memory_keep;
SELECT kinesis.create_stream('rm', 1);
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
-- 10,000 records of 1,000 bytes: one answer of about 10 MB
SELECT sum(failed_record_count) AS failed
  FROM generate_series(1, 20) AS call,
       LATERAL kinesis.put_records(
           records => ARRAY(SELECT ROW(convert_to(repeat('x', 1000), 'UTF8'), NULL, call || '-' || i)::kinesis.put_records_request_entry
                              FROM generate_series(1, 500) AS i),
           stream_name => 'rm');

CREATE FUNCTION rss_kb() RETURNS bigint LANGUAGE sql VOLATILE
AS $$ SELECT substring(pg_read_file('/proc/self/status') FROM 'RssAnon:\s+(\d+)')::bigint $$;
CREATE FUNCTION read_all() RETURNS bigint LANGUAGE sql VOLATILE
AS $$
    SELECT count(*)
      FROM kinesis.get_records(kinesis.get_shard_iterator('rm', 'shardId-000000000000', 'TRIM_HORIZON'), 10000) AS g,
           unnest(g.records)
$$;
CREATE TEMP TABLE rss (step text, kb bigint);

SET kinesis.reader_memory_keep = 0;
SELECT read_all();
SELECT read_all();
INSERT INTO rss SELECT 'off', rss_kb();
SET kinesis.reader_memory_keep = '64MB';
SELECT read_all();
SELECT read_all();
INSERT INTO rss SELECT 'on', rss_kb();
SET kinesis.reader_memory_keep = 0;
SELECT read_all();
INSERT INTO rss SELECT 'off again', rss_kb();
-- kept: at least the answer's 10 MB more than without; given back after
SELECT (SELECT kb FROM rss WHERE step = 'on') - (SELECT kb FROM rss WHERE step = 'off') > 10000 AS kept,
       (SELECT kb FROM rss WHERE step = 'on') - (SELECT kb FROM rss WHERE step = 'off again') > 10000 AS given_back;

-- bounds
SET kinesis.reader_memory_keep = -1;
SET kinesis.reader_memory_keep = '2GB';
RESET kinesis.reader_memory_keep;
SHOW kinesis.reader_memory_keep;

SELECT kinesis.delete_stream('rm');
SELECT stream_name, task, outcome FROM kinesis.run_maintenance() WHERE task <> 'metrics' ORDER BY 1, 2;
