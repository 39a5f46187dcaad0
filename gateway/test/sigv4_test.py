#!/usr/bin/env python3
"""sigv4_test.py: check gateway/sigv4.c against botocore's SigV4 signer.

This file owns the cross-check of the C SigV4 verifier with the real
client side: requests are signed by botocore (SigV4Auth, SigV4QueryAuth,
service 'kinesis') at a fixed clock, then fed in one batch to the C driver
sigv4_tool, which parses and verifies them as the gateway will.  Checked:

  * a few hundred random requests (regions, hosts, methods, paths with
    odd segments, params / raw query strings, repeated and oddly spaced
    headers, empty / JSON / binary bodies, Date instead of X-Amz-Date,
    X-Amz-Content-Sha256, session tokens, HTTP/2 :authority) verify;
  * single-byte changes of body, signed headers, date, secret, signature,
    path, query or method fail with InvalidSignatureException, while
    changes to unsigned headers do not;
  * the 15-minute skew window and its exact messages;
  * the Missing / Incomplete / Invalid / Unrecognized error cases;
  * presigned URLs (expiry, tampering, malformed parameters).

Usage: sigv4_test.py [path/to/sigv4_tool] [seed]
Ends with "N passed, N failed"; exit status 1 on failure.
"""

import copy
import datetime
import hashlib
import json
import os
import random
import subprocess
import sys
import types
from urllib.parse import quote, urlsplit

import botocore.auth as botoauth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

MISMATCH = ("The request signature we calculated does not match the signature "
            "you provided. Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.")
INVALID = "InvalidSignatureException"
INCOMPLETE = "IncompleteSignatureException"

RC_OK, RC_MISSING, RC_INCOMPLETE, RC_INVALID, RC_MISMATCH, RC_EXPIRED, \
    RC_UNRECOGNIZED = range(7)


# ---------------------------------------------------------------- signing

def set_clock(dt):
    """Make botocore sign at the naive-UTC datetime dt (old and new APIs)."""
    class FixedDateTime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return dt

        @classmethod
        def now(cls, tz=None):
            return dt.replace(tzinfo=tz) if tz else dt

    botoauth.datetime = types.SimpleNamespace(datetime=FixedDateTime,
                                              timezone=datetime.timezone)
    if hasattr(botoauth, 'get_current_datetime'):
        botoauth.get_current_datetime = lambda remove_tzinfo=True: dt


def epoch(dt):
    return int(dt.replace(tzinfo=datetime.timezone.utc).timestamp())


def sign(method, url, headers, body, akid, secret, region, ts,
         params=None, presign=False, expires=3600, token=None,
         service='kinesis', http2=False):
    """Sign with botocore; return the request as a gateway would see it."""
    set_clock(ts)
    req = AWSRequest(method=method, url=url, data=body, params=params or {})
    for name, value in headers:
        req.headers[name] = value   # HTTPHeaders: repeated names append
    creds = Credentials(akid, secret, token)
    if presign:
        signer = botoauth.SigV4QueryAuth(creds, service, region, expires)
    else:
        signer = botoauth.SigV4Auth(creds, service, region)
    signer.add_auth(req)
    prepared = req.prepare()
    parts = urlsplit(prepared.url)
    wire = []
    if not any(n.lower() == 'host' for n, _ in req.headers.items()):
        host = botoauth._host_from_url(prepared.url)
        wire.append((':authority' if http2 else 'Host', host))
    wire.extend(req.headers.items())
    if 'Content-Length' in prepared.headers and \
            not any(n.lower() == 'content-length' for n, _ in wire):
        wire.append(('Content-Length', prepared.headers['Content-Length']))
    body = prepared.body or b''
    if isinstance(body, str):
        body = body.encode('utf-8')
    return {
        'method': method, 'path': parts.path, 'query': parts.query,
        'headers': wire, 'body': body, 'secret': secret, 'keyid': akid,
        'now': epoch(ts),
    }


def tobytes(v):
    return v if isinstance(v, bytes) else str(v).encode('latin-1')


