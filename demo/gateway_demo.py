#!/usr/bin/env python3
"""The second half of the demo: the same stream through the wire gateway.

An unchanged boto3 client, pointed at kinesis-gateway with endpoint_url and
an access key made with kinesis.create_access_key(), lists the streams,
reads the row changes the trigger put into 'orders' shard by shard, puts a
record of its own and reads it back.  Exits non-zero if anything is off.

    python3 demo/gateway_demo.py ENDPOINT ACCESS_KEY_ID SECRET_ACCESS_KEY
"""
import json
import sys

import boto3


def main():
    endpoint, key_id, secret = sys.argv[1:4]
    kinesis = boto3.client('kinesis', endpoint_url=endpoint, region_name='us-east-1',
                           aws_access_key_id=key_id, aws_secret_access_key=secret)

    print('ListStreams:', kinesis.list_streams()['StreamNames'])
    events = []
    for shard in kinesis.list_shards(StreamName='orders')['Shards']:
        it = kinesis.get_shard_iterator(StreamName='orders', ShardId=shard['ShardId'],
                                        ShardIteratorType='TRIM_HORIZON')['ShardIterator']
        while it:
            page = kinesis.get_records(ShardIterator=it, Limit=100)
            events += [(shard['ShardId'], json.loads(r['Data'])) for r in page['Records']]
            if not page['Records'] and page['MillisBehindLatest'] == 0:
                break
            it = page.get('NextShardIterator')
    for shard_id, e in events:
        print(f"  {shard_id}  {e['operation']:<6} {json.dumps(e.get('new') or e.get('old'))}")
    if len(events) != 6:
        sys.exit(f'expected the 6 committed row changes, read {len(events)}')

    put = kinesis.put_record(StreamName='orders', Data=b'{"operation": "hello from boto3"}',
                             PartitionKey='boto3')
    it = kinesis.get_shard_iterator(StreamName='orders', ShardId=put['ShardId'],
                                    ShardIteratorType='AT_SEQUENCE_NUMBER',
                                    StartingSequenceNumber=put['SequenceNumber'])['ShardIterator']
    back = kinesis.get_records(ShardIterator=it, Limit=1)['Records'][0]
    print('PutRecord then GetRecords:', back['SequenceNumber'], back['Data'].decode())
    if back['Data'] != b'{"operation": "hello from boto3"}':
        sys.exit('the record read back differs from the one put')
    print('ok: boto3 read the trigger-produced events and its own record through the gateway')


if __name__ == '__main__':
    main()
