// AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis) against kinesis-gateway.
//
//   cd test/gateway/sdk_js && npm ci && node --test --test-reporter=tap test.mjs
//
// Environment: KGW_ENDPOINT, KGW_REGION, KGW_ACCOUNT, KGW_ADMIN_KEY/SECRET,
// KGW_CONSUMER_KEY/SECRET, KGW_BACKEND ('gateway' or 'kinesalite', for development),
// KGW_JS_HTTP1=1 to give every client an HTTP/1.1 handler (kinesalite speaks no HTTP/2).
//
// In Node the Kinesis client's default request handler is NodeHttp2Handler, for every
// operation, not only SubscribeToShard: with an http:// endpoint that is HTTP/2 cleartext
// with prior knowledge (h2c), one new session per request (disableConcurrentStreams).

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  KinesisClient,
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  DescribeStreamSummaryCommand,
  ListStreamsCommand,
  ListShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  GetShardIteratorCommand,
  GetRecordsCommand,
  RegisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  SubscribeToShardCommand,
  waitUntilStreamExists,
  waitUntilStreamNotExists,
  paginateListStreams,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const ENDPOINT = process.env.KGW_ENDPOINT || 'http://127.0.0.1:4567';
const REGION = process.env.KGW_REGION || 'us-east-1';
const ACCOUNT = process.env.KGW_ACCOUNT || '000000000000';
const GATEWAY = (process.env.KGW_BACKEND || 'gateway') === 'gateway';
const HTTP1 = process.env.KGW_JS_HTTP1 === '1';
// KGW_JS_NOAUTH=1: KGW_ENDPOINT is a gateway started with --auth none (run.sh runs the
// suite there too, which tells HTTP/2 transport problems apart from SigV4 ones)
const NOAUTH = process.env.KGW_JS_NOAUTH === '1';
const gatewayOnly = GATEWAY ? {} : { skip: 'not supported by ' + process.env.KGW_BACKEND };
const sigv4Only = !GATEWAY ? gatewayOnly : NOAUTH ? { skip: 'the gateway runs with --auth none' } : {};

function creds(role) {
  const k = process.env[`KGW_${role.toUpperCase()}_KEY`];
  const s = process.env[`KGW_${role.toUpperCase()}_SECRET`];
  if (k && s) return { accessKeyId: k, secretAccessKey: s };
  if (GATEWAY && !NOAUTH) throw new Error(`KGW_${role.toUpperCase()}_KEY/SECRET not set`);
  return { accessKeyId: 'AKIDKINESALITE', secretAccessKey: 'kinesalite' };
}

function makeClient(role = 'admin', opts = {}) {
  const cfg = {
    endpoint: ENDPOINT,
    region: REGION,
    credentials: opts.credentials || creds(role),
    maxAttempts: 1,
  };
  if (opts.http1 || (HTTP1 && !opts.http2)) {
    cfg.requestHandler = new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 60000 });
  }
  return new KinesisClient(cfg);
}

let seq = 0;
function uniqueName(prefix) {
  seq += 1;
  const rand = Math.random().toString(36).slice(2, 8);
  return `kgwjs_${prefix}_${process.pid}_${seq}_${rand}`;
}

const WAIT = { minDelay: 1, maxDelay: 2, maxWaitTime: 60 };
const enc = new TextEncoder();
const dec = new TextDecoder();

const admin = makeClient('admin');
const made = [];

async function createStream(prefix, shards) {
  const name = uniqueName(prefix);
  made.push(name);
  await admin.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await waitUntilStreamExists({ client: admin, ...WAIT }, { StreamName: name });
  return name;
}

async function drainShard(client, stream, shardId, limit = 100) {
  let it = (await client.send(new GetShardIteratorCommand({
    StreamName: stream, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON',
  }))).ShardIterator;
  const records = [];
  for (let calls = 0; calls < 1000; calls++) {
    const r = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: limit }));
    records.push(...r.Records);
    if (!r.NextShardIterator) break;
    assert.notEqual(r.NextShardIterator, it);
    it = r.NextShardIterator;
    if (r.Records.length === 0 && r.MillisBehindLatest === 0) break;
  }
  return records;
}

after(async () => {
  for (const name of made) {
    try {
      await admin.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: GATEWAY ? true : undefined }));
    } catch (e) { /* already gone */ }
  }
  admin.destroy();
});