def encode(r):
    """The sigv4_tool input for request r."""
    out = []
    for key in ('method', 'path', 'query', 'secret', 'keyid', 'region',
                'service'):
        if r.get(key) is not None:
            out.append('%s %s' % (key, tobytes(r[key]).hex()))
    for name, value in r['headers']:
        out.append('header %s %s' % (tobytes(name).hex(),
                                     tobytes(value).hex()))
    out.append('body %s' % r['body'].hex())
    out.append('now %d' % r['now'])
    out.append('end')
    return '\n'.join(out) + '\n'


# ---------------------------------------------------------------- harness

class Suite:
    def __init__(self, tool):
        self.tool = tool
        self.cases = []     # (name, request, expect)
        self.passed = 0
        self.failed = 0

    def add(self, name, request, expect):
        """expect: 'OK', or (rc, type[, message]) with None = don't care."""
        self.cases.append((name, request, expect))

    def run(self):
        data = ''.join(encode(r) for _, r, _ in self.cases)
        proc = subprocess.run([self.tool], input=data.encode('latin-1'),
                              stdout=subprocess.PIPE, check=True)
        lines = proc.stdout.decode('utf-8', 'replace').splitlines()
        if len(lines) != len(self.cases):
            print('FAIL: tool printed %d lines for %d requests'
                  % (len(lines), len(self.cases)))
            self.failed += 1
        for (name, req, expect), line in zip(self.cases, lines):
            if self.matches(expect, line):
                self.passed += 1
            else:
                self.failed += 1
                print('FAIL: %s\n  expected %r\n  got      %s'
                      % (name, expect, line))
                if os.environ.get('SIGV4_DEBUG'):
                    subprocess.run([self.tool, '-v'],
                                   input=encode(req).encode('latin-1'))
        self.cases = []

    @staticmethod
    def matches(expect, line):
        if expect == 'OK':
            return line.startswith('OK ')
        parts = line.split(' ', 3)
        if parts[0] != 'ERR' or len(parts) < 3:
            return False
        rc, etype = int(parts[1]), parts[2]
        msg = parts[3] if len(parts) > 3 else ''
        want_rc, want_type = expect[0], expect[1]
        want_msg = expect[2] if len(expect) > 2 else None
        if want_rc is not None and rc != want_rc:
            return False
        if want_type is not None and etype != want_type:
            return False
        if want_msg is not None and msg != want_msg:
            return False
        return True


# ---------------------------------------------------------------- generators

REGIONS = ['us-east-1', 'eu-west-2', 'ap-southeast-1', 'us-gov-west-1',
           'cn-north-1', 'eu-central-1']
OPS = ['PutRecord', 'PutRecords', 'GetRecords', 'GetShardIterator',
       'ListShards', 'DescribeStreamSummary', 'CreateStream']
SEGMENTS = ['a', 'b c', '%', 'x~y', '..', '.', '', 'ünï', 'a+b',
            ":@!$&'()*,;=", 'stream-name_1.x', '日本']


def rand_akid(rng):
    return 'AKIA' + ''.join(rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')
                            for _ in range(16))


def rand_secret(rng):
    alphabet = ('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
                '0123456789+/')
    return ''.join(rng.choice(alphabet) for _ in range(40))


def rand_time(rng):
    base = datetime.datetime(2015, 1, 1)
    return base + datetime.timedelta(seconds=rng.randrange(0, 20 * 365 * 86400))


def rand_path(rng):
    kind = rng.randrange(6)
    if kind < 3:
        return '/'
    segs = [rng.choice(SEGMENTS) for _ in range(rng.randrange(1, 5))]
    safe = rng.choice(['', "!$&'()*+,;=:@"])
    path = '/' + '/'.join(s if s in ('.', '..') else quote(s, safe=safe)
                          for s in segs)
    if rng.random() < 0.3:
        path += '/'
    return path


def rand_text(rng, n, ascii_only=False):
    pool = 'abcXYZ019 -_.~!*\'()/+=&?#%' + ('' if ascii_only else 'é日')
    return ''.join(rng.choice(pool) for _ in range(n))


