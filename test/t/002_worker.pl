# The maintenance background worker: the launcher and the per-database
# workers start with the server and when CREATE EXTENSION asks; requests
# wake the worker at commit; it survives a configuration reload, obeys
# kinesis.worker, is started again after it is terminated or crashes, and
# finishes a transition that a crash interrupted; it leaves databases
# without the extension alone and does not block DROP DATABASE; the
# kinesis.*_stream_delay settings hold a transition back; encryption
# changes go UPDATING -> ACTIVE through it too.
#
# Every wait is a poll with the suite's timeout: the tests assert that
# things happen, never how fast.  When a short-lived worker (the probe the
# launcher starts in a database to see whether it has the extension) has
# come and gone is read from pg_stat_database.xact_commit of a database
# no session connects to: the probe's transactions are counted when it
# exits.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('worker');
$node->init;
# A nap of an hour: until part 2 shortens it, a transition that completes
# can only have been started by the wake-up at commit.  No autovacuum: its
# workers' transactions would count with the probes'.
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'kinesis'
restart_after_crash = on
autovacuum = off
kinesis.worker_naptime = '1h'
});
$node->start;

# The pid of the maintenance worker connected to a database, '' if none.
sub worker_pid
{
	my ($db) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT string_agg(pid::text, ',') FROM pg_stat_activity
		 WHERE backend_type = 'kinesis maintenance' AND datname = '$db'
	});
}

# Transactions committed in a database, by the statistics.
sub xact_commits
{
	my ($db) = @_;
	return $node->safe_psql('postgres',
		"SELECT coalesce(xact_commit, 0) FROM pg_stat_database WHERE datname = '$db'");
}

# Wait until a database's transaction count passes a value: a probe
# has looked into it and left.
sub wait_for_probe
{
	my ($db, $after, $what) = @_;
	ok($node->poll_query_until('postgres',
		"SELECT coalesce(xact_commit, 0) > $after FROM pg_stat_database WHERE datname = '$db'"),
		$what);
}

sub launcher_pid
{
	return $node->safe_psql('postgres', q{
		SELECT string_agg(pid::text, ',') FROM pg_stat_activity
		 WHERE backend_type = 'kinesis launcher'
	});
}

# Wait until exactly one maintenance worker is connected to each database
# named, none of them with a pid in @not (a worker that was stopped).
sub wait_for_workers
{
	my ($dbs, $not, $what) = @_;
	my $names = join(',', map { "'$_'" } @$dbs);
	my $old = join(',', @$not, 0);
	ok($node->poll_query_until('postgres', qq{
		SELECT count(DISTINCT datname) = ${\ scalar(@$dbs)} AND count(*) = ${\ scalar(@$dbs)}
		       AND bool_and(pid NOT IN ($old))
		  FROM pg_stat_activity
		 WHERE backend_type = 'kinesis maintenance' AND datname IN ($names)
	}), $what);
}

# Wait until a stream has a status (undef: until it is gone).
sub wait_for_status
{
	my ($db, $stream, $status, $what) = @_;
	my $query = defined $status
	  ? "SELECT stream_status FROM kinesis.streams WHERE stream_name = '$stream'"
	  : "SELECT count(*) FROM kinesis.streams WHERE stream_name = '$stream'";
	ok($node->poll_query_until($db, $query, $status // '0'), $what);
}

sub stream_status
{
	my ($db, $stream) = @_;
	return $node->safe_psql($db,
		"SELECT stream_status FROM kinesis.streams WHERE stream_name = '$stream'");
}

# ---------------------------------------------------------------------
# 1. Start-up: the launcher starts with the server, and so does the worker
#    of a database that already has the extension (no request wakes it:
#    the launcher's first scan starts it).  CREATE EXTENSION in a new
#    database starts a worker there, and a request is carried out without
#    anyone calling kinesis.run_maintenance().  A database without the
#    extension is looked into at start-up and left alone.
# ---------------------------------------------------------------------
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'kinesis launcher'
}), 'the launcher starts with the server');

$node->safe_psql('postgres', 'CREATE DATABASE noext');
wait_for_probe('noext', 0, 'the launcher looks into a new database');
$node->safe_psql('postgres', 'CREATE EXTENSION kinesis');
# a clean restart keeps the statistics
my $probed = xact_commits('noext');
$node->restart;
wait_for_workers(['postgres'], [], 'after a restart, a worker runs in the database with the extension');
is($node->safe_psql('postgres', 'SELECT kinesis.maintenance_worker_pid()'), worker_pid('postgres'),
	'kinesis.maintenance_worker_pid() is the worker pg_stat_activity shows');
