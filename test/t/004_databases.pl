# Two databases with the extension, each with a stream of the same id: the
# shared in-flight table keeps them apart.  Counters, in-flight watermarks
# and the counters rebuilt after a restart are per database, so a put in
# one never holds back or renumbers the other.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dbs');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'kinesis'\n");
$node->start;

for my $db ('a', 'b')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, q{
		CREATE EXTENSION kinesis;
		SELECT kinesis.create_stream('s', 1);
		SELECT kinesis.wait_for_stream('s');
	});
}
is($node->safe_psql('a', "SELECT stream_id FROM kinesis.stream_meta"),
	$node->safe_psql('b', "SELECT stream_id FROM kinesis.stream_meta"),
	'both streams have the same id');

# the counter of the shard, from the sequence number put_record returns
sub put_counter
{
	my ($db) = @_;
	return $node->safe_psql($db, q{
		SELECT (kinesis.parse_sequence_number(sequence_number)).counter
		  FROM kinesis.put_record('s', 'x', 'k')});
}

$node->safe_psql('a', q{DO $$ BEGIN FOR i IN 1 .. 10 LOOP PERFORM kinesis.put_record('s', 'x', 'k'); END LOOP; END $$});
is(put_counter('a'), '11', 'database a counts its own records');
is(put_counter('b'), '1', 'database b starts at 1');

# a transaction with a put in flight in a does not hold back readers of b
my $open = $node->background_psql('a');
$open->query_safe(q{BEGIN; SELECT kinesis.put_record('s', 'pending', 'k')});
is($node->safe_psql('b', q{
	SELECT cardinality(records)
	  FROM kinesis.get_records(kinesis.get_shard_iterator('s', 'shardId-000000000000', 'TRIM_HORIZON'))}),
	'1', 'a put in flight in database a does not hold back database b');
is($node->safe_psql('a', q{
	SELECT cardinality(records)
	  FROM kinesis.get_records(kinesis.get_shard_iterator('s', 'shardId-000000000000', 'TRIM_HORIZON'))}),
	'11', 'but it holds back its own database');
$open->query_safe('COMMIT');
$open->quit;

# after a restart each database rebuilds its counters from its own records
$node->restart;
is(put_counter('b'), '2', 'database b resumes after its own records');
is(put_counter('a'), '13', 'database a resumes after its own records');
is($node->safe_psql('b', q{SELECT kinesis.maintenance_worker_pid() IS NOT NULL}), 't',
	'each database has its maintenance worker');

$node->stop;
done_testing();