def rand_body(rng):
    kind = rng.randrange(5)
    if kind == 0:
        return b''
    if kind == 1:
        return json.dumps({'StreamName': 's%d' % rng.randrange(100),
                           'Data': 'aGVsbG8=',
                           'PartitionKey': rand_text(rng, 8)}).encode()
    if kind == 2:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
    if kind == 3:
        return b'\x00\xff\r\n' * rng.randrange(1, 50)
    return ('{"k":"%s"}' % rand_text(rng, 20)).encode('utf-8')


def rand_request(rng, **over):
    """Sign one random request; return (request, signed header names)."""
    region = over.get('region', rng.choice(REGIONS))
    host = rng.choice(['kinesis.%s.amazonaws.com' % region, 'localhost:4567',
                       '127.0.0.1:8443', 'kinesis.local', 'LocalHost'])
    scheme = rng.choice(['http', 'https'])
    method = over.get('method', rng.choice(['POST', 'POST', 'POST', 'GET',
                                            'PUT']))
    path = over.get('path', rand_path(rng))
    headers = [(rng.choice(['X-Amz-Target', 'x-amz-target', 'X-AMZ-TARGET']),
                'Kinesis_20131202.' + rng.choice(OPS)),
               ('Content-Type', 'application/x-amz-json-1.1')]
    if rng.random() < 0.4:
        headers.append(('X-Odd-Spacing', rng.choice(
            ['  a   b  ', '\ta\t\tb\t', 'a  b   c', ' x ', '  ', 'a \t b'])))
    if rng.random() < 0.3:
        headers.append(('X-Repeated',
                        rand_text(rng, 5, True).strip() or 'v'))
        headers.append(('x-repeated', ' second  value '))
    if rng.random() < 0.3:
        headers.append(('User-Agent', 'Boto3/1.0 test'))   # not signed
    if rng.random() < 0.1:
        headers.append(('Date', 'placeholder'))   # botocore rewrites it
    body = over.get('body', rand_body(rng))
    if rng.random() < 0.15:
        headers.append(('X-Amz-Content-SHA256',
                        hashlib.sha256(body).hexdigest()))
    params = None
    query = ''
    qk = rng.randrange(4)
    if qk == 1:
        params = {rand_text(rng, 4) or 'k': rand_text(rng, 6)
                  for _ in range(rng.randrange(1, 4))}
    elif qk == 2:
        params = [('dup', rand_text(rng, 3)) for _ in range(3)] + \
            [('Action', 'x')]
    elif qk == 3:
        pairs = [(rand_text(rng, 3) or 'k', rand_text(rng, 4))
                 for _ in range(rng.randrange(1, 4))]
        query = '?' + '&'.join(quote(k, safe='-_.~') + '=' +
                               quote(v, safe='-_.~') for k, v in pairs)
    token = 'FQoGZXIvYXdzE' + rand_text(rng, 30, True) if rng.random() < 0.1 \
        else None
    akid, secret = rand_akid(rng), rand_secret(rng)
    ts = over.get('ts', rand_time(rng))
    url = '%s://%s%s%s' % (scheme, host, path, query)
    r = sign(method, url, headers, body, akid, secret, region, ts,
             params=params, token=token, http2=rng.random() < 0.1)
    r['now'] += rng.randrange(-900, 901)
    return r


def signed_names(r):
    for name, value in r['headers']:
        if name.lower() == 'authorization':
            sh = value.split('SignedHeaders=')[1].split(',')[0]
            return sh.split(';')
    return []


def header_get(r, name):
    for n, v in r['headers']:
        if n.lower() == name.lower():
            return v
    return None


def header_set(r, name, value):
    r['headers'] = [(n, value if n.lower() == name.lower() else v)
                    for n, v in r['headers']]


def flip_char(rng, s, alphabet='abcdefghijklmnopqrstuvwxyz0123456789'):
    """s with one non-space character replaced by a different one."""
    idx = [i for i, c in enumerate(s) if not c.isspace()]
    i = rng.choice(idx)
    c = rng.choice([a for a in alphabet if a != s[i].lower()
                    and a != s[i]])
    return s[:i] + c + s[i + 1:]


