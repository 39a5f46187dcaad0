#!/usr/bin/env python3
"""Hostile input: every public function of the extension, and every
operation of kinesis.api(), called with arguments chosen to break them.

What is called (found at run time, so that new functions and operations
are covered without editing this file):

  * every function of schema kinesis whose name does not start with '_'
    (pg_proc), with the argument types pg_proc gives; composite and array
    types are taken apart through pg_type and pg_attribute.  A function
    returning trigger is fired by INSERT, UPDATE and DELETE on a scratch
    table (hostile trigger arguments and row values, now and then BEFORE
    or FOR EACH STATEMENT), and now and then called directly;
  * every operation of the CASE in kinesis.api() (its source in pg_proc;
    a note is printed when src/sql/40_api.sql lists others), each with a
    request built from the members its kinesis._api_<operation> function
    decodes (their names and AWS types read from that function's source),
    plus operations that do not exist.

The arguments: NULL, '', huge strings (1 MiB and more), quotes,
semicolons, backslashes, format directives, control characters (never
NUL, which text cannot hold), combining marks, RTL and zero-width marks,
emoji, U+FFFF and other noncharacters, non-ASCII digits; 0, -1, 2^31,
2^63, 2^128 and both sides of every documented limit; values of the
fixture (names, ARNs, shard ids, sequence numbers, iterators, pagination
tokens, key ids) and mutations of them (a number in them replaced,
truncated or padded to the length limits, re-encoded, quoted, pieces
inserted); iterators and pagination tokens forged with a valid signature
(the HMAC key is read from kinesis.secrets, as only a superuser can) but
hostile contents, which also stand for tokens issued by another version of
the extension (KINESIS_HOSTILE_SIGNED=0 leaves them out; their violations
are marked [signed forgery]).  For kinesis.api(): members of every wrong
JSON type, hostile values of the right type (bad base64, numbers beyond
every range, timestamps out of range, ISO dates with impossible zones),
lone surrogate escapes, very deep JSON, duplicated and extra members,
bodies that are no object.  Usually some arguments of a call are hostile
and the others plausible, so that the hostile ones get past the checks of
the rest.  Now and then a call uses the wrong SQL signature on purpose
(an argument of the wrong type, one too many, a name that does not exist,
a name twice).

The fixture (repaired piecewise when a committed call broke it): an
ACTIVE stream with a closed (split) shard, records, tags, two ACTIVE
consumers and a checkpoint; an ACTIVE stream encrypted with a key of the
local key store, with records; one UPDATING, one CREATING and one
DELETING stream (held there by kinesis.update_stream_delay,
create_stream_delay and delete_stream_delay of an hour); an enabled and a
disabled KMS key with aliases.  Maintenance: the worker if the database
has one, else kinesis.run_maintenance() called here when the fixture
needs it.

Each call runs in a transaction of its own.  Checks, each failure a
violation:

  * outcome: the call succeeds, or fails with a SQLSTATE of class KN (a
    documented Kinesis exception), or with one of the standard SQLSTATEs
    of SQL_LEVEL provided PREPARE of the very same statement fails the
    same way (the error then comes from parse analysis of the harness's
    own SQL, a literal its type cannot hold or no function of that
    signature: nothing of the extension ran), or with one of the few
    documented errors of DOCUMENTED (helpers with no AWS counterpart; each
    is explained there).  Anything else fails, XX000 (internal error),
    XX001 and 58P01 included; so does a lost connection (a crash, found
    out by reconnecting and comparing pg_postmaster_start_time()), a
    call of another function than the waiters running into the statement
    timeout, and a result that is no valid UTF-8;
  * kinesis.api(): the response is a JSON object; an error comes back as
    an AWS error body whose __type is an exception of
    kinesis.error_codes();
  * nothing changed: a digest of the catalog (stream_meta without
    status_since, shard_meta, tags, consumers, checkpoints, buckets, the
    key store without material and descriptions, aliases, the record
    count and counter range of every shard, the bucket tables that exist,
    the transactions in flight in kinesis.inflight()) is the same after a
    failed call, after an API error body (the API promises that the
    failed call left no effects; the transaction is committed) and after
    a successful call that was rolled back.  A successful call is
    committed COMMIT_SHARE of the time; then state may change, the
    fixture is checked and repaired and the digest taken again.

The output: calls per function and operation and per outcome ("ok",
"ok, committed", KNnnn, "api:<exception>" for an error body, "sql nnnnn"
for an accepted SQL-level error, "doc nnnnn" for a documented one,
"VIOLATION ..."), where the time went, then PASS, or FAIL with the first
examples of each distinct violation (function, arguments truncated,
SQLSTATE, message) and how often each occurred.

Environment: libpq's PGHOST, PGPORT, PGUSER, PGDATABASE (a superuser:
the key store and kinesis.secrets are read); KINESIS_STRESS_SCALE =
small (default: at most 150 calls per target, at most 95 s of calls) or
large (400, 15 minutes); KINESIS_STRESS_SEED (default random, printed;
every call draws from a generator of its own seeded with the seed, the
round and the target, so KINESIS_HOSTILE_ONLY repeats a call's choices);
KINESIS_HOSTILE_ROUNDS and KINESIS_HOSTILE_SECONDS override the scale
(targets are visited round-robin in a shuffled order, so every one is
called even when the time runs out); KINESIS_HOSTILE_ONLY (a
comma-separated list of targets, e.g. "put_record,api:PutRecords,api:?",
api:? standing for the unknown operations); KINESIS_HOSTILE_SIGNED (1,
the default: also forge signed tokens); KINESIS_HOSTILE_TIMEOUT
(statement timeout of a call, seconds, default 20);
KINESIS_HOSTILE_VERBOSE=1 (print every call and its outcome).

Meant for a throwaway cluster (test/run.sh starts a fresh one): it creates
streams, KMS keys (which cannot be deleted) and a schema kinesis_hostile;
at the end it deletes its streams (the DELETING one stays until its hour
is over) and the schema.
"""

import base64
import hashlib
import hmac
import json
import os
import random
import re
import struct
import sys
import time
import traceback

import psycopg2

from stresslib import VIOLATIONS, close_quietly, connect, env_num, find_worker, report, scale_config, seed_knob

SCALES = {
    "small": dict(rounds=150, seconds=95),
    "large": dict(rounds=400, seconds=900),
}
APP = "kinesis hostile_sql"
COMMIT_SHARE = 0.25         # successful calls that are committed, not rolled back
WRONG_SIGNATURE_SHARE = 0.04
DIRECT_TRIGGER_SHARE = 0.1  # calls of a trigger function made directly, not by firing it
WAIT_TIMEOUT_MS = 300       # statement timeout of the waiting helpers (wait_for_*)
WAIT_WEIGHT = 0.35          # ... which are called in this share of the rounds only
EXAMPLES_PER_SIGNATURE = 2  # violations listed per distinct (target, kind, SQLSTATE, message)
SHOW = 110                  # characters of an argument shown in a report
SCRATCH = "kinesis_hostile"
MIB = 1 << 20

# Standard SQLSTATEs a call may end with, but only when PREPARE of the same
# statement fails with the same SQLSTATE: then the error is raised by parse
# analysis of the harness's own SQL (the type input function of a literal,
# function lookup), before any code of the extension runs.  They are the
# price of calling with wrong SQL types, which a client can always do.
SQL_LEVEL = {
    "22P02": "invalid_text_representation: a literal its type cannot parse ('abc'::integer, a "
             "malformed array literal, JSON with a lone surrogate escape)",
    "22003": "numeric_value_out_of_range: a literal outside its type (2^31 as integer, 2^63 as "
             "bigint, a JSON number beyond numeric)",
    "22007": "invalid_datetime_format: a timestamp or interval literal that is no such thing",
    "22008": "datetime_field_overflow: a timestamp literal out of range",
    "22015": "interval_field_overflow: an interval literal out of range",
    "22P05": "untranslatable_character: \\u0000 in a jsonb literal, which jsonb refuses",
    "42883": "undefined_function: no function of that name takes these argument types or names "
             "(the wrong-signature calls)",
    "42725": "ambiguous_function: the argument types fit more than one function",
    "42804": "datatype_mismatch: an expression of the wrong type for an argument",
    "42846": "cannot_coerce: a row of the wrong shape cast to a composite argument type",
    "42601": "syntax_error: an argument name given twice",
    "54001": "statement_too_complex: a JSON literal nested deeper than PostgreSQL's own parser "
             "allows (stack depth)",
    "42704": "undefined_object: a regrole literal naming no role (regrole's input function looks "
             "the role up)",
    "42602": "invalid_name: a regrole literal that is no valid role name",
}

# Documented errors of functions that are no Kinesis operation and so have no
# Kinesis exception to raise: (function, SQLSTATE, regular expression the
# message must match, why it is legitimate).  "*trigger" means every function
# returning trigger.  Nothing else outside class KN is accepted.
STATEMENT_TIMEOUT_MESSAGE = r"^canceling statement due to statement timeout$"
DOCUMENTED = [
    ("*trigger", "0A000", r"^trigger functions can only be called as triggers$",
     "PL/pgSQL itself refuses to run a trigger function called as a plain function"),
    ("capture_trigger", "39P01", r"^kinesis\.capture_trigger\(\) (must be fired AFTER|takes the stream name)",
     "trigger_protocol_violated: the trigger was created BEFORE, FOR EACH STATEMENT or with the "
     "wrong number of arguments (README: AFTER ... FOR EACH ROW, one or two arguments)"),
    ("capture_trigger", "42703", r"^kinesis\.capture_trigger\(\): table .* has no column ",
     "undefined_column: the partition key column named in the trigger does not exist"),
    ("capture_trigger", "55000", r"^kinesis\.capture_trigger\(\): table .* has no primary key",
     "object_not_in_prerequisite_state: no partition key column given and no primary key"),
    ("wait_for_stream", "57014", STATEMENT_TIMEOUT_MESSAGE,
     "the harness's statement timeout ends a wait that was asked to last longer (a status the "
     "stream does not reach, a long timeout)"),
    ("wait_for_stream", "P0001", r"^stream .* is .*, not .* after ",
     "the documented timeout of wait_for_stream ('raises after timeout'); a plain RAISE "
     "without an ERRCODE, hence P0001"),
    ("wait_for_stream_exists", "57014", STATEMENT_TIMEOUT_MESSAGE, "as for wait_for_stream"),
    ("wait_for_stream_not_exists", "57014", STATEMENT_TIMEOUT_MESSAGE, "as for wait_for_stream"),
    ("wait_for_stream_exists", "57014", r"^Waiter \w+ failed: Max attempts exceeded$",
     "the boto3 WaiterError of the waiter, documented in README (query_canceled)"),
    ("wait_for_stream_not_exists", "57014", r"^Waiter \w+ failed: Max attempts exceeded$",
     "as for wait_for_stream_exists"),
    ("wait_for_stream_exists", "22023", r"^delay must be an interval of 0 or more and max_attempts at least 1$",
     "invalid_parameter_value: the waiter's own configuration (Delay, MaxAttempts), which boto3 "
     "also checks on the client"),
    ("wait_for_stream_not_exists", "22023", r"^delay must be an interval of 0 or more and max_attempts at least 1$",
     "as for wait_for_stream_exists"),
    ("wait_for_stream_exists", "55000", r"^Waiter \w+ cannot ",
     "object_not_in_prerequisite_state: documented refusal to wait where the change can never "
     "be seen"),
    ("wait_for_stream_not_exists", "55000", r"^Waiter \w+ cannot ", "as for wait_for_stream_exists"),
    ("add_tags_to_stream", "22023", r"^tags must be a JSON object whose values are strings$",
     "invalid_parameter_value: the jsonb argument is not of the SQL-level shape of the Tags map "
     "(object of strings); kinesis.api() reports the same as SerializationException"),
    ("put_records", "2202E", r"^records must be a one-dimensional array$",
     "array_subscript_error: a multi-dimensional array where the SQL signature means a list"),
]
NEVER = ("XX000", "XX001", "XX002", "58P01", "58P02", "58030")   # for the report only: never accepted

# ------------------------------------------------------------ SQL helpers


def lit(s):
    """s as an SQL string literal (standard_conforming_strings is on)."""
    if "\x00" in s:
        raise ValueError("NUL cannot be sent in text")
    return "'" + s.replace("'", "''") + "'"


def qi(name):
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def short(s, n=SHOW):
    """s (a str) printable and truncated for a report: non-ASCII and control
    characters escaped, the length added when cut."""
    if s is None:
        return "NULL"
    head = ascii(s[:n])[1:-1]
    if len(s) > n:
        head += "...(%d chars)" % len(s)
    return head


class V:
    """A value as an SQL expression, with a short note for reports (the
    expression itself, truncated, when there is no note).  signed marks a
    token forged with the real key."""
    __slots__ = ("sql", "note", "signed")

    def __init__(self, sql, note=None, signed=False):
        self.sql = sql
        self.note = note
        self.signed = signed

    def show(self):
        return self.note if self.note is not None else short(self.sql)


def sqlstr(s, typ, note=None):
    """A V: the string s as a literal cast to typ (NULL for None).  A
    literal, not a parameter: the cast happens at parse analysis."""
    if s is None:
        return V("NULL::%s" % typ, "NULL")
    s = s.replace("\x00", "\x01")          # text cannot hold NUL; the pieces never ask for it
    if note is None and len(s) > SHOW:
        note = "%s::%s" % (short(lit(s)), typ)
    return V("%s::%s" % (lit(s), typ), note)


