# Sequence counters and in-flight tracking across backend exits, a backend
# crash (kill -9, which makes the postmaster re-initialise shared memory)
# and a clean restart: no committed record is ever lost, and no sequence
# number of a committed record is ever issued again.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'kinesis'\nrestart_after_crash = on\n");
$node->start;

$node->safe_psql('postgres', q{
    CREATE EXTENSION kinesis;
    SELECT kinesis.create_stream('s', 1);
    SELECT kinesis.wait_for_stream('s');
    CREATE TABLE issued (seq numeric PRIMARY KEY, committed boolean);
});

# Put n records in one committed transaction and remember their numbers.
sub put_committed
{
	my ($n, $tag) = @_;
	$node->safe_psql('postgres', qq{
		INSERT INTO issued
		SELECT p.sequence_number::numeric, true
		  FROM generate_series(1, $n) i,
		       LATERAL kinesis.put_record('s', convert_to('$tag-' || i, 'UTF8'), 'k' || i) p;
	});
}

# Read the whole shard from TRIM_HORIZON by following iterators.
sub read_all
{
	return $node->safe_psql('postgres', q{
		DO $$
		DECLARE
		    it text := kinesis.get_shard_iterator('s', 'shardId-000000000000', 'TRIM_HORIZON');
		    g record;
		BEGIN
		    CREATE TEMP TABLE seen (ord serial, seq numeric, data text);
		    LOOP
		        SELECT * INTO g FROM kinesis.get_records(it, 1000);
		        INSERT INTO seen (seq, data)
		        SELECT r.sequence_number::numeric, convert_from(r.data, 'UTF8') FROM unnest(g.records) r;
		        EXIT WHEN cardinality(g.records) = 0;
		        it := g.next_shard_iterator;
		    END LOOP;
		END $$;
		SELECT count(*) || ',' || count(DISTINCT seq) || ','
		       || coalesce(bool_and(prev IS NULL OR seq > prev), true)
		  FROM (SELECT seq, lag(seq) OVER (ORDER BY ord) AS prev FROM seen) s;
	});
}

put_committed(100, 'before');
is(read_all(), '100,100,true', 'committed records readable in order');

# 1. A backend that exits with puts in flight (FATAL via pg_terminate_backend)
#    runs the abort path: its records vanish and readers are not held back.
my $bg = $node->background_psql('postgres');
$bg->query_safe(q{BEGIN; SELECT kinesis.put_record('s', 'doomed', 'k');});
my $doomed = $bg->query_safe('SELECT pg_backend_pid()');
is($node->safe_psql('postgres',
	'SELECT inflight_transactions FROM kinesis.inflight()'), '1', 'one transaction in flight');
is($node->safe_psql('postgres', "SELECT pg_terminate_backend($doomed)"), 't',
	'backend with puts in flight terminated');
$node->poll_query_until('postgres',
	'SELECT inflight_transactions = 0 FROM kinesis.inflight()')
  or die 'in-flight entry not cleared after backend exit';
eval { $bg->quit; };
put_committed(10, 'after-exit');
is(read_all(), '110,110,true', 'terminated backend left no record and no stuck watermark');

# 2. kill -9 of a backend with puts in flight: the postmaster re-initialises
#    shared memory; counters are re-derived from storage.
my $max_before = $node->safe_psql('postgres', 'SELECT max(seq) FROM issued');
$bg = $node->background_psql('postgres', on_error_stop => 0);
$bg->query_safe(q{BEGIN; SELECT kinesis.put_record('s', convert_to('crashed-' || i, 'UTF8'), 'k') FROM generate_series(1, 50) i;});
my $pid = $bg->query_safe('SELECT pg_backend_pid()');
kill 'KILL', $pid;
eval { $bg->quit; };
$node->poll_query_until('postgres', 'SELECT 1', '1')
  or die 'server did not come back after the crash';
is($node->safe_psql('postgres', 'SELECT count(*) FROM kinesis.inflight()'), '0',
	'shared memory starts empty after the crash');
put_committed(10, 'after-crash');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM issued WHERE seq <= $max_before"), '110',
	'every record committed before the crash is still known');
is(read_all(), '120,120,true', 'no committed record lost, no crashed record visible');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM kinesis.records r WHERE convert_from(r.data, 'UTF8') LIKE 'crashed-%'
}), '0', 'records of the crashed transaction are gone');

# 3. Clean restart: counters continue above every committed number.
$node->restart;
put_committed(10, 'after-restart');
is(read_all(), '130,130,true', 'numbers after restart are new and larger');
is($node->safe_psql('postgres', 'SELECT count(*) FROM issued'), '130',
	'no sequence number issued twice to committed records');

# 4. Immediate shutdown (no checkpoint) with committed data: WAL replay
#    restores the records and the counter is derived from them.
put_committed(5, 'before-immediate');
$node->stop('immediate');
$node->start;
put_committed(5, 'after-immediate');
is(read_all(), '140,140,true', 'immediate shutdown loses nothing committed and reuses no number');

# 5. Numbers of rolled-back puts are issued again after a restart (counters
#    resume after the newest stored record), so a reader that caught up must
#    not have moved past them: its old iterator still delivers the record
#    that receives the re-issued number.
$node->safe_psql('postgres', q{
	BEGIN; SELECT kinesis.put_record('s', 'rolled-back', 'k'); ROLLBACK;
	CREATE TABLE cursor AS
	SELECT next_shard_iterator AS it
	  FROM kinesis.get_records(kinesis.get_shard_iterator('s', 'shardId-000000000000', 'LATEST'));
	CREATE TABLE latest AS
	SELECT kinesis.get_shard_iterator('s', 'shardId-000000000000', 'LATEST') AS it;
});
$node->restart;
$node->safe_psql('postgres', q{SELECT kinesis.put_record('s', 'after-restart', 'k')});
is($node->safe_psql('postgres', q{
	SELECT string_agg(convert_from(r.data, 'UTF8'), ',')
	  FROM cursor c, kinesis.get_records(c.it) g, unnest(g.records) r
}), 'after-restart', 'a caught-up iterator gets the record that reuses a rolled-back number');
is($node->safe_psql('postgres', q{
	SELECT string_agg(convert_from(r.data, 'UTF8'), ',')
	  FROM latest l, kinesis.get_records(l.it) g, unnest(g.records) r
}), 'after-restart', 'so does a LATEST iterator taken before the restart');

$node->stop;
done_testing();