# ---------------------------------------------------------------- tests

def test_random(suite, rng, count):
    """Random botocore-signed requests and their single-change mutations."""
    for i in range(count):
        r = rand_request(rng)
        suite.add('random %d' % i, r, 'OK')
        mismatch = (RC_MISMATCH, INVALID, MISMATCH)
        has_csha = header_get(r, 'x-amz-content-sha256') is not None

        if r['body']:
            m = copy.deepcopy(r)
            b = bytearray(m['body'])
            j = rng.randrange(len(b))
            b[j] ^= 1 << rng.randrange(8)
            m['body'] = bytes(b)
            suite.add('random %d body bit flip' % i, m,
                      (RC_INVALID, INVALID) if has_csha else mismatch)
        m = copy.deepcopy(r)
        m['body'] = r['body'] + b'x'
        suite.add('random %d body append' % i, m,
                  (RC_INVALID, INVALID) if has_csha else mismatch)

        m = copy.deepcopy(r)
        m['secret'] = flip_char(rng, r['secret'])
        suite.add('random %d secret change' % i, m, mismatch)

        auth = header_get(r, 'authorization')
        sig = auth.split('Signature=')[1]
        m = copy.deepcopy(r)
        header_set(m, 'authorization',
                   auth.replace(sig, flip_char(rng, sig, '0123456789abcdef')))
        suite.add('random %d signature change' % i, m, mismatch)

        m = copy.deepcopy(r)
        header_set(m, 'authorization', auth.replace(sig, sig.upper()))
        suite.add('random %d uppercase signature' % i, m, 'OK')

        for name in signed_names(r):
            if name in ('x-amz-date', 'date', 'x-amz-content-sha256',
                        'x-amz-security-token'):
                continue
            v = header_get(r, name)
            if v is None and name == 'host':
                v = header_get(r, ':authority')
                name = ':authority'
            if v is None or not v.strip():
                continue
            m = copy.deepcopy(r)
            header_set(m, name, flip_char(rng, v))
            suite.add('random %d header %s change' % (i, name), m, mismatch)

        # the date, one second later (still a valid, matching date)
        d = header_get(r, 'x-amz-date')
        if d is not None and d[-2] != '9':
            m = copy.deepcopy(r)
            header_set(m, 'x-amz-date', d[:-2] + str(int(d[-2]) + 1) + 'Z')
            # a mismatch, or the clock check if now was at the window's edge
            suite.add('random %d date change' % i, m, (None, INVALID))

        # header name case and unsigned headers do not matter
        m = copy.deepcopy(r)
        m['headers'] = [(n.upper() if n != ':authority' else n, v)
                        for n, v in r['headers']]
        m['headers'].append(('X-Unsigned-Extra', 'whatever'))
        suite.add('random %d unsigned changes' % i, m, 'OK')

        m = copy.deepcopy(r)
        m['method'] = 'DELETE'
        suite.add('random %d method change' % i, m, mismatch)

        m = copy.deepcopy(r)
        m['path'] = r['path'] + 'x'
        suite.add('random %d path change' % i, m, mismatch)

        m = copy.deepcopy(r)
        m['query'] = r['query'] + ('&' if r['query'] else '') + 'extra=1'
        suite.add('random %d query change' % i, m, mismatch)

        if r['query']:
            m = copy.deepcopy(r)
            # reorder parameters: canonical form must not care
            parts = r['query'].split('&')
            rng.shuffle(parts)
            m['query'] = '&'.join(parts)
            suite.add('random %d query reorder' % i, m, 'OK')

        if [n.lower() for n, _ in r['headers']].count('x-repeated') == 2:
            m = copy.deepcopy(r)
            rep = [(n, v) for n, v in r['headers']
                   if n.lower() == 'x-repeated']
            others = [(n, v) for n, v in r['headers']
                      if n.lower() != 'x-repeated']
            m['headers'] = others + rep[::-1]
            suite.add('random %d repeated header order' % i, m, mismatch)
            m = copy.deepcopy(r)
            # a proxy joining them with ',' (values trimmed) is equivalent
            m['headers'] = others + [('X-Repeated', ','.join(
                ' '.join(v.split()) for _, v in rep))]
            suite.add('random %d repeated header merged' % i, m, 'OK')