wait_for_probe('noext', $probed, 'at start-up the launcher looks into the database without the extension');
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 0 FROM pg_stat_activity
	 WHERE backend_type = 'kinesis maintenance' AND datname = 'noext'
}), 'and no worker stays there');
$probed = xact_commits('noext');

# CREATE EXTENSION after the probe has left: only the request at commit
# can bring the worker.
$node->safe_psql('postgres', 'CREATE DATABASE db1');
wait_for_probe('db1', 0, 'the launcher looks into another new database');
$node->safe_psql('db1', 'CREATE EXTENSION kinesis');
wait_for_workers(['db1'], [], 'CREATE EXTENSION there starts a worker');
# once its first round is over, only a wake-up makes it look again
ok($node->poll_query_until('postgres', q{
	SELECT state FROM pg_stat_activity WHERE backend_type = 'kinesis maintenance' AND datname = 'db1'
}, 'idle'), 'the worker waits for work');

$node->safe_psql('db1', q{SELECT kinesis.create_stream('s1', 2)});
wait_for_status('db1', 's1', 'ACTIVE', 'a new stream becomes ACTIVE through the worker, woken at commit');
is($node->safe_psql('db1', q{
	SELECT outcome || ': ' || detail FROM kinesis.maintenance WHERE stream_name = 's1' AND task = 'create'
}), 'done: ACTIVE with 2 shards', 'kinesis.maintenance shows what the worker did');

# ---------------------------------------------------------------------
# 2. Configuration: a reload (SIGHUP) keeps the same worker, which goes on
#    working with the new settings; kinesis.worker = off stops the workers
#    and on starts them again.
# ---------------------------------------------------------------------
my $pid = worker_pid('db1');
my $launcher = launcher_pid();
$node->safe_psql('postgres', q{
	ALTER SYSTEM SET kinesis.worker_naptime = '100ms';
	SELECT pg_reload_conf();
});
$node->safe_psql('db1', q{SELECT kinesis.create_stream('s2', 2)});
wait_for_status('db1', 's2', 'ACTIVE', 'the worker still carries out requests after a reload');
is(worker_pid('db1'), $pid, 'a reload does not restart the worker');
is(launcher_pid(), $launcher, 'nor the launcher');

$node->safe_psql('postgres', q{
	ALTER SYSTEM SET kinesis.worker = off;
	SELECT pg_reload_conf();
});
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'kinesis maintenance'
}), 'kinesis.worker = off stops every worker');
is($node->safe_psql('db1', 'SELECT kinesis.maintenance_worker_pid() IS NULL'), 't',
	'kinesis.maintenance_worker_pid() is NULL while no worker runs');
is(launcher_pid(), $launcher, 'the launcher stays, idle');
# a request made meanwhile waits for the worker's return
$node->safe_psql('db1', q{SELECT kinesis.create_stream('s3', 1)});
is(stream_status('db1', 's3'), 'CREATING', 'a stream created while the worker is off is CREATING');

$node->safe_psql('postgres', q{
	ALTER SYSTEM SET kinesis.worker = on;
	SELECT pg_reload_conf();
});
wait_for_workers(['postgres', 'db1'], [$pid], 'kinesis.worker = on starts the workers again');
wait_for_status('db1', 's3', 'ACTIVE', 'and the request made meanwhile is carried out');
# seconds after the start-up probe, with workers stopped and started again
# meanwhile: the launcher has not gone back to the database without the
# extension (nothing else connects there)
is(xact_commits('noext'), $probed, 'the database without the extension was not looked into again');

# ---------------------------------------------------------------------
# 3. A worker that is terminated is started again; one that crashes
#    (kill -9: the postmaster re-initialises shared memory and restarts
#    every process) comes back with the rest, and the streams are intact.
# ---------------------------------------------------------------------
$pid = worker_pid('db1');
is($node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)"), 't', 'worker terminated');
wait_for_workers(['db1'], [$pid], 'a terminated worker is replaced');
is($node->safe_psql('db1', 'SELECT kinesis.maintenance_worker_pid()'), worker_pid('db1'),
	'kinesis.maintenance_worker_pid() names the new worker');
$node->safe_psql('db1', q{SELECT kinesis.create_stream('s4', 1)});
wait_for_status('db1', 's4', 'ACTIVE', 'the new worker carries out a create');
$node->safe_psql('db1', q{SELECT kinesis.delete_stream('s4')});
wait_for_status('db1', 's4', undef, 'and a delete');