def camel_to_snake(name):
    """StreamARN -> stream_arn, ShardIteratorType -> shard_iterator_type."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.lower()


# -------------------------------------------------------- hostile pieces

PIECES = [
    "'", "''", '"', '""', "\\", "\\\\", "\\'", ";", "; DROP TABLE kinesis.stream_meta; --",
    "'); DROP TABLE kinesis.stream_meta; --", "$$", "$q$", "$1", "%", "%%", "%s", "%n", "%1$s", "%999999999s",
    "{", "}", "[", "]", "(", ")", ",", ":", "::", "/", "*", "?", "-", "--", "/*", "*/", "|", "&", "=", "+",
    "@", "#", "~", "`", "<", ">", "\t", "\n", "\r", "\r\n", "\x01", "\x08", "\x0b", "\x0c", "\x1b[2J",
    "\x1f", "\x7f", "\x80", "\x85", "\xa0", "\xad", "e\u0301", "\u0301", "\u0301" * 50, "\u202e", "\u202d",
    "\u200f", "\u200e", "\u061c", "\u200b", "\u200d", "\u2060", "\ufeff", "\ufff9", "\uffff", "\ufffe",
    "\ufffd", "\ufdd0", "\U0010ffff", "\U0010fffe", "\U0001f600", "\U0001f469\u200d\U0001f469\u200d\U0001f467",
    "\U0001f1fa\U0001f1f8", "\u2028", "\u2029", "\u0130", "\u0131", "\u00df", "\ufb00", "\u216b", "\u00b2",
    "\u0663", "\u0661\u0662\u0663", "\uff11\uff12\uff13", "\u09e7", "\u0410", "\u0435", "\u1e9e", "\u3000",
    "\U0001d7d8", "\u00e9", "\u4e2d\u6587", "\u0928\u092e\u0938\u094d\u0924\u0947", "\u05e9\u05dc\u05d5\u05dd",
    "\u0645\u0631\u062d\u0628\u0627", " ", "  ", "null", "NULL", "None", "undefined", "true", "false", "[]", "{}",
    "0", "-0", "+0", "-1", "1.5", "1e309", "-1e309", "NaN", "Infinity", "-Infinity", str(2 ** 31),
    str(2 ** 31 - 1), str(-2 ** 31 - 1), str(2 ** 63), str(2 ** 63 - 1), str(2 ** 64), str(2 ** 128),
    str(2 ** 128 - 1), str(2 ** 127), "0x10", "0" * 41 + "1", "1" * 39, "9" * 39, "9" * 57, "0" * 56, "1e2",
    " 1", "1 ", "01", "shardId-", "shardId--1", "shardId-" + "9" * 21, "arn:aws:kinesis:us-east-1:000000000000:stream/",
    "alias/", "alias/aws/", "alias/aws/kinesis", "KMS", "NONE", "kms", "ALL", "TRIM_HORIZON", "LATEST",
    "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP", "UNIFORM_SCALING", "ACTIVE", "CREATING",
    "DELETING", "UPDATING", ".", "..", "_", "a" * 128, "a" * 129, "a" * 256, "a" * 257, "a" * 2048, "a" * 2049,
    "../../etc/passwd", "<script>alert(1)</script>", "${jndi:ldap://x}", "\u00c5", "A\u030a",
]


def make_huge():
    """The huge strings (1 MiB and more, in different shapes), made once."""
    return [
        ("a" * MIB + "b", "'a' x 1 MiB + 1"),
        ("\u00e9" * (MIB // 2 + 7), "'\\xe9' x 512 Ki (1 MiB + 14 bytes)"),
        ("\U0001f600" * (MIB // 4 + 1), "emoji x 256 Ki + 1 (1 MiB + 4 bytes)"),
        ("'" * MIB, "quote x 1 MiB"),
        ("\\" * MIB, "backslash x 1 MiB"),
        ("A" * (MIB + 4), "'A' x 1 MiB + 4 (valid base64)"),
        ("9" * MIB, "'9' x 1 MiB"),
        ("e\u0301" * (MIB // 3), "e + combining acute x 349 Ki"),
        ("x" * 70000, "'x' x 70000"),
        ("\uffff" * 70000, "U+FFFF x 70000"),
    ]


# ------------------------------------------------------------- catalog


class PgType:
    """What the generators need to know about an argument type."""

    def __init__(self, oid, name, typtype, category, elem, relid, basetype):
        self.oid = oid
        self.name = name            # format_type(): usable in casts
        self.typtype = typtype
        self.category = category
        self.elem = elem            # PgType of the elements of an array type
        self.relid = relid
        self.basetype = basetype    # PgType a domain is over
        self.attrs = []             # [(name, PgType)] of a composite type

    def base(self):
        t = self
        while t.basetype is not None:
            t = t.basetype
        return t


class Catalog:
    """Types of the arguments, loaded as needed."""

    def __init__(self, cur):
        self.cur = cur
        self.types = {}

    def type(self, oid):
        if oid in self.types:
            return self.types[oid]
        self.cur.execute("SELECT format_type(t.oid, NULL), t.typtype, t.typcategory, t.typelem, t.typrelid, "
                         "       t.typbasetype FROM pg_type t WHERE t.oid = %s", (oid,))
        name, typtype, category, elem, relid, basetype = self.cur.fetchone()
        t = PgType(oid, name, typtype, category, None, relid, None)
        self.types[oid] = t
        if category == "A" and elem:
            t.elem = self.type(elem)
        if typtype == "d" and basetype:
            t.basetype = self.type(basetype)
        if typtype == "c" and relid:
            self.cur.execute("SELECT a.attname, a.atttypid FROM pg_attribute a WHERE a.attrelid = %s "
                             "   AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum", (relid,))
            t.attrs = [(n, self.type(o)) for n, o in self.cur.fetchall()]
        return t


class Func:
    """A public function of the extension."""

    def __init__(self, oid, name, kind, retset, rettype, args, ndefaults, ident):
        self.oid = oid
        self.name = name
        self.kind = kind            # f, p (procedure), a, w
        self.retset = retset
        self.rettype = rettype
        self.args = args            # [(name, PgType)] of the input arguments
        self.ndefaults = ndefaults
        self.ident = ident


def load_functions(cur, catalog):
    """Every function of schema kinesis whose name does not start with '_'."""
    cur.execute("""
        SELECT p.oid, p.proname, p.prokind, p.proretset, format_type(p.prorettype, NULL),
               p.proargtypes::oid[], coalesce(p.proargnames, '{}'), p.proargmodes::text[], p.pronargdefaults,
               pg_get_function_identity_arguments(p.oid)
          FROM pg_proc p
         WHERE p.pronamespace = 'kinesis'::regnamespace AND left(p.proname, 1) <> '_'
         ORDER BY p.proname, p.oid""")
    funcs = []
    for oid, name, kind, retset, rettype, argtypes, argnames, modes, ndefaults, ident in cur.fetchall():
        if modes is None:
            in_names = [argnames[i] if i < len(argnames) else "" for i in range(len(argtypes))]
        else:
            in_names = [argnames[i] if i < len(argnames) else "" for i, m in enumerate(modes) if m in ("i", "b", "v")]
        args = [(n, catalog.type(t)) for n, t in zip(in_names, argtypes)]
        funcs.append(Func(oid, name, kind, retset, rettype, args, ndefaults, ident))
    # overloaded names get their argument types in the label
    names = [f.name for f in funcs]
    for f in funcs:
        f.target = f.name if names.count(f.name) == 1 else "%s(%s)" % (f.name, f.ident)
    return funcs


class ApiOp:
    """An operation of kinesis.api(): its members [(name, aws type, element
    schema)], read from the source of its kinesis._api_<operation>."""

    def __init__(self, name, handler, members):
        self.name = name
        self.handler = handler
        self.members = members
        self.target = "api:" + name


MEMBER_HELPER = re.compile(r"kinesis\._api_(string|integer|long|boolean|blob|timestamp)\(\s*(\w+)\s*,\s*'(\w+)'\s*\)")
MEMBER_VALUE = re.compile(r"kinesis\._api_value\(\s*(\w+)\s*->\s*'(\w+)'\s*,\s*'(\w+)'\s*\)")
ENTRY_CALL = re.compile(r"kinesis\.(_api_\w+_entry)\(")
WHEN_OP = re.compile(r"WHEN\s+'(\w+)'\s+THEN\s+response\s*:=\s*kinesis\.(_api_\w+)\(")


def prosrc(cur, name):
    """The source of kinesis.<name>; for a decoder written in C (PutRecords,
    GetRecords: src/apicodec.c) that of the PL/pgSQL decoder it falls back
    on, kinesis.<name>_checked, which reads the same members."""
    cur.execute("SELECT string_agg(CASE WHEN l.lanname = 'c' THEN c.prosrc ELSE p.prosrc END, E'\\n')"
                "  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
                "  LEFT JOIN pg_proc c ON c.pronamespace = p.pronamespace AND c.proname = p.proname || '_checked'"
                " WHERE p.pronamespace = 'kinesis'::regnamespace AND p.proname = %s", (name,))
    return cur.fetchone()[0] or ""


def parse_members(cur, handler, var=None, depth=0):
    """The members a request decoder reads, in its order: (name, AWS type,
    element schema of a List: None for String, a member list for a
    Structure)."""
    src = prosrc(cur, handler)
    members = []
    seen = set()
    for m in sorted(list(MEMBER_HELPER.finditer(src)) + list(MEMBER_VALUE.finditer(src)), key=lambda m: m.start()):
        if m.re is MEMBER_HELPER:
            obj, member, typ = m.group(2), m.group(3), m.group(1).capitalize()
        else:
            obj, member, typ = m.group(1), m.group(2), m.group(3)
        if var is not None and obj != var:
            continue
        if var is None and obj not in ("request",):
            continue
        if member in seen:
            continue
        seen.add(member)
        element = None
        if typ == "List":
            entry = ENTRY_CALL.search(src)
            if entry and depth == 0:
                element = parse_members(cur, entry.group(1), "entry", depth + 1)
        members.append((member, typ, element))
    return members


def load_api_ops(cur):
    """The operations of kinesis.api() and their members."""
    src = prosrc(cur, "api")
    ops = []
    for m in WHEN_OP.finditer(src):
        ops.append(ApiOp(m.group(1), m.group(2), parse_members(cur, m.group(2))))
    return ops


# ------------------------------------------------------------- digest

DIGEST_PARTS = [
    # (part, SQL giving one text per row, ordered); stream_meta without
    # status_since, the time of its last transition; keys without their
    # material and their descriptions (hostile ones are megabytes long, so
    # slow to read, and nothing changes a description)
    ("stream_meta", "SELECT (to_jsonb(m) - 'status_since')::text FROM kinesis.stream_meta m ORDER BY m.stream_id"),
    ("shard_meta", "SELECT to_jsonb(s)::text FROM kinesis.shard_meta s ORDER BY s.stream_id, s.shard_index"),
    ("tags", "SELECT to_jsonb(t)::text FROM kinesis.tags t ORDER BY t.stream_id, t.tag_key"),
    ("consumers", "SELECT to_jsonb(c)::text FROM kinesis.consumers c ORDER BY c.stream_id, c.consumer_name"),
    ("checkpoints", "SELECT to_jsonb(c)::text FROM kinesis.checkpoints c "
                    " ORDER BY c.stream_id, c.consumer_name, c.shard_index"),
    ("buckets", "SELECT to_jsonb(b)::text FROM kinesis.buckets b ORDER BY b.stream_id, b.bucket"),
    ("kms_key_store", "SELECT format('%s %s enabled=%s aws_managed=%s created %s', k.key_ref, k.key_id, k.enabled, "
                      "              k.aws_managed, k.created_at) FROM kinesis.kms_key_store k ORDER BY k.key_ref"),
    ("kms_aliases", "SELECT to_jsonb(a)::text FROM kinesis.kms_aliases a ORDER BY a.alias_name"),
    ("stream_grants", "SELECT to_jsonb(g)::text FROM kinesis.stream_grants g "
                      " ORDER BY g.grantee, g.stream_name, g.action"),
    ("records", "SELECT format('%s/%s: %s records, counters %s..%s', r.stream_id, r.shard_index, count(*), "
                "min(r.seq), max(r.seq)) FROM kinesis.records r GROUP BY r.stream_id, r.shard_index "
                "ORDER BY r.stream_id, r.shard_index"),
    ("bucket tables", "SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = 'kinesis'::regnamespace "
                      "   AND c.relkind = 'r' AND c.relname ~ '^records_[0-9]+_[0-9]+$' ORDER BY 1"),
    ("in flight", "SELECT format('%s transactions in flight', coalesce(sum(f.inflight_transactions), 0)) "
                  "  FROM kinesis.inflight() f"),
]
DIGEST_SQL = []


def digest_sql(cur):
    """The digest query over the parts whose table exists (kinesis.stream_grants
    came with per-stream privileges)."""
    parts = []
    for name, sql in DIGEST_PARTS:
        table = re.search(r"FROM (kinesis\.\w+)(?![\w(])", sql)
        if table is not None:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table.group(1),))
        if table is None or cur.fetchone()[0]:
            parts.append("SELECT %s, coalesce((SELECT array_agg(x) FROM (%s) AS q(x)), '{}')" % (lit(name), sql))
    return " UNION ALL ".join(parts)


def digest(cur):
    """{part: tuple of rows}."""
    if not DIGEST_SQL:
        DIGEST_SQL.append(digest_sql(cur))
    cur.execute(DIGEST_SQL[0])
    return {name: tuple(rows) for name, rows in cur.fetchall()}


def digest_diff(a, b):
    """What differs between two digests, briefly."""
    out = []
    for name in a:
        if a[name] != b.get(name):
            gone = [r for r in a[name] if r not in set(b.get(name, ()))]
            new = [r for r in b.get(name, ()) if r not in set(a[name])]
            out.append("%s: -%s +%s" % (name, short(" | ".join(gone), 300), short(" | ".join(new), 300)))
    return "; ".join(out)


# ------------------------------------------------------------- fixture

ROLES = ("a", "k", "u", "c", "d")
EXPECTED_STATUS = {"a": "ACTIVE", "k": "ACTIVE", "u": "UPDATING", "c": "CREATING", "d": "DELETING"}
METRICS = ["ALL", "IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
           "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
           "IteratorAgeMilliseconds"]
PG_EPOCH = 946684800            # 2000-01-01 in Unix seconds: TimestampTz's zero


def wrap(v, bits):
    """v as a signed integer of that many bits (two's complement)."""
    half = 1 << (bits - 1)
    return (v + half) % (1 << bits) - half


class Fixture:
    """The streams, keys and values the hostile calls aim at."""

    def __init__(self, conn, worker, tag, signed):
        self.conn = conn
        self.cur = conn.cursor()
        self.worker = worker
        self.tag = tag
        self.signed = signed
        self.gen = 0
        self.names = {}             # role -> stream name
        self.preexisting = set()
        self.keys = {}              # 'k1' (enabled), 'k2' (disabled) -> (guid, arn, alias)
        self.ctx = {}
        self.ctx_time = 0.0
        self.built = 0              # fixture streams created
        self.secret = None

    # -- plumbing
    def sql(self, q, params=None, fetch=True):
        """One statement in a transaction of its own, committed."""
        try:
            self.cur.execute(q, params)
            rows = self.cur.fetchall() if fetch and self.cur.description else None
            self.conn.commit()
            return rows
        except Exception:
            self.conn.rollback()
            raise

    def try_sql(self, q, params=None):
        try:
            return self.sql(q, params)
        except psycopg2.Error as e:
            return e

    def maintain(self):
        """Lets maintenance carry out what is due: run_maintenance() here
        without a worker; with one, waits until the state is still."""
        if not self.worker:
            for _ in range(3):
                rows = self.sql("SELECT count(*) FILTER (WHERE outcome = 'done') FROM kinesis.run_maintenance()")
                if rows[0][0] == 0:
                    break
        else:
            self.settle()

    DUE_SQL = """
        SELECT EXISTS (SELECT FROM kinesis.stream_meta m WHERE m.pending IS NOT NULL
                          AND coalesce((m.pending ->> 'not_before')::timestamptz, '-infinity') <= clock_timestamp())
            OR EXISTS (SELECT FROM kinesis.consumers c WHERE c.consumer_status <> 'ACTIVE'
                          AND c.not_before <= clock_timestamp())"""

    def settle(self, timeout=10.0):
        """With a worker: waits until it has nothing due (a transition
        whose delay has passed) and, if it had, until two digests 50 ms
        apart agree."""
        if not self.worker:
            return
        until = time.monotonic() + timeout
        waited = False
        while time.monotonic() < until:
            self.cur.execute(self.DUE_SQL)
            due = self.cur.fetchone()[0]
            self.conn.rollback()
            if due:
                waited = True
                time.sleep(0.02)
                continue
            if not waited:
                return              # the worker had nothing to do
            prev = digest(self.cur)
            self.conn.rollback()
            time.sleep(0.05)
            now = digest(self.cur)
            self.conn.rollback()
            if now == prev:
                return

    def wait_status(self, name, status, timeout=30.0):
        until = time.monotonic() + timeout
        while True:
            rows = self.sql("SELECT stream_status FROM kinesis.stream_meta WHERE stream_name = %s", (name,))
            now = rows[0][0] if rows else None
            if now == status:
                return
            if time.monotonic() > until:
                raise RuntimeError("fixture stream %s is %s, not %s" % (name, now, status))
            if not self.worker:
                self.sql("SELECT count(*) FROM kinesis.run_maintenance()")
            else:
                time.sleep(0.05)

    # -- building
    def start(self):
        self.sql("SET standard_conforming_strings = on", fetch=False)
        self.preexisting = {r[0] for r in self.sql("SELECT stream_name FROM kinesis.stream_meta")}
        if self.signed:
            self.secret = bytes(self.sql("SELECT iterator_key FROM kinesis.secrets")[0][0])
        for k, enabled in (("k1", True), ("k2", False)):
            alias = "alias/hx-%s-%s" % (self.tag, k)
            guid, arn = self.sql("SELECT key_id::text, key_arn FROM kinesis.create_kms_key(%s, %s)",
                                 ("hostile_sql fixture key %s" % k, alias))[0]
            if not enabled:
                self.sql("SELECT kinesis.disable_kms_key(%s)", (guid,))
            self.keys[k] = (guid, arn, alias)
        for role in ROLES:
            self.build(role)
        if self.sql("SELECT to_regprocedure('kinesis.grant_stream_access(regrole, text, text[])') IS NOT NULL")[0][0]:
            self.sql("SELECT kinesis.grant_stream_access('kinesis_consumer', %s, ARRAY['kinesis:GetRecords'])",
                     (self.names["a"],))
        self.refresh(force=True)

    def new_name(self, role):
        self.gen += 1
        return "hx%s_%s%d" % (self.tag, role, self.gen)

    def build(self, role):
        """Creates the fixture stream of role under a new name."""
        name = self.new_name(role)
        self.names[role] = name
        self.built += 1
        if role == "c":
            self.sql("SET kinesis.create_stream_delay = '1h'", fetch=False)
            try:
                self.sql("SELECT kinesis.create_stream(%s, 1)", (name,))
            finally:
                self.sql("RESET kinesis.create_stream_delay", fetch=False)
            return
        self.sql("SELECT kinesis.create_stream(%s, %s)", (name, 2 if role in ("a", "u") else 1))
        self.wait_status(name, "ACTIVE")
        if role == "a":
            self.put(name, 6)
            # split shard 0 at its middle: a closed shard with children
            mid = self.sql("SELECT ((starting_hash_key + ending_hash_key) / 2)::numeric(39,0)::text "
                           "  FROM kinesis.shards WHERE stream_name = %s AND shard_index = 0", (name,))[0][0]
            self.sql("SELECT kinesis.split_shard(%s, 'shardId-000000000000', %s)", (name, mid))
            self.wait_status(name, "ACTIVE")
            self.put(name, 6)
            self.fix_a()
        elif role == "k":
            self.sql("SELECT kinesis.start_stream_encryption(%s, 'KMS', %s)", (name, self.keys["k1"][0]))
            self.wait_status(name, "ACTIVE")
            self.put(name, 4)
        elif role == "u":
            self.sql("SET kinesis.update_stream_delay = '1h'", fetch=False)
            try:
                self.sql("SELECT kinesis.update_shard_count(%s, 4)", (name,))
            finally:
                self.sql("RESET kinesis.update_stream_delay", fetch=False)
        elif role == "d":
            self.put(name, 2)
            self.sql("SET kinesis.delete_stream_delay = '1h'", fetch=False)
            try:
                self.sql("SELECT kinesis.delete_stream(%s)", (name,))
            finally:
                self.sql("RESET kinesis.delete_stream_delay", fetch=False)

    def put(self, name, n):
        for i in range(n):
            self.sql("SELECT * FROM kinesis.put_record(%s, %s, %s)",
                     (name, psycopg2.Binary(("record %d of %s" % (i, name)).encode()), "pk-%d" % i))

    def fix_a(self):
        """Consumers, tags and the checkpoint of stream a, where missing."""
        name = self.names["a"]
        arn = self.sql("SELECT kinesis.stream_arn(%s)", (name,))[0][0]
        for _ in range(3):
            have = {r[0]: r[1] for r in self.sql(
                "SELECT c.consumer_name, c.consumer_status FROM kinesis.consumers c "
                "  JOIN kinesis.stream_meta m USING (stream_id) WHERE m.stream_name = %s", (name,))}
            if all(have.get(c) == "ACTIVE" for c in ("cons1", "cons2")):
                break
            for cname in ("cons1", "cons2"):
                if cname not in have:
                    self.sql("SELECT kinesis.register_stream_consumer(%s, %s)", (arn, cname))
            self.maintain()
        self.sql("SELECT kinesis.add_tags_to_stream(%s, %s::jsonb)",
                 (name, json.dumps({"env": "hostile", "owner": "hx"})))
        rec = self.sql("SELECT shard_id, sequence_number FROM kinesis.stream_records WHERE stream_name = %s "
                       " ORDER BY sequence_number LIMIT 1", (name,))
        if rec:
            self.sql("SELECT kinesis.checkpoint(%s, 'cons1', %s, %s)", (name, rec[0][0], rec[0][1]))

    # -- repair
    def repair(self):
        """After a committed call: lets maintenance finish what it asked for,
        deletes the streams hostile calls created, replaces fixture streams
        that are gone or in the wrong state, restores stream a's consumers,
        tags and checkpoint and the keys' state.  Returns what it did."""
        did = []
        self.maintain()
        current = set(self.names.values())
        rows = self.sql("SELECT stream_name, stream_status, encryption_type, "
                        "       (SELECT count(*) FROM kinesis.shard_meta h WHERE h.stream_id = m.stream_id "
                        "           AND h.closed_at IS NULL), "
                        "       (SELECT count(*) FROM kinesis.tags t WHERE t.stream_id = m.stream_id), "
                        "       (SELECT count(*) FROM kinesis.consumers c WHERE c.stream_id = m.stream_id) "
                        "  FROM kinesis.stream_meta m")
        state = {r[0]: r[1:] for r in rows}
        for role in ROLES:
            name = self.names[role]
            st = state.get(name)
            ok = st is not None and st[0] == EXPECTED_STATUS[role]
            if ok and role == "a":
                ok = st[1] == "NONE" and st[2] <= 8 and st[3] <= 40 and st[4] <= 12
            if ok and role == "k":
                ok = st[1] == "KMS"
            if not ok:
                did.append("replaced %s (%s)" % (name, "gone" if st is None else "/".join(map(str, st[:2]))))
                self.build(role)
        current = set(self.names.values())
        extra = [n for n, st in state.items()
                 if n not in current and n not in self.preexisting and st[0] != "DELETING"]
        for n in extra:
            e = self.try_sql("SELECT kinesis.delete_stream(%s, true)", (n,))
            did.append("deleted %s%s" % (short(n, 40), " (%s)" % e.pgcode if isinstance(e, psycopg2.Error) else ""))
        if extra:
            self.maintain()
        # stream a's consumers, tags, checkpoint
        name = self.names["a"]
        rows = self.sql("SELECT (SELECT count(*) FROM kinesis.consumers c WHERE c.stream_id = m.stream_id "
                        "           AND c.consumer_name IN ('cons1', 'cons2') AND c.consumer_status = 'ACTIVE'), "
                        "       (SELECT count(*) FROM kinesis.tags t WHERE t.stream_id = m.stream_id "
                        "           AND t.tag_key IN ('env', 'owner')), "
                        "       (SELECT count(*) FROM kinesis.checkpoints p WHERE p.stream_id = m.stream_id) "
                        "  FROM kinesis.stream_meta m WHERE m.stream_name = %s", (name,))
        if rows and (rows[0][0] != 2 or rows[0][1] != 2 or rows[0][2] < 1):
            self.fix_a()
            did.append("restored consumers/tags/checkpoint of %s" % name)
        # keys: k1 enabled, k2 disabled, both with their aliases
        for k, enabled in (("k1", True), ("k2", False)):
            guid, arn, alias = self.keys[k]
            rows = self.sql("SELECT k.enabled, EXISTS (SELECT FROM kinesis.kms_aliases a "
                            "  WHERE a.alias_name = %s AND a.key_ref = k.key_ref) "
                            "  FROM kinesis.kms_key_store k WHERE k.key_id = %s::uuid", (alias, guid))
            if rows[0][0] != enabled:
                self.sql("SELECT kinesis.%s(%%s)" % ("enable_kms_key" if enabled else "disable_kms_key"), (guid,))
                did.append("%s key %s" % ("enabled" if enabled else "disabled", k))
            if not rows[0][1]:
                self.try_sql("SELECT kinesis.delete_kms_alias(%s)", (alias,))
                self.sql("SELECT kinesis.create_kms_alias(%s, %s)", (alias, guid))
                did.append("alias of key %s" % k)
        if did:
            self.maintain()
            self.refresh(force=True)
        return did

    def cleanup(self):
        """Deletes every stream this run created."""
        names = [r[0] for r in self.sql("SELECT stream_name FROM kinesis.stream_meta")]
        for n in names:
            if n not in self.preexisting:
                self.try_sql("SELECT kinesis.delete_stream(%s, true)", (n,))
        self.maintain()

    # -- values
    def refresh(self, force=False):
        """The context values: fresh iterators and tokens (iterators expire
        after 300 s, so they are renewed every 100 s)."""
        if not force and time.monotonic() - self.ctx_time < 100:
            return
        self.ctx_time = time.monotonic()
        a, k = self.names["a"], self.names["k"]
        names = [self.names[r] for r in ROLES]
        ctx = {}
        ctx["stream_name"] = names + ["hx_no_such_stream", "a", "A" * 128]
        arns = [r[0] for r in self.sql("SELECT kinesis.stream_arn(n) FROM unnest(%s::text[]) n", (names,))]
        ctx["stream_arn"] = arns + ["arn:aws:kinesis:eu-west-1:000000000000:stream/" + a,
                                    "arn:aws:kinesis:us-east-1:123456789012:stream/" + a,
                                    "arn:aws-cn:kinesis:us-east-1:000000000000:stream/" + a]
        cons = self.sql("SELECT (kinesis.describe_stream_consumer(%s, c)).consumer_arn FROM unnest(%s::text[]) c",
                        (arns[0], ["cons1", "cons2"]))
        ctx["consumer_arn"] = [r[0] for r in cons]
        ctx["consumer_name"] = ["cons1", "cons2", "cons3"]
        shards = self.sql("SELECT stream_name, shard_id, starting_sequence_number, ending_sequence_number "
                          "  FROM kinesis.shards WHERE stream_name = ANY(%s)", (names,))
        ctx["shard_id"] = sorted({r[1] for r in shards}) + ["shardId-000000000099", "shard-1", "x-2-y"]
        seqs = [r[0] for r in self.sql("SELECT sequence_number FROM kinesis.stream_records "
                                       " WHERE stream_name = ANY(%s)", ([a, k],))]
        ctx["sequence_number"] = seqs + [r[2] for r in shards] + [r[3] for r in shards if r[3]]
        if seqs:
            # forged sequence numbers: well-formed, of the layout, naming
            # another shard, a counter never issued, another epoch
            ctx["sequence_number"] += [r[0] for r in self.sql("""
                SELECT kinesis.format_sequence_number(p.shard_epoch + e,
                                                      least(p.shard_index::bigint + i, 2147483647)::integer,
                                                      p.counter + c, p.seq_epoch + e)
                  FROM kinesis.parse_sequence_number(%s) p,
                       (VALUES (0, 1, 0), (0, 0, 1000000000), (0, 0, 1), (1, 0, 0), (-1, 0, 0), (0, 99, 0),
                               (0, 2147483647, 0)) AS v(e, i, c)""", (seqs[0],)) if r[0]]
            ctx["sequence_number"].append(str(random.Random(seqs[0]).randrange(10 ** 55, 10 ** 56)))
        its = []
        for sid in [r[1] for r in shards if r[0] == a] + ["shardId-000000000000"]:
            for typ, seq in (("TRIM_HORIZON", None), ("LATEST", None)):
                its.append(self.sql("SELECT kinesis.get_shard_iterator(%s, %s, %s, %s)", (a, sid, typ, seq))[0][0])
        its.append(self.sql("SELECT kinesis.get_shard_iterator(%s, 'shardId-000000000000', 'TRIM_HORIZON')",
                            (k,))[0][0])
        for sid, seq in self.sql("SELECT shard_id, sequence_number FROM kinesis.stream_records "
                                 " WHERE stream_name = %s ORDER BY sequence_number LIMIT 2", (a,)):
            for typ in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
                its.append(self.sql("SELECT kinesis.get_shard_iterator(%s, %s, %s, %s)", (a, sid, typ, seq))[0][0])
        ctx["shard_iterator"] = its
        tokens = []
        rows = self.sql("SELECT (kinesis.list_shards(stream_name => %s, max_results => 1)).next_token", (a,))
        tokens += [r[0] for r in rows if r[0]]
        rows = self.sql("SELECT (kinesis.list_stream_consumers(%s, max_results => 1)).next_token", (arns[0],))
        tokens += [r[0] for r in rows if r[0]]
        ctx["next_token"] = tokens
        g1, arn1, alias1 = self.keys["k1"]
        g2, arn2, alias2 = self.keys["k2"]
        ctx["key_id"] = [g1, g1.upper(), arn1, alias1, "arn:aws:kms:us-east-1:000000000000:" + alias1, g2, arn2,
                         alias2, "alias/aws/kinesis", "00000000-0000-0000-0000-000000000000",
                         "arn:aws:kms:eu-west-1:000000000000:key/" + g1]
        ctx["alias_name"] = [alias1, alias2, "alias/hx-%s-new" % self.tag, "alias/aws/kinesis", "alias/aws/x"]
        ctx["encryption_type"] = ["KMS", "NONE", "kms", "AES256"]
        ctx["iterator_type"] = ["TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER",
                                "AT_TIMESTAMP", "trim_horizon"]
        ctx["scaling_type"] = ["UNIFORM_SCALING", "uniform_scaling"]
        ctx["status"] = ["ACTIVE", "CREATING", "DELETING", "UPDATING", "active"]
        ctx["metric"] = METRICS + ["all", "Bogus"]
        ctx["tag_key"] = ["env", "owner", "missing"]
        ctx["partition_key"] = ["pk-0", "alice", "x" * 256]
        ctx["hash_key"] = ["0", "1", str(2 ** 127), str(2 ** 128 - 1), str(2 ** 127 + 1),
                           str(2 ** 128 // 4), str(2 ** 128 // 4 * 3)]
        ctx["operation"] = sorted(op.name for op in API_OPS)
        ctx["description"] = ["hostile"]
        ctx["action"] = ["kinesis:GetRecords", "kinesis:*", "kinesis:Get*", "kinesis:PutRecord",
                         "kinesis:DescribeStreamSummary", "kinesis:ListStreams", "PutRecord", "GetRecords",
                         "DescribeStreamSummary", "ManageAccess", "kinesis:", "kinesis:**", "kinesis:Put*Record",
                         "*", "kinesis:putrecord", "kinesis:SubscribeToShard"]
        ctx["role"] = ["kinesis_consumer", "postgres", "kinesis_admin", "kinesis_producer", "pg_monitor"]
        ctx["timestamp"] = [r[0] for r in self.sql(
            "SELECT stream_creation_timestamp::text FROM kinesis.streams WHERE stream_name = ANY(%s) "
            "UNION ALL SELECT approximate_arrival_timestamp::text FROM kinesis.stream_records "
            " WHERE stream_name = %s", (names, a))]
        ctx["stream_name"].append("*")
        ctx["any"] = sorted({v for vs in ctx.values() for v in vs})
        if self.secret is not None:
            ctx["signed_iterator"] = its
            ctx["signed_token"] = tokens
        self.ctx = ctx

    # -- forging (with the real key)
    def sign(self, kind, payload):
        raw = kind.encode() + payload
        return base64.b64encode(raw + hmac.new(self.secret, raw, hashlib.sha256).digest()[:16]).decode()

    def forged_iterator(self, rng):
        """A genuine iterator of the fixture, its fields changed, signed
        again with the real key."""
        raw = base64.b64decode(rng.choice(self.ctx["signed_iterator"]))
        payload = raw[1:-16]
        sid, shard, pos, min_arr, created, nonce, hint = struct.unpack(">iiqqqIi", payload[:40])
        name = payload[40:]
        now_us = int((time.time() - PG_EPOCH) * 1e6)
        notes = []
        for _ in range(rng.randint(1, 3)):
            f = rng.choice(["sid", "shard", "pos", "min", "created", "hint", "name", "len"])
            if f == "sid":
                sid = rng.choice([0, -1, sid + 1, sid - 1, 2 ** 31 - 1, -2 ** 31, 999999])
            elif f == "shard":
                shard = rng.choice([-1, 1, 2, 3, 99, 2 ** 31 - 1, -2 ** 31, 1000000])
            elif f == "pos":
                pos = rng.choice([-1, 0, 1, 2 ** 62, 2 ** 63 - 1, -2 ** 63, 2 ** 32, pos + 1000])
            elif f == "min":
                min_arr = rng.choice([-1, 2 ** 63 - 1, -2 ** 63, now_us + 10 ** 12, 1])
            elif f == "created":
                created = rng.choice([0, -1, 2 ** 63 - 1, -2 ** 63, now_us - 301 * 10 ** 6, now_us - 299 * 10 ** 6,
                                      now_us + 10 ** 6 - 1, now_us + 2 * 10 ** 6])
            elif f == "hint":
                hint = rng.choice([-1, -2, 0, 1, 2 ** 31 - 1, -2 ** 31, 1000])
            elif f == "name":
                name = rng.choice([b"", b"x", b"\xff\xfe", b"a\x00b", b"%s%s%n", b"'", b"a" * 128, b"a" * 129,
                                   self.names[rng.choice(ROLES)].encode(), "\u00e9\U0001f600".encode(),
                                   b"hx_no_such_stream", "\u00e9".encode()[:1]])
            else:
                payload = payload[:rng.choice([0, 1, 39, 40])]
                notes.append("payload cut")
                break
            notes.append(f)
        if "payload cut" not in notes and rng.random() < 0.25:
            # a name that is no UTF-8, on a path whose error message quotes it
            name = rng.choice([b"\xff\xfe", b"\xc3", b"a\x80b", b"\xed\xa0\x80"])
            shard = rng.choice([77, -1, 2 ** 31 - 1])
            notes.append("bad-UTF-8 name, shard %d" % shard)
        if "payload cut" not in notes:
            payload = struct.pack(">iiqqqIi", wrap(sid, 32), wrap(shard, 32), wrap(pos, 64), wrap(min_arr, 64),
                                  wrap(created, 64), nonce, wrap(hint, 32)) + name
        token = self.sign("I", payload)
        note = "signed-forged iterator (%s: sid=%d shard=%d pos=%d min=%d created=%d hint=%d name=%s)" % (
            ",".join(notes), sid, shard, pos, min_arr, created, hint, short(repr(name), 40))
        return token, note

    def forged_token(self, rng):
        """A genuine pagination token, its JSON payload changed, signed again."""
        tok = rng.choice(self.ctx["signed_token"])
        raw = base64.b64decode(tok)
        kind = chr(raw[0])
        try:
            obj = json.loads(raw[1:-16].decode())
        except ValueError:
            obj = {}
        notes = []
        for _ in range(rng.randint(1, 2)):
            key = rng.choice(list(obj)) if obj and rng.random() < 0.8 else rng.choice(["o", "t", "i", "a", "n", "x"])
            val = rng.choice([None, "abc", "", -1, 0, 2 ** 31, 2 ** 63, 2 ** 128, 1.5, 1e300, [], {}, True,
                              "\u00e9", "x" * 300, "ListShards", "ListStreamConsumers",
                              int(time.time() * 1000) + 10 ** 6])
            obj[key] = val
            notes.append("%s=%s" % (key, short(json.dumps(val), 30)))
        body = json.dumps(obj).encode()
        if rng.random() < 0.1:
            body = rng.choice([b"[]", b"null", b"\xff\xfe", b"{", b'"x"', b"1"])
            notes = ["payload %r" % body]
        return self.sign(kind, body), "signed-forged token kind %s (%s)" % (kind, ", ".join(notes))


# ---------------------------------------------------------- generators

CTX_RULES = [
    # substring of an argument or member name (snake_case) -> context key
    ("metric", "metric"), ("consumer_arn", "consumer_arn"), ("stream_arn", "stream_arn"),
    ("arn", "stream_arn"), ("iterator_type", "iterator_type"), ("initial_position", "iterator_type"),
    ("iterator", "shard_iterator"), ("sequence_number", "sequence_number"), ("hash_key", "hash_key"),
    ("shard", "shard_id"), ("consumer_name", "consumer_name"), ("stream_name", "stream_name"),
    ("key_id", "key_id"), ("alias", "alias_name"), ("encryption_type", "encryption_type"),
    ("scaling_type", "scaling_type"), ("status", "status"), ("tag", "tag_key"), ("token", "next_token"),
    ("partition_key", "partition_key"), ("operation", "operation"), ("description", "description"),
    ("timestamp", "timestamp"), ("action", "action"), ("role", "role"),
]


NUMBERED = ("consumer_arn", "shard_id", "sequence_number", "hash_key", "timestamp")


def ctx_key(name):
    n = (name or "").lower()
    for sub, key in CTX_RULES:
        if sub in n:
            return key
    return "any"


# hostile numbers: the extremes of the type, and both sides of every
# documented limit (1..10000 records, 24..8760 hours, 1..50 tags, 500
# entries, 10000 shards, 20 consumers ...)
INT_EXTREME = [0, -1, -2, 2 ** 31 - 1, 2 ** 31 - 2, -2 ** 31, -2 ** 31 + 1]
INT_GOOD = [1, 2, 4, 5, 6, 9, 10, 11, 19, 20, 21, 23, 24, 25, 49, 50, 51, 100, 101, 167, 168, 169, 499, 500, 501,
            8759, 8760, 8761, 9999, 10000, 10001, 65535, 65536, -100]
INT_BAD = [str(2 ** 31), str(-2 ** 31 - 1), str(2 ** 63), str(2 ** 128), "1.5", "1e3", "", " ", "abc", "0x10",
           "\u0663", "--1", "NaN", "Infinity"]
BIGINT_EXTREME = INT_EXTREME + [2 ** 63 - 1, 2 ** 63 - 2, -2 ** 63, -2 ** 63 + 1, 2 ** 32, -2 ** 32]
BIGINT_GOOD = INT_GOOD + [2 ** 53, 10 ** 15, 2 ** 40 + 7, 2 ** 36, 2 ** 36 - 1, 10 ** 10]
BIGINT_BAD = [str(2 ** 63), str(-2 ** 63 - 1), str(2 ** 128), "1.5", "", "abc"]
TS_GOOD = ["now", "epoch", "infinity", "-infinity", "4714-11-24 00:00:00+00 BC", "294276-12-31 23:59:59.999999+00",
           "1970-01-01 00:00:00.000001+00", "2000-01-01", "3000-01-01", "1900-01-01", "0001-01-01 BC",
           "2024-02-29 12:00:00+14", "2024-02-29 12:00:00-12"]
TS_BAD = ["garbage", "", "2024-13-01", "4714-11-23 BC", "294277-01-01", "2024-01-01 25:00"]
IV_GOOD = ["0", "-1 second", "1 microsecond", "1 millisecond", "10 milliseconds", "50 milliseconds",
           "200 milliseconds", "1 second", "1 hour", "1 day", "1000 years", "-1000 years", "178000000 years",
           "-178000000 years", "2147483647 days", "-2147483648 days", "1 mon -30 days", "2147483647 months"]
IV_BAD = ["forever", "", "1 fortnight", "999999999999 years", "infinity"]
BOOL_GOOD = ["true", "false"]
BOOL_BAD = ["maybe", "", "2"]


class Raw(str):
    """JSON text emitted as is (a lone surrogate escape, 1e1000, -0)."""


class Deep:
    """JSON nested depth levels deep, built by repetition."""

    def __init__(self, depth, kind="["):
        self.depth = depth
        self.kind = kind

    def text(self):
        if self.kind == "[":
            return "[" * self.depth + "1" + "]" * self.depth
        return '{"a":' * self.depth + "1" + "}" * self.depth


class Obj(list):
    """A JSON object as a list of (key, value) pairs: keys may repeat."""


def dump(v, ascii_only=True):
    """JSON text of v (Raw, Deep and Obj included)."""
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, Deep):
        return v.text()
    if isinstance(v, Obj):
        return "{" + ",".join(json.dumps(k, ensure_ascii=ascii_only) + ":" + dump(x, ascii_only) for k, x in v) + "}"
    if isinstance(v, dict):
        return dump(Obj(v.items()), ascii_only)
    if isinstance(v, list):
        return "[" + ",".join(dump(x, ascii_only) for x in v) + "]"
    return json.dumps(v, ensure_ascii=ascii_only)


JSON_RAW = [Raw('"\\ud800"'), Raw('"\\udc00"'), Raw('"a\\ud83dx"'), Raw('"\\uffff"'), Raw('"\\ufffe"'),
            Raw('"\\u0000"'), Raw('"\\u001f"'), Raw("1e1000"), Raw("-1e1000"), Raw("1e-1000"), Raw("-0"),
            Raw("1E400"), Raw("123456789" * 40), Raw("0.0000000000000000000000001"), Raw('"\\ud83d\\ude00"'),
            Raw("1e131072")]
TS_ISO_HOSTILE = ["2024-01-01T00:00:00+16:00", "2024-01-01T00:00:00-99:99", "2024-01-01T00:00:00+15:59",
                  "2024-01-01T00:00:00+1559", "2024-01-01T00:00:00+00:60", "2024-13-01", "2024-02-30T00:00:00Z",
                  "0000-01-01", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999-15:59",
                  "2024-01-01T24:00:00Z", "2024-01-01T23:59:60Z", "2024-01-01T00:00:00.123456789012345Z",
                  "2024-01-01 00:00", "2024-01-01T00:00:00z", "\u0662\u0660\u0662\u0664-01-01", "yesterday",
                  "", "1700000000", "2024-01-01T00:00:00+14", "2024-01-01T00:00:00-1200"]


class Gen:
    """The hostile values of one call, from its own random generator."""

    def choose(self, pool):
        """A value of a context pool: its first (the ACTIVE stream with
        records, consumers and tags; its first consumer ...) 40 % of the
        time, so that calls get past the lookups to the code behind."""
        if self.rng.random() < 0.4:
            return pool[0]
        return self.rng.choice(pool)

    def __init__(self, rng, fx, huge):
        self.rng = rng
        self.fx = fx
        self.huge = huge
        self.no_huge = False        # set while making the many elements of a list
        self.forged = []            # notes on the tokens forged with the real key for this call

    # -- strings
    def mutate(self, s, key=None):
        """A string close to s: edited digits, hostile pieces inserted,
        truncated or padded to a limit, re-cased, quoted, re-encoded.
        Values with a number in them (ARNs with their epoch, shard ids,
        sequence numbers, hash keys) get that number replaced more often."""
        rng = self.rng
        how = rng.randrange(15)
        if key in NUMBERED and rng.random() < 0.3:
            how = 13
        piece = rng.choice(PIECES)
        if how == 0:
            return s + piece
        if how == 1:
            return piece + s
        if how == 2 and s:
            i = rng.randrange(len(s) + 1)
            return s[:i] + piece + s[i:]
        if how == 3 and s:
            i = rng.randrange(len(s))
            return s[:i] + rng.choice(PIECES)[:1] + s[i + 1:]
        if how == 4 and s:
            return s[:rng.randrange(len(s))]
        if how == 5:
            return s + s
        if how == 6:
            return rng.choice([s.upper(), s.lower(), s.swapcase()])
        if how == 7:
            num = rng.choice(["0", "-1", "00", str(2 ** 31), str(2 ** 63), str(2 ** 128), "9" * 60, "\u0663",
                              "\uff11", "1.5", "", " 1"])
            return re.sub(r"[0-9]+", lambda m: num if rng.random() < 0.6 else m.group(0), s)
        if how == 8:
            return rng.choice(['"%s"' % s, " %s" % s, "%s " % s, "'%s'" % s, "%s\n" % s, '"%s' % s])
        if how == 9:
            lim = rng.choice([127, 128, 129, 255, 256, 257, 1023, 1024, 1025, 2047, 2048, 2049, 10000])
            return (s + "a" * lim)[:lim] if s else "a" * lim
        if how == 10:
            # base64 edits: alphabet, padding, one character
            t = s.replace("+", "-").replace("/", "_") if rng.random() < 0.5 else s.rstrip("=")
            return t + rng.choice(["", "=", "==", "A", "===="])
        if how == 11 and s:
            i = rng.randrange(len(s))
            c = s[i]
            return s[:i] + (chr(ord(c) ^ 1) if ord(c) < 0xd800 else "x") + s[i + 1:]
        if how == 12:
            return "\u0301".join(s) if len(s) < 3000 else s + "\u0301"
        if how == 13:
            # the last number only (an ARN's epoch, a shard id's index)
            runs = list(re.finditer(r"[0-9]+", s))
            if runs:
                m = runs[-1]
                return s[:m.start()] + rng.choice(["9" * 19, "9" * 20, str(2 ** 63), str(2 ** 63 - 1), str(2 ** 31),
                                                   "0" * 30, "9" * 400, "-1", ""]) + s[m.end():]
        return s[::-1]

    def text(self, name):
        """A text value for an argument or member called name."""
        rng = self.rng
        ctx = self.fx.ctx
        key = ctx_key(name)
        pool = ctx.get(key) or ctx["any"]
        r = rng.random()
        if self.fx.secret is not None and key == "shard_iterator" and r < 0.25:
            tok, note = self.fx.forged_iterator(rng)
            self.forged.append(note)
            return tok, note, True
        if self.fx.secret is not None and key == "next_token" and r < 0.3 and ctx.get("signed_token"):
            tok, note = self.fx.forged_token(rng)
            self.forged.append(note)
            return tok, note, True
        if r < 0.08:
            return None, None, False
        if r < 0.30:
            return self.choose(pool), None, False
        if r < 0.62:
            s = self.choose(pool) if rng.random() < 0.85 else rng.choice(ctx["any"])
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                s = self.mutate(s, key)
            return s, None, False
        if r < 0.95:
            s = rng.choice(PIECES)
            if rng.random() < 0.3:
                s = "".join(rng.choice(PIECES) for _ in range(rng.randint(2, 6)))
            return s, None, False
        if self.no_huge:
            return rng.choice(PIECES), None, False
        s, note = rng.choice(self.huge)
        return s, note, False

    def text_v(self, name, typ="text"):
        s, note, signed = self.text(name)
        v = sqlstr(s, typ, note)
        v.signed = signed
        return v

    # -- SQL values by type
    def plausible(self, name, t, depth=0):
        """A V for an argument of PgType t that is likely valid: a value of
        the fixture, a small number, a short interval."""
        rng = self.rng
        b = t.base()
        if b.category == "A" and b.elem is not None:
            items = [self.plausible(name, b.elem, depth + 1) for _ in range(rng.randint(1, 2))]
            return V("ARRAY[%s]::%s" % (", ".join(i.sql for i in items), t.name),
                     "ARRAY[%s]" % ", ".join(i.show() for i in items))
        if b.typtype == "c":
            vals = [self.plausible(an, at, depth + 1) for an, at in b.attrs]
            return V("ROW(%s)::%s" % (", ".join(v.sql for v in vals), t.name),
                     "ROW(%s)" % ", ".join(v.show() for v in vals))
        n = b.name
        key = ctx_key(name)
        if n in ("text", "character varying", "name", "character", "citext"):
            if key == "any" and "hash_key" not in (name or ""):
                pool = ["hx", "cons1", "alice"]
            else:
                pool = self.fx.ctx.get(key) or ["x"]
            if key == "hash_key" and "explicit" in (name or "") and rng.random() < 0.7:
                return V("NULL::%s" % t.name, "NULL")
            return sqlstr(self.choose(pool), t.name)
        if n in ("integer", "smallint", "bigint", "numeric"):
            return sqlstr(str(rng.choice([1, 2, 3, 5, 10, 24, 48, 100])), t.name)
        if n == "boolean":
            return sqlstr(rng.choice(BOOL_GOOD), t.name)
        if n.startswith("timestamp") or n == "date":
            return sqlstr(rng.choice(self.fx.ctx.get("timestamp") or ["now"]), t.name)
        if n == "interval":
            return sqlstr(rng.choice(["0", "10 milliseconds", "50 milliseconds"]), t.name)
        if n == "bytea":
            return V("'\\x%s'::%s" % (rng.choice([b"hello", b"{}", b"\x00"]).hex(), t.name))
        if n in ("jsonb", "json"):
            return sqlstr(json.dumps({"env": "hostile"}) if "tag" in (name or "") else "{}", t.name)
        if n == "uuid":
            return sqlstr(self.fx.keys["k1"][0], t.name)
        if n == "regrole":
            return sqlstr(self.choose(self.fx.ctx["role"]), t.name)
        return V("NULL::%s" % t.name, "NULL")

    def value(self, name, t, depth=0, hostile=True):
        """A V for an argument of PgType t: hostile, or (hostile False)
        plausible."""
        rng = self.rng
        if not hostile:
            return self.plausible(name, t, depth)
        b = t.base()
        if b.category == "A" and b.elem is not None:
            return self.array(name, t, b.elem, depth)
        if b.typtype == "c":
            return self.composite(name, t, depth)
        n = b.name
        if n in ("text", "character varying", "name", "character", "citext"):
            return self.text_v(name, t.name)
        if n == '"char"':
            return sqlstr(rng.choice(["I", "L", "C", "", "\u00e9", "x"]), t.name)
        if n in ("integer", "smallint"):
            return self.pick_num(t.name, INT_EXTREME, INT_GOOD, INT_BAD)
        if n == "bigint":
            return self.pick_num(t.name, BIGINT_EXTREME, BIGINT_GOOD, BIGINT_BAD)
        if n == "numeric":
            return self.pick_num(t.name, [0, -1, 2 ** 128, 2 ** 128 - 1, "1e100", "NaN"], ["1.5", "-0"], ["x"])
        if n == "boolean":
            return self.pick(t.name, BOOL_GOOD, BOOL_BAD)
        if n.startswith("timestamp") or n == "date":
            good = TS_GOOD + self.fx.ctx.get("timestamp", [])
            return self.pick(t.name, good, TS_BAD)
        if n == "interval":
            return self.pick(t.name, IV_GOOD, IV_BAD)
        if n == "bytea":
            return self.bytea(t.name)
        if n in ("jsonb", "json"):
            return self.jsonb(name, t.name)
        if n == "uuid":
            return self.pick(t.name, [self.fx.keys["k1"][0], "00000000-0000-0000-0000-000000000000"], ["x", ""])
        if n == "regrole":
            # roles that exist, OIDs (which regrole takes unchecked), and
            # names of no role, which regrole's input refuses
            s, _, _ = self.text("role")
            return self.pick(t.name, self.fx.ctx["role"] + ["-", "0", "1", "10", "4294967295", "99999",
                                                             "pg_read_all_data", '"kinesis_admin"'],
                             [s or "", "PUBLIC", "public", "nosuchrole", '"Kinesis_Admin"', "kinesis_admin "])
        # a type no generator knows: NULL, or a string it may refuse
        return self.pick(t.name, [], [rng.choice(PIECES)])

    def pick(self, typ, good, bad):
        rng = self.rng
        r = rng.random()
        if r < 0.1:
            return V("NULL::%s" % typ, "NULL")
        if r < 0.9 and good:
            return sqlstr(str(rng.choice(good)), typ)
        return sqlstr(str(rng.choice(bad or good)), typ)

    def pick_num(self, typ, extreme, good, bad):
        """A number: NULL, an extreme of the type (40 %), a value beside a
        limit, or a literal the type refuses (10 %)."""
        rng = self.rng
        r = rng.random()
        if r < 0.08:
            return V("NULL::%s" % typ, "NULL")
        if r < 0.48:
            return sqlstr(str(rng.choice(extreme)), typ)
        if r < 0.9:
            return sqlstr(str(rng.choice(good)), typ)
        return sqlstr(str(rng.choice(bad)), typ)

    def bytea(self, typ):
        rng = self.rng
        r = rng.random()
        if r < 0.1:
            return V("NULL::%s" % typ, "NULL")
        if r < 0.5:
            data = rng.choice([b"", b"x", b"\x00", b"\xff" * 3, "\u00e9\U0001f600".encode(), b"'\\;",
                               bytes(range(256))])
            return V("'\\x%s'::%s" % (data.hex(), typ))
        n = rng.choice([MIB - 1, MIB, MIB + 1, MIB - 256, 5 * MIB + 1, 1000, 65536])
        return V("convert_to(repeat('x', %d), 'UTF8')::%s" % (n, typ), "%d bytes" % n)

    def jsonb(self, name, typ):
        rng = self.rng
        r = rng.random()
        if r < 0.08:
            return V("NULL::%s" % typ, "NULL")
        if "tag" in (name or ""):
            val = self.tags_value()
        else:
            val = self.garbage(0)
        text = dump(val, rng.random() < 0.5)
        return V("%s::%s" % (lit(text), typ), short(text) + "::" + typ if len(text) > SHOW else None)

    def tags_value(self):
        rng = self.rng
        r = rng.random()
        if r < 0.15:
            return self.garbage(0)
        n = rng.choice([0, 1, 1, 2, 10, 11, 51])
        obj = Obj()
        saved = self.no_huge
        for i in range(n):
            self.no_huge = saved or i > 0
            k, _, _ = self.text("tag_key")
            v, _, _ = self.text("tag_value")
            if k is None or rng.random() < 0.3:
                k = "k%d" % i
            if v is None or rng.random() < 0.2:
                v = rng.choice([None, 1, True, [], {}, "v", "v" * 256, "v" * 257, "%"])
            obj.append((k, v))
        self.no_huge = saved
        return obj

    def garbage(self, depth):
        """A random JSON value with hostile leaves."""
        rng = self.rng
        r = rng.random()
        if depth > 3 or r < 0.45:
            return rng.choice([None, True, False, 0, -1, 1.5, 2 ** 31, 2 ** 63, 2 ** 128, -2 ** 128, 1e308, "",
                               rng.choice(PIECES), rng.choice(JSON_RAW), rng.choice(self.fx.ctx["any"])])
        if r < 0.6:
            return [self.garbage(depth + 1) for _ in range(rng.randint(0, 4))]
        if r < 0.95:
            return Obj((rng.choice(PIECES + ["StreamName", "x", ""]), self.garbage(depth + 1))
                       for _ in range(rng.randint(0, 4)))
        return Deep(rng.choice([100, 1000, 10000, 100000]), rng.choice("[{"))

    def array(self, name, t, elem, depth):
        rng = self.rng
        r = rng.random()
        if r < 0.08:
            return V("NULL::%s" % t.name, "NULL")
        if r < 0.14:
            return V("'{}'::%s" % t.name, "'{}'")
        if elem.base().typtype == "c":
            return self.composite_array(name, t, elem, depth)
        if r < 0.18:
            return sqlstr(rng.choice(["{{a,b},{c,d}}", "{{}}", "{a,{b}}", "{", "{NULL}", "{\"\"}", "[1:2]={a,b}",
                                      "{a,b", "{\\}"]), t.name)
        n = rng.choice([1, 1, 2, 3, 7, 10, 11, 50, 51, 200])
        if rng.random() < 0.03:
            n = 10000
        # at most one huge element, in a short list: the elements repeat
        saved = self.no_huge
        items = []
        for i in range(min(n, 60)):
            self.no_huge = saved or i > 0 or n > 11
            items.append(self.value(name, elem, depth + 1, rng.random() < 0.5))
        self.no_huge = saved
        while len(items) < n:
            items.append(items[len(items) % 60])
        sql = "ARRAY[%s]::%s" % (", ".join(i.sql for i in items), t.name)
        note = "ARRAY[%s%s] (%d)" % (", ".join(i.show() for i in items[:4]), ", ..." if n > 4 else "", n)
        return V(sql, short(note, 300), any(i.signed for i in items))

    def composite(self, name, t, depth):
        rng = self.rng
        b = t.base()
        if rng.random() < 0.08:
            return V("NULL::%s" % t.name, "NULL")
        hostile = [rng.random() < 0.5 for _ in b.attrs]
        if b.attrs and not any(hostile):
            hostile[rng.randrange(len(hostile))] = True
        vals = [self.value(an, at, depth + 1, h) for (an, at), h in zip(b.attrs, hostile)]
        if rng.random() < 0.04 and vals:
            vals = vals[:-1]        # a row of the wrong shape
        sql = "ROW(%s)::%s" % (", ".join(v.sql for v in vals), t.name)
        return V(sql, "ROW(%s)" % ", ".join(v.show() for v in vals), any(v.signed for v in vals))

    def composite_array(self, name, t, elem, depth):
        """Arrays of rows (put_records): the documented limits in numbers
        of entries and bytes, rows with hostile members, NULL entries."""
        rng = self.rng
        r = rng.random()
        b = elem.base()
        if r < 0.2:
            # many entries, built by the server
            n = rng.choice([499, 500, 501, 1000])
            cols = []
            for an, at in b.attrs:
                k = ctx_key(an)
                if at.base().name == "bytea":
                    cols.append("convert_to('e' || g, 'UTF8')")
                elif k == "partition_key":
                    cols.append("'pk' || g")
                else:
                    cols.append("NULL::%s" % at.name)
            sql = "ARRAY(SELECT ROW(%s)::%s FROM generate_series(1, %d) g)" % (", ".join(cols), elem.name, n)
            return V(sql, "%d generated entries" % n)
        if r < 0.3:
            # big entries: at and beyond 1 MiB each, 5 MiB in all
            n = rng.choice([1, 5, 6])
            size = rng.choice([MIB - 300, MIB, MIB + 1])
            cols = []
            for an, at in b.attrs:
                k = ctx_key(an)
                if at.base().name == "bytea":
                    cols.append("convert_to(repeat('z', %d), 'UTF8')" % size)
                elif k == "partition_key":
                    cols.append("'pk' || g")
                else:
                    cols.append("NULL::%s" % at.name)
            sql = "ARRAY(SELECT ROW(%s)::%s FROM generate_series(1, %d) g)" % (", ".join(cols), elem.name, n)
            return V(sql, "%d generated entries of %d bytes" % (n, size))
        if r < 0.34:
            row = self.composite(name, elem, depth + 1)
            return V("ARRAY[ARRAY[%s, %s]]::%s" % (row.sql, row.sql, t.name), "2-D array of " + row.show())
        n = rng.choice([1, 1, 2, 3, 5])
        rows = [self.composite(name, elem, depth + 1) for _ in range(n)]
        return V("ARRAY[%s]::%s" % (", ".join(v.sql for v in rows), t.name),
                 short("ARRAY[%s]" % ", ".join(v.show() for v in rows), 400), any(v.signed for v in rows))

    # -- kinesis.api() requests
    def api_valid(self, member, typ, element):
        """A plausible value of a member."""
        rng = self.rng
        ctx = self.fx.ctx
        key = ctx_key(camel_to_snake(member))
        if typ == "String":
            pool = ctx.get(key) or ["x"]
            return self.choose(pool)
        if typ in ("Integer", "Long"):
            return rng.choice([1, 2, 3, 24, 48, 100])
        if typ == "Boolean":
            return rng.choice([True, False])
        if typ == "Blob":
            return base64.b64encode(rng.choice([b"hello", b"", b"\x00\xff"])).decode()
        if typ == "Timestamp":
            return rng.choice([int(time.time()), time.time(), int(time.time()) - 3600])
        if typ == "List":
            if element:
                return [Obj((m, self.api_valid(m, t, e)) for m, t, e in element) for _ in range(rng.randint(1, 3))]
            pool = ctx.get(key) or ["x"]
            return rng.sample(pool, min(len(pool), rng.randint(1, 2)))
        if typ == "Map":
            return {"env": "hostile"}
        return {}

    def api_hostile(self, member, typ, element):
        """A hostile value of the member's own JSON type."""
        rng = self.rng
        if typ == "String":
            s, note, signed = self.text(camel_to_snake(member))
            return s
        if typ in ("Integer", "Long"):
            return rng.choice([0, -1, 1, 2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1, 2 ** 63, 2 ** 63 - 1,
                               -2 ** 63, 2 ** 128, -2 ** 128, 1.5, -0.5, 0.9999999, 1e308, -1e308, 10000, 10001,
                               8760, 8761, 23, 24, 25, 50, 51] + JSON_RAW[7:13])
        if typ == "Boolean":
            return rng.choice([True, False])
        if typ == "Blob":
            return rng.choice(["", "=", "==", "a", "ab", "abc", "abcd", "ab==", "ab=c", "a===", "aGk", "aGk=",
                               "aGl=", "aGk==", "aGk=\n", " aGk=", "aGk= ", "-_-_", "aGk\u00e9", "\U0001f600\U0001f600",
                               "\U0001f600abc", "aGk=aGk=", "////", "++++", "A" * (MIB + 4), "A" * (4 * MIB // 3 + 4),
                               base64.b64encode(b"x" * MIB).decode(), base64.b64encode(b"x" * (MIB + 1)).decode(),
                               Raw('"\\ud800AAA"'), Raw('"\\u0000AAA"'), Raw('"\\uffffAAA"')])
        if typ == "Timestamp":
            if rng.random() < 0.5:
                return rng.choice(TS_ISO_HOSTILE)
            return rng.choice([0, -1, 1e10, 1e20, -1e20, 9224318015999, 9224318016000, -210866803200,
                               -210866803201, 1.5, 2 ** 63, -2 ** 63, 2 ** 128] + JSON_RAW[7:10] + TS_ISO_HOSTILE)
        if typ == "List":
            r = rng.random()
            if element:
                if r < 0.15:
                    return []
                if r < 0.25:
                    return [None] + [Obj((m, self.api_valid(m, t, e)) for m, t, e in element)]
                if r < 0.35:
                    one = Obj((m, self.api_valid(m, t, e)) for m, t, e in element)
                    return [one] * rng.choice([500, 501])
                if r < 0.42:
                    one = Obj((m, base64.b64encode(b"y" * (MIB - 100)).decode() if t == "Blob"
                               else self.api_valid(m, t, e)) for m, t, e in element)
                    return [one] * rng.choice([5, 6])
                entries = []
                for _ in range(rng.randint(1, 3)):
                    ent = Obj((m, self.api_valid(m, t, e)) for m, t, e in element)
                    self.mutate_obj(ent, element)
                    entries.append(ent if rng.random() < 0.9 else self.wrong(rng.choice(["Structure", "String"])))
                return entries
            if r < 0.2:
                return []
            if r < 0.3:
                return [None, "x"]
            if r < 0.4:
                return ["x"] * rng.choice([11, 51, 1000])
            saved = self.no_huge
            out = []
            for i in range(rng.randint(1, 4)):
                self.no_huge = saved or i > 0
                out.append(self.api_hostile(member, "String", None) if rng.random() < 0.8 else self.wrong("String"))
            self.no_huge = saved
            return out
        if typ == "Map":
            return self.tags_value()
        return self.garbage(0)

    def wrong(self, typ):
        """A JSON value of another type than the AWS type typ."""
        rng = self.rng
        by_type = {
            "String": [1, 0, -1.5, True, False, [], ["x"], {}, Obj([("a", 1)]), 2 ** 128],
            "Integer": ["1", "", "abc", True, [], {}, [1], Obj([("x", 1)]), "2147483648"],
            "Boolean": ["true", "false", "", 1, 0, [], {}],
            "Blob": [1, True, [], {}, ["aGk="], Obj([("Data", "aGk=")])],
            "Timestamp": [True, False, [], {}, Obj([("t", 1)]), [1700000000]],
            "List": ["x", 1, True, {}, Obj([("a", [])]), Obj([("0", "x")])],
            "Map": ["x", 1, True, [], [["k", "v"]], [Obj([("Key", "k"), ("Value", "v")])]],
            "Structure": ["x", 1, True, [], [Obj([])]],
        }
        pool = by_type.get(typ, by_type["Structure"])
        if typ == "Long":
            pool = by_type["Integer"]
        if rng.random() < 0.1:
            return Deep(rng.choice([50, 1000, 20000]), rng.choice("[{"))
        if rng.random() < 0.1:
            return self.garbage(0)
        return rng.choice(pool)

    def mutate_obj(self, obj, members):
        """Mutates a request object (an Obj) in place: members of a wrong
        type, hostile values, removed, null, duplicated, extra."""
        rng = self.rng
        for _ in range(rng.choice([1, 1, 2, 3])):
            r = rng.random()
            if members and r < 0.25:
                m, t, e = rng.choice(members)
                self.set(obj, m, self.wrong(t))
            elif members and r < 0.65:
                m, t, e = rng.choice(members)
                self.set(obj, m, self.api_hostile(m, t, e))
            elif members and r < 0.73:
                m, t, e = rng.choice(members)
                obj[:] = [(k, v) for k, v in obj if k != m]
            elif members and r < 0.8:
                m, t, e = rng.choice(members)
                self.set(obj, m, None)
            elif members and r < 0.85:
                m, t, e = rng.choice(members)
                obj.insert(0, (m, self.wrong(t)))          # a duplicate, the valid one last
            else:
                key = rng.choice(PIECES + ["__type", "streamName", "STREAMNAME", "StreamName ", "Streamname",
                                           "x" * 1000, "", "Records", "Data", "Limit"])
                obj.append((key, self.garbage(0) if rng.random() < 0.8 else Deep(rng.choice([100, 10000]))))

    @staticmethod
    def set(obj, member, value):
        for i, (k, v) in enumerate(obj):
            if k == member:
                obj[i] = (k, value)
                return
        obj.append((member, value))

    def api_request(self, op):
        """(operation literal, request literal, note) for a call of op (None:
        an unknown operation)."""
        rng = self.rng
        if op is None:
            name = rng.choice(["", "putrecord", "PUTRECORD", "PutRecord ", " PutRecord", "Kinesis_20131202.PutRecord",
                               "SubscribeToShard", "DescribeStreamX", "Put\u0420ecord", "PutRecords\n",
                               "ListStreams;", "api", "UpdateStreamMode", "TagResource", "GetResourcePolicy",
                               rng.choice(PIECES), None, "x" * 100000])
            members = []
        else:
            name = op.name
            members = op.members
        body = Obj()
        for m, t, e in members:
            if rng.random() < 0.9:
                body.append((m, self.api_valid(m, t, e)))
        r = rng.random()
        if r < 0.07:
            body = rng.choice([[], "x", 1, None, True, Deep(rng.choice([200, 5000, 50000]), rng.choice("[{")),
                               [body], Raw('"\\ud800"')])
        elif r < 0.12:
            pass                    # a valid request now and then
        else:
            self.mutate_obj(body, members)
        text = dump(body, rng.random() < 0.5)
        op_v = sqlstr(name, "text")
        req_v = V("%s::jsonb" % lit(text), short(text, 400) if len(text) > 400 else text)
        return op_v, req_v


# ------------------------------------------------------------- runner


class Runner:
    """Runs the calls, classifies their outcomes, checks the state."""

    def __init__(self, conn, fx, seed, timeout_ms, error_names):
        self.conn = conn
        self.cur = conn.cursor()
        self.fx = fx
        self.seed = seed
        self.timeout_ms = timeout_ms
        self.error_names = error_names
        self.stats = {}             # target -> {outcome: n}
        self.seconds = {}           # target -> time spent in its calls
        self.slowest = {}           # target -> its slowest call
        self.verbose = env_num("KINESIS_HOSTILE_VERBOSE", 0, int) != 0
        self.signatures = {}        # (target, kind, state, message pattern) -> count
        self.before = None
        self.start_time = None
        self.calls = 0
        self.repairs = 0
        self.crashes = 0
        self.repair_notes = []
        self.table_serial = 0

    def count(self, target, outcome):
        d = self.stats.setdefault(target, {})
        d[outcome] = d.get(outcome, 0) + 1

    def violation(self, target, kind, state, message, args, extra=""):
        signed = " [signed forgery]" if any(getattr(a, "signed", False) for a in args) else ""
        pattern = re.sub(r"\d+", "N", re.sub(r"'[^']*'|\"[^\"]*\"", "'...'", message or ""))
        pattern = re.sub(r"\s+", " ", pattern)[:120]
        key = (target, kind + signed, state, pattern)
        n = self.signatures.get(key, 0) + 1
        self.signatures[key] = n
        if n <= EXAMPLES_PER_SIGNATURE:
            VIOLATIONS.add(kind + signed, "%s(%s): SQLSTATE %s: %s%s" % (
                target, ", ".join(a.show() for a in args), state, short(message, 400), extra))

    def postmaster_start(self):
        self.cur.execute("SELECT pg_postmaster_start_time(), pg_backend_pid()")
        r = self.cur.fetchone()
        self.conn.rollback()
        return r

    def refresh_digest(self):
        self.before = digest(self.cur)
        self.conn.rollback()

    # -- one call
    def run(self, target, fn_name, calls, args, setup=(), timeout_ms=None, api=False, prepare_check=True,
            is_trigger=False, commit_ok=True):
        """Runs setup and then the statements of calls in one transaction.
        Returns the outcome (also counted)."""
        t0 = time.monotonic()
        outcome = None
        try:
            outcome = self.run1(target, fn_name, calls, args, setup, timeout_ms, api, prepare_check, is_trigger,
                                commit_ok)
            return outcome
        finally:
            dt = time.monotonic() - t0
            self.seconds[target] = self.seconds.get(target, 0.0) + dt
            self.slowest[target] = max(self.slowest.get(target, 0.0), dt)
            if self.verbose:
                print("  call %s(%s) -> %s" % (target, ", ".join(a.show()[:160] for a in args), outcome))

    def run1(self, target, fn_name, calls, args, setup, timeout_ms, api, prepare_check, is_trigger, commit_ok):
        self.calls += 1
        cur = self.cur
        failed_sql = None
        try:
            cur.execute("SET LOCAL statement_timeout = %d" % (timeout_ms or self.timeout_ms))
            for s in setup:
                failed_sql = "setup: " + s
                cur.execute(s)
            result = None
            for s in calls:
                failed_sql = s
                cur.execute(s)
                result = cur.fetchall() if cur.description else None
            failed_sql = None
        except UnicodeDecodeError as e:
            # the server sent text that is not UTF-8: it made a string of
            # bytes it never validated
            self.violation(target, "invalid UTF-8 from the server", "-", "%s: %s" % (type(e).__name__, e), args)
            self.conn.rollback()
            self.check_unchanged(target, args, "after a result that could not be decoded")
            self.count(target, "VIOLATION invalid UTF-8")
            return "VIOLATION invalid UTF-8"
        except psycopg2.Error as e:
            if failed_sql is None or self.conn.closed or e.pgcode is None:
                return self.lost(target, args, e)
            state = e.pgcode
            message = e.diag.message_primary or str(e)
            try:
                self.conn.rollback()
            except psycopg2.Error as e2:
                return self.lost(target, args, e2)
            if failed_sql.startswith("setup: "):
                VIOLATIONS.add("harness", "%s: %s failed: %s %s" % (target, short(failed_sql, 300), state, message))
                self.count(target, "setup failed")
                return "setup failed"
            outcome = self.classify_error(target, fn_name, state, message, failed_sql, args, prepare_check,
                                          is_trigger)
            self.check_unchanged(target, args, "after the failed call (%s)" % state)
            self.count(target, outcome)
            return outcome
        # success
        outcome = "ok"
        if api:
            outcome = self.check_api_result(target, result, args)
        if outcome == "ok" and commit_ok and self.rng_commit():
            try:
                self.conn.commit()
            except psycopg2.Error as e:
                if self.conn.closed or e.pgcode is None:
                    return self.lost(target, args, e)
                # a deferred error at COMMIT is an outcome like any other
                self.conn.rollback()
                outcome = self.classify_error(target, fn_name, e.pgcode, e.diag.message_primary or str(e),
                                              None, args, False, is_trigger)
                self.check_unchanged(target, args, "after COMMIT failed")
                self.count(target, outcome)
                return outcome
            outcome = "ok, committed"
            self.after_commit()
        elif outcome.startswith("api:"):
            # an AWS error body: committed, as a gateway would; the call must
            # have left nothing behind
            self.conn.commit()
            self.check_unchanged(target, args, "after kinesis.api() returned an error body")
        else:
            self.conn.rollback()
            self.check_unchanged(target, args, "after the successful call was rolled back")
        self.count(target, outcome)
        return outcome

    def rng_commit(self):
        """Whether to commit a successful call: drawn from the call's own
        generator, so that a run limited by KINESIS_HOSTILE_ONLY repeats the
        same choices."""
        return self.call_rng.random() < COMMIT_SHARE

    def classify_error(self, target, fn_name, state, message, sql, args, prepare_check, is_trigger):
        if state.startswith("KN"):
            return state
        if state in SQL_LEVEL and prepare_check and sql is not None and self.fails_at_parse(sql, state):
            return "sql " + state
        for fn, st, pattern, _ in DOCUMENTED:
            if st == state and (fn == fn_name or (fn == "*trigger" and is_trigger)) \
                    and re.search(pattern, message, re.DOTALL):
                return "doc " + state
        if state in NEVER:
            kind = "internal error"
        elif state in SQL_LEVEL:
            kind = "error inside the extension"
        elif state == "57014":
            kind = "timeout"
        else:
            kind = "undocumented SQLSTATE"
        self.violation(target, kind, state, message, args)
        return "VIOLATION " + state

    def fails_at_parse(self, sql, state):
        """Whether PREPARE of sql (parse analysis only: no function runs)
        fails with state."""
        try:
            self.cur.execute("PREPARE hostile_probe AS " + sql)
        except psycopg2.Error as e:
            self.conn.rollback()
            return e.pgcode == state
        self.cur.execute("DEALLOCATE hostile_probe")     # prepared statements outlive transactions
        self.conn.rollback()
        return False

    def check_api_result(self, target, result, args):
        """The outcome of a kinesis.api() call that returned: "ok", or
        "api:<__type>" for an error body."""
        try:
            body = json.loads(result[0][0])
        except (TypeError, ValueError, IndexError) as e:
            self.violation(target, "api response", "-", "not JSON: %s (%r)" % (e, result), args)
            return "VIOLATION api response"
        if not isinstance(body, dict):
            self.violation(target, "api response", "-", "not a JSON object: %s" % short(json.dumps(body)), args)
            return "VIOLATION api response"
        if "__type" in body:
            t = body["__type"]
            if t not in self.error_names:
                self.violation(target, "api error body", "-", "unknown __type %r in %s" % (
                    t, short(json.dumps(body), 300)), args)
                return "VIOLATION api error body"
            msg = body.get("message", body.get("Message"))
            if msg is not None and not isinstance(msg, str):
                self.violation(target, "api error body", "-", "message is no string: %s" % short(json.dumps(body)),
                               args)
            return "api:" + t
        return "ok"

    def check_unchanged(self, target, args, when):
        now = digest(self.cur)
        self.conn.rollback()
        if now != self.before:
            self.violation(target, "state changed", "-", "%s: %s" % (when, digest_diff(self.before, now)), args)
            self.before = now

    def after_commit(self):
        """A committed call may have changed anything: repair the fixture."""
        self.fx.settle()
        did = self.fx.repair()
        if did:
            self.repairs += 1
            if len(self.repair_notes) < 10:
                self.repair_notes.append("; ".join(did))
        self.refresh_digest()

    def lost(self, target, args, e):
        """The connection broke during a call: a crash unless proven otherwise."""
        self.crashes += 1
        self.violation(target, "connection lost", getattr(e, "pgcode", None) or "-",
                       "%s: %s" % (type(e).__name__, str(e).strip()), args)
        self.count(target, "VIOLATION connection lost")
        self.reconnect(target)
        return "VIOLATION connection lost"

    def reconnect(self, target=None):
        """A new connection (waiting up to 2 minutes for a server that
        restarts), a check whether the server restarted, the fixture
        repaired and the digest taken again."""
        close_quietly(self.conn)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.conn = connect(autocommit=False, name=APP)
                break
            except psycopg2.Error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self.cur = self.conn.cursor()
        self.cur.execute("SET standard_conforming_strings = on")
        self.conn.commit()
        start, pid = self.postmaster_start()
        if start != self.server_start:
            VIOLATIONS.add("server restarted", "the server restarted%s (started %s, before %s)"
                           % (" during " + target if target else "", start, self.server_start))
            self.server_start = start
        self.fx.conn = self.conn
        self.fx.cur = self.conn.cursor()
        self.fx.repair()
        self.fx.refresh(force=True)
        self.refresh_digest()

    # -- targets
    def call_function(self, f, rng, gen):
        """One call of a public function with hostile arguments."""
        if f.rettype == "trigger":
            if rng.random() >= DIRECT_TRIGGER_SHARE:
                return self.fire_trigger(f, rng, gen)
        args = []
        sqlargs = []
        n = len(f.args)
        required = n - f.ndefaults
        named = all(a[0] for a in f.args) and rng.random() < 0.45
        if named:
            chosen = [i for i in range(n) if i < required or rng.random() < 0.75]
        else:
            chosen = list(range(rng.randint(required, n)))
        # some arguments hostile, the others plausible (so that the hostile
        # ones get past the validation of the rest)
        share = rng.choice([0.15, 0.35, 0.6, 1.0])
        hostile = [rng.random() < share for _ in chosen]
        if chosen and not any(hostile) and rng.random() < 0.9:
            hostile[rng.randrange(len(chosen))] = True
        vals = [gen.value(f.args[i][0], f.args[i][1], hostile=h) for i, h in zip(chosen, hostile)]
        if any(v.signed for v in vals):
            # a token forged with the real key: the rest plausible, optional
            # arguments left out (a NextToken excludes most of them)
            keep = [k for k, i in enumerate(chosen) if vals[k].signed or i < required or rng.random() < 0.2]
            if not named:
                keep = list(range(max(keep) + 1))
            chosen = [chosen[k] for k in keep]
            vals = [vals[k] if vals[k].signed else
                    (gen.plausible(f.args[chosen[j]][0], f.args[chosen[j]][1]) if chosen[j] < required or named
                     else V("NULL::%s" % f.args[chosen[j]][1].name, "NULL"))
                    for j, k in enumerate(keep)]
        for i, v in zip(chosen, vals):
            args.append(v)
            sqlargs.append("%s => %s" % (qi(f.args[i][0]), v.sql) if named else v.sql)
        if rng.random() < WRONG_SIGNATURE_SHARE:
            how = rng.randrange(4)
            if how == 0:
                v = V("'x'::text")
                sqlargs.append(v.sql if not named else '"no_such_argument" => %s' % v.sql)
                args.append(v)
            elif how == 1 and sqlargs:
                sqlargs.pop()
                args.pop()
            elif how == 2 and sqlargs:
                i = rng.randrange(len(sqlargs))
                v = V(rng.choice(["'1'::numeric", "'{}'::json", "'1'::bigint", "'x'::varchar(1)", "1.5",
                                  "'t'::boolean", "'1 s'::interval", "NULL"]))
                sqlargs[i] = ("%s => %s" % (qi(f.args[chosen[i]][0]), v.sql)) if named else v.sql
                args[i] = v
            elif how == 3 and named and sqlargs:
                sqlargs.append(sqlargs[0])
                args.append(args[0])
        if f.kind == "p":
            sql = "CALL kinesis.%s(%s)" % (qi(f.name), ", ".join(sqlargs))
        else:
            sql = "SELECT count(*), sum(length(r::text)) FROM kinesis.%s(%s) AS r" % (qi(f.name), ", ".join(sqlargs))
        waits = f.name.startswith("wait_")
        return self.run(f.target, f.name, [sql], args, timeout_ms=WAIT_TIMEOUT_MS if waits else None,
                        api=False, prepare_check=f.kind != "p", is_trigger=f.rettype == "trigger")

    def fire_trigger(self, f, rng, gen):
        """A trigger function fired by INSERT, UPDATE and DELETE on a scratch
        table, with hostile trigger arguments and row values."""
        self.table_serial += 1
        table = "%s.t%d" % (SCRATCH, self.table_serial)
        pk = rng.random() < 0.8
        cols = ['"id" integer%s' % (" PRIMARY KEY" if pk else ""), '"p k" text', '"\u00dcn\u00efc\u00f6de" text',
                '"payload" text']
        setup = ["CREATE TABLE %s (%s)" % (table, ", ".join(cols))]
        nargs = rng.choice([0, 1, 1, 1, 1, 2, 2, 2, 2, 3])
        targs = []
        shown = []
        for i in range(nargs):
            if i == 0 and rng.random() < 0.5:
                s = self.fx.names[rng.choice(["a", "a", "k", "u", "c", "d"])]
            elif i == 1 and rng.random() < 0.6:
                s = rng.choice(["id", "p k", "\u00dcn\u00efc\u00f6de", "payload", "missing", "ID", ""])
            else:
                s, _, _ = gen.text("stream_name" if i == 0 else "column")
                if s is None:
                    s = ""
                if len(s) > 5000:
                    s = s[:5000]
            targs.append(lit(s))
            shown.append(V(lit(s)))
        when = "AFTER" if rng.random() < 0.92 else "BEFORE"
        level = "ROW" if rng.random() < 0.92 else "STATEMENT"
        setup.append("CREATE TRIGGER hx AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH %s EXECUTE FUNCTION "
                     "kinesis.%s(%s)" % (table, level, qi(f.name), ", ".join(targs))
                     if when == "AFTER" else
                     "CREATE TRIGGER hx BEFORE INSERT OR UPDATE OR DELETE ON %s FOR EACH %s EXECUTE FUNCTION "
                     "kinesis.%s(%s)" % (table, level, qi(f.name), ", ".join(targs)))
        vals = []
        for _ in range(3):
            s, _, _ = gen.text("partition_key")
            vals.append(lit(s) if s is not None else "NULL")
        calls = ["INSERT INTO %s VALUES (1, %s, %s, %s)" % (table, vals[0], vals[1], vals[2]),
                 "UPDATE %s SET payload = %s, \"p k\" = NULL" % (table, vals[2]),
                 "DELETE FROM %s" % table]
        args = [V("%s %s trigger" % (when, level))] + shown + [V(v) for v in vals]
        return self.run(f.target, f.name, calls, args, setup=setup, prepare_check=False, is_trigger=True,
                        commit_ok=False)

    def call_api(self, op, gen):
        """One kinesis.api() call (op None: an unknown operation)."""
        op_v, req_v = gen.api_request(op)
        if gen.forged:
            req_v.signed = True
            req_v.note = "%s [%s]" % (req_v.show(), "; ".join(gen.forged))
        sql = "SELECT kinesis.api(%s, %s)::text" % (op_v.sql, req_v.sql)
        target = op.target if op is not None else "api:?"
        return self.run(target, "api", [sql], [op_v, req_v], api=True)


# ---------------------------------------------------------------- main

API_OPS = []


def main():
    scale, cfg = scale_config(SCALES)
    if cfg is None:
        return 1
    seed = seed_knob()
    rounds = env_num("KINESIS_HOSTILE_ROUNDS", cfg["rounds"], int)
    budget = env_num("KINESIS_HOSTILE_SECONDS", cfg["seconds"])
    timeout_ms = int(env_num("KINESIS_HOSTILE_TIMEOUT", 20) * 1000)
    signed = env_num("KINESIS_HOSTILE_SIGNED", 1, int) != 0
    only = [s.strip() for s in os.environ.get("KINESIS_HOSTILE_ONLY", "").split(",") if s.strip()]
    tag = "%x" % (os.getpid() % 0xffff)
    print("hostile sql: scale=%s seed=%s rounds=%d budget=%ds signed=%s%s"
          % (scale, seed, rounds, budget, signed, " only=%s" % ",".join(only) if only else ""), flush=True)
    t0 = time.monotonic()

    conn = connect(autocommit=False, name=APP)
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS kinesis CASCADE")
    cur.execute("SET standard_conforming_strings = on")
    cur.execute("DROP SCHEMA IF EXISTS %s CASCADE" % SCRATCH)
    cur.execute("CREATE SCHEMA %s" % SCRATCH)
    conn.commit()
    conn.autocommit = True
    worker = find_worker(cur) is not None
    conn.autocommit = False
    catalog = Catalog(cur)
    funcs = load_functions(cur, catalog)
    API_OPS[:] = load_api_ops(cur)
    cur.execute("SELECT exception FROM kinesis.error_codes()")
    error_names = {r[0] for r in cur.fetchall()}
    conn.commit()
    if not API_OPS:
        VIOLATIONS.add("harness", "found no operation in the source of kinesis.api()")
    for op in API_OPS:
        if not op.members and op.name != "DescribeLimits":
            VIOLATIONS.add("harness", "found no request member of %s in %s" % (op.name, op.handler))

    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "sql", "40_api.sql")
    if os.path.exists(src):
        with open(src, encoding="utf-8") as fh:
            in_source = set(re.findall(r"WHEN\s+'(\w+)'\s+THEN\s+response", fh.read()))
        installed = {op.name for op in API_OPS}
        if in_source != installed:
            print("note: the operations of the installed kinesis.api() differ from %s: installed only %s, "
                  "source only %s (is the current code installed?)"
                  % (src, sorted(installed - in_source), sorted(in_source - installed)))
    print("functions (%d): %s" % (len(funcs), ", ".join(f.target for f in funcs)), flush=True)
    print("api operations (%d): %s" % (len(API_OPS), ", ".join(
        "%s[%s]" % (op.name, " ".join("%s:%s" % (m, t) for m, t, e in op.members)) for op in API_OPS)), flush=True)
    print("maintenance: %s" % ("worker" if worker else "run_maintenance() by this script"), flush=True)

    fx = Fixture(conn, worker, tag, signed)
    huge = make_huge()
    runner = Runner(conn, fx, seed, timeout_ms, error_names)
    summary = ""
    try:
        fx.start()
        print("fixture: %s; keys %s (enabled), %s (disabled); built in %.1f s"
              % (", ".join("%s=%s" % (r, fx.names[r]) for r in ROLES), fx.keys["k1"][0], fx.keys["k2"][0],
                 time.monotonic() - t0), flush=True)
        runner.server_start, _ = runner.postmaster_start()
        runner.refresh_digest()
        targets = [("f", f) for f in funcs] + [("api", op) for op in API_OPS] + [("api", None)]
        if only:
            targets = [t for t in targets
                       if (t[0] == "f" and (t[1].name in only or t[1].target in only))
                       or (t[0] == "api" and (("api:" + t[1].name) if t[1] else "api:?") in only)]
        start = time.monotonic()
        done_rounds = 0
        for rnd in range(rounds):
            if time.monotonic() - start > budget:
                break
            order = list(targets)
            random.Random("%s-order-%d" % (seed, rnd)).shuffle(order)
            for kind, t in order:
                if rnd > 0 and time.monotonic() - start > budget:
                    break
                name = t.target if kind == "f" else (t.target if t else "api:?")
                rng = random.Random("%s:%d:%s" % (seed, rnd, name))
                if kind == "f" and t.name.startswith("wait_") and rng.random() > WAIT_WEIGHT and rnd > 0:
                    continue
                try:
                    fx.refresh()
                    gen = Gen(rng, fx, huge)
                    runner.call_rng = rng
                    if kind == "f":
                        runner.call_function(t, rng, gen)
                    else:
                        runner.call_api(t, gen)
                except Exception:
                    # the harness's own queries (digest, repair) failed: say
                    # so, start afresh, go on (a second failure there ends the run)
                    VIOLATIONS.add("harness", "%s, round %d: %s" % (name, rnd, traceback.format_exc().strip()))
                    runner.reconnect()
            done_rounds += 1
        elapsed = time.monotonic() - start
        print_stats(runner, targets)
        covered = {n for n, d in runner.stats.items() if d}
        missing = [n for n in ([t.target for k, t in targets if k == "f"]
                               + [(t.target if t else "api:?") for k, t in targets if k == "api"])
                   if n not in covered]
        for n in missing:
            VIOLATIONS.add("coverage", "%s was never called" % n)
        outcomes = {}
        for d in runner.stats.values():
            for o, c in d.items():
                outcomes[o.split(" ")[0] if o.startswith("VIOLATION") else o] = \
                    outcomes.get(o.split(" ")[0] if o.startswith("VIOLATION") else o, 0) + c
        nf = len([1 for k, t in targets if k == "f"])
        na = len([1 for k, t in targets if k == "api" and t is not None])
        nu = len([1 for k, t in targets if k == "api" and t is None])
        summary = ("%d calls of %d functions and %d api operations%s in %d rounds, %.1f s; "
                   "fixture repairs %d (%d fixture streams created in all); connections lost %d; outcomes: %s"
                   % (runner.calls, nf, na, " (+ unknown ones)" if nu else "", done_rounds, elapsed,
                      runner.repairs, fx.built, runner.crashes,
                      ", ".join("%s %d" % kv for kv in sorted(outcomes.items()))))
    except Exception:
        VIOLATIONS.add("harness", traceback.format_exc().strip())
        summary = "aborted after %d calls" % runner.calls
    finally:
        try:
            runner.conn.rollback()
            fx.conn = runner.conn
            fx.cur = runner.conn.cursor()
            fx.cleanup()
            runner.conn.autocommit = True
            runner.cur = runner.conn.cursor()
            runner.cur.execute("DROP SCHEMA IF EXISTS %s CASCADE" % SCRATCH)
        except Exception as e:
            print("warning: cleanup failed: %s" % e)
        close_quietly(runner.conn)
    appendix = ["distinct violations (target, kind, SQLSTATE, message pattern): count"]
    for (target, kind, state, pattern), n in sorted(runner.signatures.items(), key=lambda kv: (-kv[1], kv[0])):
        appendix.append("  %5d  %s  %s  %s  %s" % (n, target, kind, state, pattern))
    appendix.append("repro: KINESIS_STRESS_SEED=%s KINESIS_HOSTILE_ONLY=<target> python3 %s"
                    % (seed, os.path.basename(sys.argv[0])))
    return report("hostile sql", seed, summary, appendix if runner.signatures else ())


def print_stats(runner, targets):
    """Calls per target and outcome."""
    print("calls per target and outcome:")
    names = [t.target if k == "f" else (t.target if t else "api:?") for k, t in targets]
    for n in names:
        d = runner.stats.get(n, {})
        total = sum(d.values())
        print("  %-42s %5d  %s" % (n, total, ", ".join("%s %d" % kv for kv in sorted(d.items()))))
    slow = sorted(runner.seconds.items(), key=lambda kv: -kv[1])[:6]
    print("most time: %s" % ", ".join("%s %.1f s" % kv for kv in slow))
    slow = sorted(runner.slowest.items(), key=lambda kv: -kv[1])[:6]
    print("slowest calls: %s" % ", ".join("%s %.2f s" % kv for kv in slow))
    if runner.repair_notes:
        print("fixture repairs (first %d): %s" % (len(runner.repair_notes), " | ".join(runner.repair_notes)))


if __name__ == "__main__":
    sys.exit(main())