describe('kinesis-gateway with @aws-sdk/client-kinesis', { timeout: 240000 }, () => {

  test('the default Node handler is HTTP/2 (NodeHttp2Handler)', async () => {
    const c = new KinesisClient({ endpoint: ENDPOINT, region: REGION, credentials: creds('admin') });
    const h = c.config.requestHandler;
    const meta = h.metadata || (typeof h === 'function' ? {} : {});
    assert.equal(h.constructor.name, 'NodeHttp2Handler');
    assert.equal(meta.handlerProtocol, 'h2');
    c.destroy();
  });

  test('producer/consumer round trip: PutRecords 500, drain every shard', { timeout: 120000 }, async () => {
    const name = await createStream('rt', 2);
    const entries = [];
    for (let i = 0; i < 500; i++) {
      entries.push({ Data: enc.encode(`record-${i}-` + 'x'.repeat(i % 50)), PartitionKey: `pk-${i % 37}` });
    }
    const put = await admin.send(new PutRecordsCommand({ StreamName: name, Records: entries }));
    assert.equal(put.FailedRecordCount ?? 0, 0);
    assert.equal(put.Records.length, 500);
    assert.ok(put.$metadata.requestId, 'x-amzn-RequestId');
    const byShard = new Map();
    put.Records.forEach((r, i) => {
      assert.match(r.SequenceNumber, /^\d{56}$/);
      if (!byShard.has(r.ShardId)) byShard.set(r.ShardId, []);
      byShard.get(r.ShardId).push({ seq: r.SequenceNumber, data: dec.decode(entries[i].Data), pk: entries[i].PartitionKey });
    });
    const shards = (await admin.send(new ListShardsCommand({ StreamName: name }))).Shards;
    assert.equal(shards.length, 2);
    let total = 0;
    for (const s of shards) {
      const got = await drainShard(admin, name, s.ShardId, 97);
      const want = byShard.get(s.ShardId) || [];
      assert.deepEqual(got.map((r) => ({ seq: r.SequenceNumber, data: dec.decode(r.Data), pk: r.PartitionKey })), want);
      for (const r of got) {
        assert.ok(r.ApproximateArrivalTimestamp instanceof Date);
        assert.ok(Math.abs(r.ApproximateArrivalTimestamp.getTime() - Date.now()) < 600000);
      }
      total += got.length;
    }
    assert.equal(total, 500);
  });

  test('PutRecord with ExplicitHashKey and binary data', async () => {
    const name = await createStream('pr', 2);
    const data = new Uint8Array(256).map((_, i) => i);
    const r = await admin.send(new PutRecordCommand({
      StreamName: name, Data: data, PartitionKey: 'k', ExplicitHashKey: (2n ** 128n - 1n).toString(),
    }));
    assert.equal(r.ShardId, 'shardId-000000000001');
    const got = await drainShard(admin, name, 'shardId-000000000001');
    assert.equal(got.length, 1);
    assert.deepEqual(Array.from(got[0].Data), Array.from(data));
  });

  test('ListShards pagination (NextToken and MaxResults; the SDK models no ListShards paginator)', gatewayOnly, async () => {
    const name = await createStream('ls', 3);
    const ids = [];
    let pages = 0;
    let input = { StreamName: name, MaxResults: 1 };
    for (;;) {
      const page = await admin.send(new ListShardsCommand(input));
      pages += 1;
      ids.push(...page.Shards.map((s) => s.ShardId));
      assert.ok(page.Shards.length <= 1);
      if (!page.NextToken) break;
      assert.ok(pages < 20);
      input = { NextToken: page.NextToken, MaxResults: 1 };
    }
    assert.deepEqual(ids, ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002']);
    assert.ok(pages >= 3, `pages: ${pages}`);
  });

  test('ListStreams pagination (the v3 paginator follows NextToken)', gatewayOnly, async () => {
    const names = [await createStream('lsa', 1), await createStream('lsb', 1), await createStream('lsc', 1)];
    const seen = [];
    let pages = 0;
    for await (const page of paginateListStreams({ client: admin, pageSize: 2 }, {})) {
      pages += 1;
      seen.push(...page.StreamNames);
      assert.ok(pages < 5000);
    }
    for (const n of names) assert.ok(seen.includes(n), `${n} not listed in ${pages} page(s)`);
    assert.equal(new Set(seen).size, seen.length, 'duplicates');
  });

  test('errors: ResourceNotFoundException as the thrown error name', async () => {
    const name = uniqueName('missing');
    await assert.rejects(
      admin.send(new DescribeStreamSummaryCommand({ StreamName: name })),
      (err) => {
        assert.equal(err.name, 'ResourceNotFoundException');
        assert.equal(err.message, `Stream ${name} under account ${ACCOUNT} not found.`);
        assert.equal(err.$metadata.httpStatusCode, 400);
        assert.ok(err.$metadata.requestId, 'request id of an error');
        assert.equal(err.$fault, 'client');
        return true;
      });
    await assert.rejects(
      admin.send(new GetRecordsCommand({ ShardIterator: 'A'.repeat(40) })),
      (err) => err.name === 'InvalidArgumentException' && err.message === 'Invalid ShardIterator.');
  });

  test('errors: bad signature and unknown key', sigv4Only, async () => {
    const bad = makeClient('admin', { credentials: { accessKeyId: creds('admin').accessKeyId, secretAccessKey: 'wrong-secret' } });
    await assert.rejects(bad.send(new ListStreamsCommand({})), (err) => {
      assert.equal(err.name, 'InvalidSignatureException');
      return true;
    });
    bad.destroy();
    const unknown = makeClient('admin', { credentials: { accessKeyId: 'AKIAKGWTESTUNKNOWN00', secretAccessKey: 'x' } });
    await assert.rejects(unknown.send(new ListStreamsCommand({})), (err) => {
      assert.equal(err.name, 'UnrecognizedClientException');
      assert.equal(err.message, 'The security token included in the request is invalid.');
      return true;
    });
    unknown.destroy();
  });

  test('HTTP/1.1 handler (NodeHttpHandler) works as well', async () => {
    // every call of this test on the HTTP/1.1 client, so that it tells HTTP/1.1 apart
    const c = makeClient('admin', { http1: true });
    const name = uniqueName('h1');
    made.push(name);
    await c.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
    await waitUntilStreamExists({ client: c, ...WAIT }, { StreamName: name });
    const r = await c.send(new PutRecordCommand({ StreamName: name, Data: enc.encode('over http/1.1'), PartitionKey: 'k' }));
    assert.match(r.SequenceNumber, /^\d{56}$/);
    const got = await drainShard(c, name, 'shardId-000000000000');
    assert.deepEqual(got.map((x) => dec.decode(x.Data)), ['over http/1.1']);
    await c.send(new DeleteStreamCommand({ StreamName: name }));
    c.destroy();
  });

  test('SubscribeToShard with a registered consumer', { ...gatewayOnly, timeout: 90000 }, async () => {
    const name = await createStream('sub', 1);
    const consumer = makeClient('consumer');
    const arn = `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${name}`;
    const reg = await consumer.send(new RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: 'jsapp' }));
    const carn = reg.Consumer.ConsumerARN;
    for (let i = 0; ; i++) {
      const d = await consumer.send(new DescribeStreamConsumerCommand({ ConsumerARN: carn }));
      if (d.ConsumerDescription.ConsumerStatus === 'ACTIVE') break;
      assert.ok(i < 100, 'consumer never ACTIVE');
      await new Promise((r) => setTimeout(r, 300));
    }
    const put = await admin.send(new PutRecordsCommand({
      StreamName: name,
      Records: Array.from({ length: 10 }, (_, i) => ({ Data: enc.encode(`ev-${i}`), PartitionKey: 'k' })),
    }));
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 45000);
    const got = [];
    let continuation;
    try {
      const resp = await consumer.send(new SubscribeToShardCommand({
        ConsumerARN: carn, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'TRIM_HORIZON' },
      }), { abortSignal: ac.signal });
      assert.equal(resp.$metadata.httpStatusCode, 200);
      for await (const ev of resp.EventStream) {
        assert.ok(ev.SubscribeToShardEvent, `unexpected event ${JSON.stringify(Object.keys(ev))}`);
        const e = ev.SubscribeToShardEvent;
        got.push(...e.Records);
        assert.match(e.ContinuationSequenceNumber, /^\d{56}$/);
        assert.equal(typeof e.MillisBehindLatest, 'number');
        continuation = e.ContinuationSequenceNumber;
        if (got.length >= 10) break;
      }
    } finally {
      clearTimeout(timer);
      ac.abort();
      // consumer.destroy() closes the HTTP/2 session
      consumer.destroy();
    }
    assert.deepEqual(got.map((r) => dec.decode(r.Data)), Array.from({ length: 10 }, (_, i) => `ev-${i}`));
    assert.deepEqual(got.map((r) => r.SequenceNumber), put.Records.map((r) => r.SequenceNumber));
    assert.equal(continuation, got[got.length - 1].SequenceNumber);
  });

  test('DeleteStream and waitUntilStreamNotExists', async () => {
    const name = await createStream('del', 1);
    await admin.send(new DeleteStreamCommand({ StreamName: name }));
    await waitUntilStreamNotExists({ client: admin, ...WAIT }, { StreamName: name });
    await assert.rejects(admin.send(new DescribeStreamCommand({ StreamName: name })),
      (err) => err.name === 'ResourceNotFoundException');
  });
});