$node->safe_psql('db1', q{
	SELECT count(*) FROM generate_series(1, 20) i,
	       LATERAL kinesis.put_record('s1', convert_to('r' || i, 'UTF8'), 'k' || i) p
});
$pid = worker_pid('db1');
$launcher = launcher_pid();
kill 'KILL', $pid;
# the launcher is the one static worker: a new one means the restart happened
ok($node->poll_query_until('postgres', qq{
	SELECT count(*) = 1 FROM pg_stat_activity
	 WHERE backend_type = 'kinesis launcher' AND pid <> $launcher
}), 'the server restarts after the worker is killed');
wait_for_workers(['postgres', 'db1'], [$pid], 'the workers come back after the crash');
is($node->safe_psql('db1', q{
	SELECT string_agg(stream_name || ':' || stream_status || ':' || open_shard_count, ','
	                  ORDER BY stream_name)
	  FROM kinesis.streams
}), 's1:ACTIVE:2,s2:ACTIVE:2,s3:ACTIVE:1', 'the streams are intact after the crash');
is($node->safe_psql('db1', q{SELECT count(*) FROM kinesis.stream_records WHERE stream_name = 's1'}),
	'20', 'and so are their records');
$node->safe_psql('db1', q{SELECT kinesis.create_stream('s5', 1)});
wait_for_status('db1', 's5', 'ACTIVE', 'transitions complete after the crash');

# ---------------------------------------------------------------------
# 4. A crash while a transition is pending: the request is committed (the
#    stream is UPDATING), kinesis.update_stream_delay holds the worker
#    back, and the server goes down, once by kill -9 of the worker and
#    once by an immediate shutdown.  Afterwards the transition completes,
#    done by maintenance after the restart, with the shards and lineage it
#    asked for.
# ---------------------------------------------------------------------

# Request a resharding with a delay of 5 s and report the status right
# after the commit; 0 if the request failed.
sub delayed_request
{
	my ($call, $stream) = @_;
	my ($rc, $out, $err) = $node->psql('db1', qq{
		SET kinesis.update_stream_delay = 5000;
		SELECT $call;
		SELECT stream_status || ',' || (pending ->> 'op') FROM kinesis.stream_meta
		 WHERE stream_name = '$stream';
	});
	is($rc, 0, "$call with a delay is accepted") or diag($err);
	# the call's own result comes first
	return $rc == 0 ? (split /\n/, $out)[-1] : 0;
}

# The open shards of a stream as index<parent[+adjacent parent], with the
# last digit of the parents' ids (the streams here have fewer than ten).
sub open_lineage
{
	my ($stream) = @_;
	return $node->safe_psql('db1', qq{
		SELECT string_agg(shard_index || '<' || coalesce(right(parent_shard_id, 1), '')
		                  || coalesce('+' || right(adjacent_parent_shard_id, 1), ''), ','
		                  ORDER BY shard_index)
		  FROM kinesis.shards WHERE stream_name = '$stream' AND is_open
	});
}

# Open shards tile the hash key space without gap or overlap, each inside
# its parent's range; the parents are closed with an ending number.
sub lineage_valid
{
	my ($stream) = @_;
	return $node->safe_psql('db1', qq{
		WITH o AS (
		    SELECT c.*, lag(c.ending_hash_key) OVER (ORDER BY c.starting_hash_key) AS prev_end
		      FROM kinesis.shards c WHERE c.stream_name = '$stream' AND c.is_open)
		SELECT min(o.starting_hash_key) = 0
		   AND max(o.ending_hash_key) = 2::numeric ^ 128 - 1
		   AND bool_and(o.prev_end IS NULL OR o.starting_hash_key = o.prev_end + 1)
		   AND bool_and(p.shard_id IS NULL
		                OR NOT p.is_open AND p.ending_sequence_number IS NOT NULL
		                   AND (a.shard_id IS NULL OR NOT a.is_open AND a.ending_sequence_number IS NOT NULL)
		                   AND o.starting_hash_key >= least(p.starting_hash_key, a.starting_hash_key)
		                   AND o.ending_hash_key <= greatest(p.ending_hash_key, a.ending_hash_key))
		  FROM o
		  LEFT JOIN kinesis.shards p ON p.stream_name = o.stream_name AND p.shard_id = o.parent_shard_id
		  LEFT JOIN kinesis.shards a ON a.stream_name = o.stream_name
		                            AND a.shard_id = o.adjacent_parent_shard_id
	});
}

# The reshard row of kinesis.maintenance was written after this server
# started: the work was done after the crash, not before it.
sub resharded_after_restart
{
	my ($stream) = @_;
	return $node->safe_psql('db1', qq{
		SELECT outcome = 'done' AND last_run > pg_postmaster_start_time()
		  FROM kinesis.maintenance WHERE stream_name = '$stream' AND task = 'reshard'
	});
}

