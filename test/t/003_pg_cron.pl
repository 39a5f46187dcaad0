# Maintenance without the worker: kinesis.worker = off and pg_cron running
# kinesis.run_maintenance() on a schedule.  A new stream becomes ACTIVE
# through a cron job, and no maintenance worker runs.  Skipped where
# pg_cron is not installed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cron');
plan skip_all => 'pg_cron is not installed'
  unless -e $node->config_data('--sharedir') . '/extension/pg_cron.control';

$node->init;
# TAP clusters listen on a Unix socket only, and pg_cron connects over TCP
# to localhost unless it runs its jobs in background workers.
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'kinesis,pg_cron'
kinesis.worker = off
cron.database_name = 'postgres'
cron.use_background_workers = on
});
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron; CREATE EXTENSION kinesis;');

# Every second where pg_cron takes interval schedules (1.5 on); older
# versions take cron expressions only, whose finest step is a minute, well
# within the suite's timeout.
my ($rc, $out, $err) = $node->psql('postgres', q{
	SELECT cron.schedule('kinesis-maintenance', '1 second', 'SELECT count(*) FROM kinesis.run_maintenance()')
});
if ($rc != 0)
{
	note "pg_cron refused an interval schedule ($err); scheduling every minute";
	$node->safe_psql('postgres', q{
		SELECT cron.schedule('kinesis-maintenance', '* * * * *', 'SELECT count(*) FROM kinesis.run_maintenance()')
	});
}

$node->safe_psql('postgres', q{SELECT kinesis.create_stream('s', 2)});
ok($node->poll_query_until('postgres', q{
	SELECT stream_status FROM kinesis.streams WHERE stream_name = 's'
}, 'ACTIVE'), 'the stream becomes ACTIVE');

# The create was done inside a successful run of the cron job (the run's
# row is completed after the job's own transaction commits, hence a poll).
ok($node->poll_query_until('postgres', q{
	SELECT count(*) = 1
	  FROM kinesis.maintenance m, cron.job_run_details d
	  JOIN cron.job j USING (jobid)
	 WHERE m.stream_name = 's' AND m.task = 'create' AND m.outcome = 'done'
	   AND j.jobname = 'kinesis-maintenance' AND d.status = 'succeeded'
	   AND m.last_run BETWEEN d.start_time AND d.end_time
}), 'by a run of the cron job');

is($node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'kinesis maintenance'
}), '0', 'no maintenance worker runs');
is($node->safe_psql('postgres', 'SELECT kinesis.maintenance_worker_pid() IS NULL'), 't',
	'kinesis.maintenance_worker_pid() is NULL');

$node->safe_psql('postgres', q{SELECT kinesis.put_record('s', 'x', 'k')});
is($node->safe_psql('postgres', q{SELECT count(*) FROM kinesis.stream_records WHERE stream_name = 's'}),
	'1', 'the stream takes records');

$node->stop;
done_testing();