def test_skew(suite, rng):
    ts = datetime.datetime(2024, 1, 1, 0, 0, 0)
    r = rand_request(rng, ts=ts)
    base = epoch(ts)
    for delta, expect in ((0, 'OK'), (900, 'OK'), (-900, 'OK'),
                          (901, (RC_EXPIRED, INVALID)),
                          (-901, (RC_EXPIRED, INVALID))):
        m = copy.deepcopy(r)
        m['now'] = base + delta
        suite.add('skew %+d' % delta, m, expect)
    m = copy.deepcopy(r)
    m['now'] = base + 1800
    suite.add('skew expired message', m, (RC_EXPIRED, INVALID,
              'Signature expired: 20240101T000000Z is now earlier than '
              '20240101T001500Z (20240101T003000Z - 15 min.)'))
    m = copy.deepcopy(r)
    m['now'] = base - 1800
    suite.add('skew future message', m, (RC_EXPIRED, INVALID,
              'Signature not yet current: 20240101T000000Z is still later '
              'than 20231231T234500Z (20231231T233000Z + 15 min.)'))
    # a stale request with a wrong secret reports the clock first
    m = copy.deepcopy(m)
    m['secret'] = 'wrong'
    suite.add('skew before signature', m, (RC_EXPIRED, INVALID))


def base_headers(auth=None, date='20240101T000000Z'):
    h = [('Host', 'kinesis.us-east-1.amazonaws.com'),
         ('X-Amz-Target', 'Kinesis_20131202.ListStreams')]
    if date is not None:
        h.append(('X-Amz-Date', date))
    if auth is not None:
        h.append(('Authorization', auth))
    return h


def raw(headers, query='', now=1704067200):
    return {'method': 'POST', 'path': '/', 'query': query,
            'headers': headers, 'body': b'{}', 'secret': 's', 'now': now}