# 4a. split_shard pending, kill -9 of the worker.  A crash restart keeps
#     the postmaster, so its start time does not tell the crash from the
#     work: the launcher's start is compared instead.
SKIP:
{
	my $pending = delayed_request(
		q{kinesis.split_shard('s2', 'shardId-000000000000', '85070591730234615865843651857942052864')},
		's2');
	skip 'the delayed split was not accepted', 6 unless $pending;
	is($pending, 'UPDATING,split', 'the stream is UPDATING with the split pending');
	$pid = worker_pid('db1');
	$launcher = launcher_pid();
	kill 'KILL', $pid;
	ok($node->poll_query_until('postgres', qq{
		SELECT count(*) = 1 FROM pg_stat_activity
		 WHERE backend_type = 'kinesis launcher' AND pid <> $launcher
	}), 'the server restarts after the worker is killed with a split pending');
	wait_for_status('db1', 's2', 'ACTIVE', 'the pending split completes after the crash');
	is($node->safe_psql('db1', q{
		SELECT m.outcome = 'done' AND m.last_run > a.backend_start
		  FROM kinesis.maintenance m, pg_stat_activity a
		 WHERE m.stream_name = 's2' AND m.task = 'reshard' AND a.backend_type = 'kinesis launcher'
	}), 't', 'the split was carried out after the crash');
	is(open_lineage('s2'), '1<,2<0,3<0', 'the split shard is replaced by its two children');
	is(lineage_valid('s2'), 't', 'with valid hash ranges and lineage');
}

# 4b. update_shard_count pending, immediate shutdown (no checkpoint).
$node->safe_psql('db1', q{SELECT kinesis.create_stream('r', 2)});
wait_for_status('db1', 'r', 'ACTIVE', 'stream to rescale created');
SKIP:
{
	my $pending = delayed_request(q{kinesis.update_shard_count('r', 4)}, 'r');
	skip 'the delayed UpdateShardCount was not accepted', 6 unless $pending;
	is($pending, 'UPDATING,scale', 'the stream is UPDATING with the scaling pending');
	$node->stop('immediate');
	$node->start;
	wait_for_workers(['postgres', 'db1'], [], 'the workers start after an immediate shutdown');
	wait_for_status('db1', 'r', 'ACTIVE', 'the pending UpdateShardCount completes after the restart');
	is(resharded_after_restart('r'), 't', 'the scaling was carried out after the restart');
	is(open_lineage('r'), '2<0,3<0,4<1,5<1', 'each of the two shards is split in two');
	is(lineage_valid('r'), 't', 'with valid hash ranges and lineage');
}

# 4c. StartStreamEncryption pending, immediate shutdown: the switch is
#     carried out after the restart; records put before it stay in
#     plaintext, records put after it are stored encrypted, and both read
#     back.  Then StopStreamEncryption without a delay: the wake-up at
#     commit carries it out (the nap is an hour).
$node->safe_psql('db1', q{SELECT kinesis.create_stream('enc', 1)});
wait_for_status('db1', 'enc', 'ACTIVE', 'stream to encrypt created');
SKIP:
{
	my $pending = delayed_request(
		q{kinesis.start_stream_encryption('enc', 'KMS', 'alias/aws/kinesis')}, 'enc');
	skip 'the delayed StartStreamEncryption was not accepted', 9 unless $pending;
	is($pending, 'UPDATING,start_encryption', 'the stream is UPDATING with encryption pending');
	is($node->safe_psql('db1', q{SELECT encryption_type FROM kinesis.put_record('enc', 'before', 'k')}),
		'NONE', 'a put while UPDATING is stored in plaintext');
	$node->stop('immediate');
	$node->start;
	wait_for_workers(['postgres', 'db1'], [], 'the workers start after an immediate shutdown');
	wait_for_status('db1', 'enc', 'ACTIVE', 'the pending StartStreamEncryption completes after the restart');
	is($node->safe_psql('db1', q{
		SELECT outcome = 'done' AND last_run > pg_postmaster_start_time()
		  FROM kinesis.maintenance WHERE stream_name = 'enc' AND task = 'encryption'}),
		't', 'the switch was carried out after the restart');
	is($node->safe_psql('db1', q{SELECT encryption_type FROM kinesis.put_record('enc', 'after', 'k')}),
		'KMS', 'a put after the switch is encrypted');
	is($node->safe_psql('db1', q{
		SELECT string_agg(convert_from(r.data, 'UTF8') || ':' || r.encryption_type, ',')
		  FROM kinesis.get_records(kinesis.get_shard_iterator('enc', 'shardId-000000000000',
		                                                     'TRIM_HORIZON')) g,
		       unnest(g.records) r}),
		'before:NONE,after:KMS', 'both records read back, each with its own encryption type');
	is($node->safe_psql('db1', q{
		SELECT count(*) FROM kinesis.records r JOIN kinesis.stream_meta s USING (stream_id)
		 WHERE s.stream_name = 'enc' AND position('after'::bytea IN r.data) > 0}),
		'0', 'the encrypted record is not stored in plaintext');
	$node->safe_psql('db1',
		q{SELECT kinesis.stop_stream_encryption('enc', 'KMS', 'alias/aws/kinesis')});
	ok($node->poll_query_until('db1', q{
		SELECT stream_status = 'ACTIVE' AND encryption_type = 'NONE'
		  FROM kinesis.streams WHERE stream_name = 'enc'}),
		'StopStreamEncryption is carried out by the wake-up at commit');
}

