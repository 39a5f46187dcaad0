# Consumer transitions carried out by the maintenance worker: a registered
# consumer becomes ACTIVE, a deregistered one goes, a consumer delay is
# honoured, and DeleteStream with EnforceConsumerDeletion removes the stream
# with its consumers and their checkpoints.  No run_maintenance() here: only
# the worker can make these happen.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('consumers');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'kinesis'\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION kinesis;
	SELECT kinesis.create_stream('s', 1);
	SELECT kinesis.wait_for_stream('s');
});

sub status
{
	my ($name) = @_;
	return $node->safe_psql('postgres', qq{
		SELECT coalesce((SELECT consumer_status FROM kinesis.consumers WHERE consumer_name = '$name'), 'gone')});
}

is($node->safe_psql('postgres', q{
	SELECT consumer_status FROM kinesis.register_stream_consumer(kinesis.stream_arn('s'), 'c1')}),
	'CREATING', 'a consumer is CREATING when registered');
ok($node->poll_query_until('postgres',
	q{SELECT consumer_status = 'ACTIVE' FROM kinesis.consumers WHERE consumer_name = 'c1'}),
	'the worker makes it ACTIVE');

# a delay keeps it CREATING for a while
$node->safe_psql('postgres', q{
	SET kinesis.consumer_delay = '2s';
	SELECT kinesis.register_stream_consumer(kinesis.stream_arn('s'), 'c2');
});
is(status('c2'), 'CREATING', 'with a delay it is still CREATING at first');
ok($node->poll_query_until('postgres',
	q{SELECT consumer_status = 'ACTIVE' FROM kinesis.consumers WHERE consumer_name = 'c2'}),
	'and ACTIVE once the delay has passed');

$node->safe_psql('postgres', q{SELECT kinesis.deregister_stream_consumer(kinesis.stream_arn('s'), 'c1')});
ok($node->poll_query_until('postgres',
	q{SELECT NOT EXISTS (SELECT 1 FROM kinesis.consumers WHERE consumer_name = 'c1')}),
	'a deregistered consumer goes');

$node->safe_psql('postgres', q{
	SELECT kinesis.put_record('s', 'x', 'k');
	SELECT kinesis.checkpoint('s', 'c2', 'shardId-000000000000', sequence_number)
	  FROM kinesis.stream_records WHERE stream_name = 's';
});
my ($rc, $out, $err) = $node->psql('postgres', q{SELECT kinesis.delete_stream('s')});
like($err, qr/ResourceInUseException/, 'DeleteStream is refused while a consumer is registered');
$node->safe_psql('postgres', q{SELECT kinesis.delete_stream('s', enforce_consumer_deletion => true)});
ok($node->poll_query_until('postgres', q{
	SELECT NOT EXISTS (SELECT 1 FROM kinesis.stream_meta)
	   AND NOT EXISTS (SELECT 1 FROM kinesis.consumers)
	   AND NOT EXISTS (SELECT 1 FROM kinesis.checkpoints)}),
	'with EnforceConsumerDeletion the stream goes with its consumers and checkpoints');

$node->stop;
done_testing();