def test_errors(suite, rng):
    good_cred = 'AKIDEXAMPLE/20240101/us-east-1/kinesis/aws4_request'
    sig = 'Signature=' + '0' * 64

    suite.add('missing', raw(base_headers()),
              (RC_MISSING, 'MissingAuthenticationTokenException',
               'Missing Authentication Token'))
    suite.add('missing, signature params without algorithm',
              raw(base_headers(), query='X-Amz-Signature=abc'),
              (RC_MISSING, 'MissingAuthenticationTokenException',
               'Missing Authentication Token'))

    auth = 'AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=host, %s' % (
        good_cred, sig)
    suite.add('both header and query', raw(base_headers(auth),
              query='X-Amz-Algorithm=AWS4-HMAC-SHA256'),
              (RC_INVALID, INVALID,
               "Found both 'X-Amz-Algorithm' as a query-string param and "
               "'Authorization' as HTTP header."))

    req_c = "Authorization header requires 'Credential' parameter. "
    req_s = "Authorization header requires 'Signature' parameter. "
    req_h = "Authorization header requires 'SignedHeaders' parameter. "
    req_d = ("Authorization header requires existence of either a "
             "'X-Amz-Date' or a 'Date' header. ")
    cases = [
        ('AWS4-HMAC-SHA256 SignedHeaders=host, ' + sig, True, req_c),
        ('AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=host' % good_cred,
         True, req_s),
        ('AWS4-HMAC-SHA256 Credential=%s, %s' % (good_cred, sig), True,
         req_h),
        (auth, False, req_d),
        ('foo', True, req_c + req_s + req_h),
        ('foo', False, req_c + req_s + req_h + req_d),
        ('AWS4-HMAC-SHA256', True, req_c + req_s + req_h),
        ('AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, ' + sig, True,
         req_c),
    ]
    for a, with_date, msg in cases:
        suite.add('incomplete: %s' % a,
                  raw(base_headers(a, date='20240101T000000Z' if with_date
                                   else None)),
                  (RC_INCOMPLETE, INCOMPLETE, msg + 'Authorization=' + a))

    a = 'AWS4-HMAC-SHA512 Credential=%s, SignedHeaders=host, %s' % (
        good_cred, sig)
    suite.add('unsupported algorithm', raw(base_headers(a)),
              (RC_INCOMPLETE, INCOMPLETE,
               "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'. Only "
               "'AWS4-HMAC-SHA256' is supported."))

    a = ('AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/kinesis, '
         'SignedHeaders=host, ' + sig)
    suite.add('credential with 4 parts', raw(base_headers(a)),
              (RC_INCOMPLETE, INCOMPLETE,
               "Credential must have exactly 5 slash-delimited elements, "
               "e.g. keyid/date/region/service/term, got "
               "'AKID/20240101/us-east-1/kinesis'"))

    a = ('AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/kinesis/'
         'aws4_request, SignedHeaders=host, ' + sig)
    suite.add('scope date mismatch', raw(base_headers(a)),
              (RC_INVALID, INVALID,
               "Date in Credential scope does not match YYYYMMDD from "
               "ISO-8601 version of date from HTTP: '20240102' != "
               "'20240101', from '20240101T000000Z'."))

    a = ('AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/'
         'aws4_request, SignedHeaders=host, ' + sig)
    suite.add('wrong service', raw(base_headers(a)),
              (RC_INVALID, INVALID,
               "Credential should be scoped to correct service: "
               "'kinesis'. "))

    a = ('AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/kinesis/'
         'aws4_requests, SignedHeaders=host, ' + sig)
    suite.add('wrong terminator', raw(base_headers(a)),
              (RC_INVALID, INVALID,
               "Credential should be scoped with a valid terminator: "
               "'aws4_request', not 'aws4_requests'. "))

    a = ('AWS4-HMAC-SHA256 Credential=AKID/20240101//kinesis/'
         'aws4_request, SignedHeaders=host, ' + sig)
    suite.add('empty region', raw(base_headers(a)),
              (RC_INVALID, INVALID,
               "Credential should be scoped to a valid region, not ''. "))

    a = ('AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=x-amz-date;'
         'x-amz-target, %s' % (good_cred, sig))
    suite.add('host not signed', raw(base_headers(a)),
              (RC_INVALID, INVALID,
               "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
               "Authorization."))

    a = 'AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=host, %s' % (
        good_cred, sig)
    suite.add('bad x-amz-date', raw(base_headers(a, date='2024-01-01')),
              (RC_INCOMPLETE, INCOMPLETE,
               "Date must be in ISO-8601 'basic format'. Got '2024-01-01'. "
               "See http://en.wikipedia.org/wiki/ISO_8601"))
    suite.add('malformed signature', raw(base_headers(
        a.replace('0' * 64, 'xyz'))), (RC_MISMATCH, INVALID, MISMATCH))

    a = ('AWS4-HMAC-SHA256 Credential=/20240101/us-east-1/kinesis/'
         'aws4_request, SignedHeaders=host, ' + sig)
    suite.add('empty access key', raw(base_headers(a)),
              (RC_UNRECOGNIZED, 'UnrecognizedClientException',
               'The security token included in the request is invalid.'))

    # gateway-side decisions: unknown key, region check
    ts = datetime.datetime(2024, 3, 4, 5, 6, 7)
    r = rand_request(rng, region='eu-west-2', ts=ts)
    m = copy.deepcopy(r)
    m['keyid'] = 'AKIAOTHERKEY'
    suite.add('unknown access key', m,
              (RC_UNRECOGNIZED, 'UnrecognizedClientException',
               'The security token included in the request is invalid.'))
    m = copy.deepcopy(r)
    m['region'] = 'us-east-1'
    suite.add('wrong region (gateway in us-east-1)', m,
              (RC_INVALID, INVALID,
               "Credential should be scoped to a valid region, not "
               "'eu-west-2'. "))
    m = copy.deepcopy(r)
    m['region'] = 'eu-west-2'
    suite.add('right region', m, 'OK')

    # X-Amz-Content-Sha256
    body = b'{"StreamName":"s"}'
    good = hashlib.sha256(body).hexdigest()
    r = sign('POST', 'https://kinesis.us-east-1.amazonaws.com/',
             [('X-Amz-Content-Sha256', good)], body, 'AKID', 'sec',
             'us-east-1', ts)
    suite.add('content sha256 header', r, 'OK')
    m = copy.deepcopy(r)
    m['body'] = b'{"StreamName":"t"}'
    suite.add('content sha256 mismatch', m,
              (RC_INVALID, INVALID, "The provided 'x-amz-content-sha256' "
               "header does not match what was computed."))
    r = sign('POST', 'https://kinesis.us-east-1.amazonaws.com/',
             [('X-Amz-Content-Sha256', 'UNSIGNED-PAYLOAD')], body, 'AKID',
             'sec', 'us-east-1', ts)
    suite.add('unsigned payload', r, 'OK')
    m = copy.deepcopy(r)
    m['body'] = b'anything else'
    suite.add('unsigned payload, other body', m, 'OK')

    # Date header instead of X-Amz-Date
    r = sign('POST', 'https://kinesis.us-east-1.amazonaws.com/',
             [('Date', 'x')], body, 'AKID', 'sec', 'us-east-1', ts)
    assert header_get(r, 'x-amz-date') is None
    suite.add('Date header', r, 'OK')
    m = copy.deepcopy(r)
    m['now'] += 901
    suite.add('Date header, skew', m, (RC_EXPIRED, INVALID))

    # HTTP/2: :authority instead of Host
    r = sign('POST', 'https://kinesis.us-east-1.amazonaws.com/', [], body,
             'AKID', 'sec', 'us-east-1', ts, http2=True)
    assert r['headers'][0][0] == ':authority'
    suite.add(':authority', r, 'OK')

    # a signed header that is missing from the request
    r = sign('POST', 'https://kinesis.us-east-1.amazonaws.com/',
             [('X-Gone', 'v')], body, 'AKID', 'sec', 'us-east-1', ts)
    m = copy.deepcopy(r)
    m['headers'] = [(n, v) for n, v in r['headers'] if n != 'X-Gone']
    suite.add('signed header removed', m, (RC_MISMATCH, INVALID, MISMATCH))

    # session token
    r = sign('POST', 'https://kinesis.us-east-1.amazonaws.com/', [], body,
             'ASIAKEY', 'sec', 'us-east-1', ts, token='tok+/=en')
    suite.add('session token signed', r, 'OK')
    m = copy.deepcopy(r)
    header_set(m, 'x-amz-security-token', 'tok+/=em')
    suite.add('session token changed', m, (RC_MISMATCH, INVALID, MISMATCH))