# ---------------------------------------------------------------------
# 5. Databases without the extension: the launcher's probe at start-up
#    leaves them at once, also after the crashes of parts 3 and 4 (which
#    reset the statistics).  DROP DATABASE of a database whose worker runs
#    is not blocked by it.
# ---------------------------------------------------------------------
wait_for_probe('noext', 0, 'after a crash the launcher looks into the database without the extension');
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 0 FROM pg_stat_activity
	 WHERE backend_type = 'kinesis maintenance' AND datname = 'noext'
}), 'and no worker stays there');

$node->safe_psql('postgres', 'CREATE DATABASE dropme');
$node->safe_psql('dropme', q{CREATE EXTENSION kinesis; SELECT kinesis.create_stream('d', 1);});
wait_for_workers(['dropme'], [], 'a worker runs in the database to drop');
wait_for_status('dropme', 'd', 'ACTIVE', 'and has done its work there');
my ($rc, $out, $err) = $node->psql('postgres', 'DROP DATABASE dropme');
is($rc, 0, 'DROP DATABASE succeeds although a worker ran there') or diag($err);
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'kinesis maintenance' AND datname = 'dropme'
}), '0', 'the dropped database has no worker');
# the other workers are untouched, and still work
like(worker_pid('db1'), qr/^\d+$/, 'the worker of another database still runs');
$node->safe_psql('db1', q{SELECT kinesis.create_stream('s6', 1)});
wait_for_status('db1', 's6', 'ACTIVE', 'and still carries out requests');

# ---------------------------------------------------------------------
# 6. Delays: kinesis.create_stream_delay keeps a new stream CREATING (it
#    is described, but puts to it fail as for a missing stream) until the
#    delay has passed; kinesis.delete_stream_delay keeps a deleted one
#    DELETING.
# ---------------------------------------------------------------------
($rc, $out, $err) = $node->psql('db1', q{
	SET kinesis.create_stream_delay = 1500;
	SELECT kinesis.create_stream('late', 1);
	SELECT (kinesis.describe_stream('late')).stream_status;
});
is($rc, 0, 'create_stream with kinesis.create_stream_delay is accepted') or diag($err);
SKIP:
{
	skip 'the delayed create was not accepted', 6 unless $rc == 0;
	is((split /\n/, $out)[-1], 'CREATING', 'right after the create the stream is described as CREATING');
	($rc, $out, $err) = $node->psql('db1', q{SELECT kinesis.put_record('late', 'x', 'k')});
	like($err, qr/ResourceNotFoundException/, 'a put to the CREATING stream fails as for a missing stream');
	($rc, $out, $err) = $node->psql('db1', q{SELECT kinesis.wait_for_stream('late', 'ACTIVE', '3 min')});
	is($rc, 0, 'the stream becomes ACTIVE after the delay') or diag($err);
	($rc, $out, $err) = $node->psql('db1', q{SELECT kinesis.put_record('late', 'x', 'k')});
	is($rc, 0, 'then puts succeed') or diag($err);

	($rc, $out, $err) = $node->psql('db1', q{
		SET kinesis.delete_stream_delay = 1500;
		SELECT kinesis.delete_stream('late');
		SELECT (kinesis.describe_stream('late')).stream_status;
	});
	is((split /\n/, $out)[-1], 'DELETING', 'right after a delete with a delay the stream is DELETING') or diag($err);
	($rc, $out, $err) = $node->psql('db1', q{SELECT kinesis.wait_for_stream('late', NULL, '3 min')});
	is($rc, 0, 'and is gone after the delay') or diag($err);
}

$node->stop;
done_testing();