def test_presigned(suite, rng, count):
    for i in range(count):
        ts = rand_time(rng)
        region = rng.choice(REGIONS)
        expires = rng.choice([1, 60, 900, 3600, 604800])
        params = {'StreamName': rand_text(rng, 6) or 's',
                  'Action': 'ListShards'}
        method = rng.choice(['GET', 'GET', 'POST'])
        url = 'https://kinesis.%s.amazonaws.com%s' % (region, rand_path(rng))
        headers = []
        if rng.random() < 0.3:
            headers.append(('X-Amz-Target', 'Kinesis_20131202.ListShards'))
        r = sign(method, url, headers, b'', rand_akid(rng),
                 rand_secret(rng), region, ts, params=params, presign=True,
                 expires=expires, token='tok' if rng.random() < 0.2 else None)
        assert 'X-Amz-Signature=' in r['query']
        suite.add('presigned %d' % i, r, 'OK')
        m = copy.deepcopy(r)
        m['now'] += expires
        suite.add('presigned %d at expiry' % i, m, 'OK')
        m = copy.deepcopy(m)
        m['now'] += 1
        suite.add('presigned %d expired' % i, m, (RC_EXPIRED, INVALID))
        m = copy.deepcopy(r)
        m['now'] -= 901
        suite.add('presigned %d not yet valid' % i, m, (RC_EXPIRED, INVALID))
        m = copy.deepcopy(r)
        m['secret'] = flip_char(rng, r['secret'])
        suite.add('presigned %d secret' % i, m,
                  (RC_MISMATCH, INVALID, MISMATCH))
        m = copy.deepcopy(r)
        q = r['query']
        j = q.index('X-Amz-Signature=') + len('X-Amz-Signature=')
        m['query'] = q[:j] + flip_char(rng, q[j:], '0123456789abcdef')
        suite.add('presigned %d signature' % i, m,
                  (RC_MISMATCH, INVALID, MISMATCH))
        m = copy.deepcopy(r)
        m['query'] = q.replace('StreamName=', 'StreamName=x', 1)
        suite.add('presigned %d param' % i, m,
                  (RC_MISMATCH, INVALID, MISMATCH))
        m = copy.deepcopy(r)
        m['query'] = q.replace('X-Amz-Expires=%d' % expires,
                               'X-Amz-Expires=%d' % (expires + 1))
        suite.add('presigned %d expires changed' % i, m,
                  (RC_INCOMPLETE, INCOMPLETE) if expires == 604800
                  else (RC_MISMATCH, INVALID, MISMATCH))
        m = copy.deepcopy(r)
        m['headers'].append(('Authorization', 'AWS4-HMAC-SHA256 x'))
        suite.add('presigned %d plus header' % i, m, (RC_INVALID, INVALID))

    q = ('X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240101T000000Z')
    suite.add('presigned missing params', raw([('Host', 'h')], query=q),
              (RC_INCOMPLETE, INCOMPLETE,
               "AWS query-string parameters must include 'X-Amz-Credential'. "
               "AWS query-string parameters must include 'X-Amz-Signature'. "
               "AWS query-string parameters must include "
               "'X-Amz-SignedHeaders'. Re-examine the query-string "
               "parameters."))
    full = ('X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20240101'
            '%2Fus-east-1%2Fkinesis%2Faws4_request&X-Amz-Date=20240101T000000Z'
            '&X-Amz-SignedHeaders=host&X-Amz-Signature=' + '0' * 64)
    suite.add('presigned wrong algorithm',
              raw([('Host', 'h')], query=full.replace('SHA256', 'SHA1', 1)),
              (RC_INCOMPLETE, INCOMPLETE,
               'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"'))
    suite.add('presigned expires too long',
              raw([('Host', 'h')], query=full + '&X-Amz-Expires=604801'),
              (RC_INCOMPLETE, INCOMPLETE,
               'X-Amz-Expires must be less than a week (in seconds) that is '
               '604800'))
    suite.add('presigned expires negative',
              raw([('Host', 'h')], query=full + '&X-Amz-Expires=-1'),
              (RC_INCOMPLETE, INCOMPLETE,
               'X-Amz-Expires must be non-negative'))
    suite.add('presigned expires not a number',
              raw([('Host', 'h')], query=full + '&X-Amz-Expires=1h'),
              (RC_INCOMPLETE, INCOMPLETE, 'X-Amz-Expires should be a number'))
    suite.add('presigned bad signature',
              raw([('Host', 'h')], query=full),
              (RC_MISMATCH, INVALID, MISMATCH))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    tool = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here,
                                                               'sigv4_tool')
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else \
        int(os.environ.get('SIGV4_SEED', '20240101'))
    rng = random.Random(seed)
    suite = Suite(tool)
    test_random(suite, rng, 300)
    test_skew(suite, rng)
    test_errors(suite, rng)
    test_presigned(suite, rng, 60)
    suite.run()
    print('%d passed, %d failed' % (suite.passed, suite.failed))
    sys.exit(1 if suite.failed else 0)


if __name__ == '__main__':
    main()
