#!/usr/bin/env bash
# The AWS CLI (Debian's awscli 2.x, /usr/bin/aws) against kinesis-gateway.
#
#   bash test/gateway/test_awscli.sh
#
# Environment: KGW_ENDPOINT, KGW_REGION, KGW_ACCOUNT, KGW_ADMIN_KEY/SECRET,
# KGW_PRODUCER_KEY/SECRET, KGW_BACKEND (see kgw_common.py); AWS_CLI overrides the
# binary (default /usr/bin/aws, else the first aws on PATH).
# Prints "ok N - ..." / "not ok N - ..." and ends with "N passed, N failed".

set -uo pipefail

ENDPOINT="${KGW_ENDPOINT:-http://127.0.0.1:4567}"
REGION="${KGW_REGION:-us-east-1}"
ACCOUNT="${KGW_ACCOUNT:-000000000000}"
BACKEND="${KGW_BACKEND:-gateway}"
if [ -n "${AWS_CLI:-}" ]; then
	AWS="$AWS_CLI"
elif [ -x /usr/bin/aws ]; then
	AWS=/usr/bin/aws
else
	AWS="$(command -v aws || true)"
fi

PASSED=0
FAILED=0
N=0
ok() { N=$((N + 1)); PASSED=$((PASSED + 1)); echo "ok $N - $1"; }
notok() {
	N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"
	if [ -n "${2:-}" ]; then printf '%s\n' "$2" | head -c 2000 | sed 's/^/#   /'; echo; fi
}
finish() {
	[ -n "${STREAM:-}" ] && cli kinesis delete-stream --stream-name "$STREAM" >/dev/null 2>&1
	rm -rf "$WORK"
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
	exit $?
}

WORK="$(mktemp -d /tmp/kgw-awscli.XXXXXX)"
if [ -z "$AWS" ] || ! "$AWS" --version >/dev/null 2>&1; then
	notok "aws CLI not found (install awscli)"
	finish
fi

# no user configuration, no pager, no metadata service, no writes to HOME
export HOME="$WORK/home"
mkdir -p "$HOME"
export AWS_CONFIG_FILE="$WORK/config" AWS_SHARED_CREDENTIALS_FILE="$WORK/credentials"
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_OUTPUT=json
export AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE
if [ "$BACKEND" = gateway ]; then
	export AWS_ACCESS_KEY_ID="${KGW_ADMIN_KEY:?KGW_ADMIN_KEY not set}"
	export AWS_SECRET_ACCESS_KEY="${KGW_ADMIN_SECRET:?KGW_ADMIN_SECRET not set}"
else
	export AWS_ACCESS_KEY_ID=AKIDKINESALITE AWS_SECRET_ACCESS_KEY=kinesalite
fi

VERSION="$("$AWS" --version 2>&1)"
echo "# $VERSION, endpoint $ENDPOINT, backend $BACKEND"
BINFMT=()
case "$VERSION" in
aws-cli/2*) BINFMT=(--cli-binary-format raw-in-base64-out) ;;
esac

cli() { "$AWS" --endpoint-url "$ENDPOINT" --region "$REGION" --output json "$@"; }
# has_error OUTPUT CODE OPERATION MESSAGE-PREFIX: the CLI's line for a service error
# ("An error occurred (CODE) when calling the OP operation[ (reached max retries: 0)]: MSG")
has_error() {
	printf '%s' "$1" | /usr/bin/python3 -c '
import re, sys
out, code, op, msg = sys.stdin.read(), sys.argv[1], sys.argv[2], sys.argv[3]
pat = r"An error occurred \(%s\) when calling the %s operation( \(reached max retries: \d+\))?: " % (re.escape(code), re.escape(op))
sys.exit(0 if re.search(pat + re.escape(msg), out) else 1)' "$2" "$3" "$4"
}
jqpy() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

STREAM="kgwcli_$$_$RANDOM"

# 1 create-stream
if out=$(cli kinesis create-stream --stream-name "$STREAM" --shard-count 2 2>&1); then
	ok "create-stream"
else
	notok "create-stream" "$out"
	finish
fi

# 2 wait stream-exists (the CLI polls every 10 s; the stream is ACTIVE at the first look)
if out=$(timeout 120 "$AWS" --endpoint-url "$ENDPOINT" --region "$REGION" kinesis wait stream-exists --stream-name "$STREAM" 2>&1); then
	ok "wait stream-exists"
else
	notok "wait stream-exists" "$out"
fi

# 3 describe-stream-summary
if out=$(cli kinesis describe-stream-summary --stream-name "$STREAM" 2>&1) &&
	got=$(printf '%s' "$out" | jqpy "d['StreamDescriptionSummary']['StreamStatus'], d['StreamDescriptionSummary']['OpenShardCount'], d['StreamDescriptionSummary']['StreamARN']") &&
	[ "$got" = "ACTIVE 2 arn:aws:kinesis:$REGION:$ACCOUNT:stream/$STREAM" ]; then
	ok "describe-stream-summary"
else
	notok "describe-stream-summary" "$out"
fi

# 4 list-streams
if out=$(cli kinesis list-streams 2>&1) && printf '%s' "$out" | jqpy "d['StreamNames']" | grep -q "'$STREAM'"; then
	ok "list-streams"
else
	notok "list-streams" "$out"
fi

# 5 list-shards
if out=$(cli kinesis list-shards --stream-name "$STREAM" 2>&1) &&
	got=$(printf '%s' "$out" | jqpy "' '.join(s['ShardId'] for s in d['Shards'])") &&
	[ "$got" = "shardId-000000000000 shardId-000000000001" ]; then
	ok "list-shards"
else
	notok "list-shards" "$out"
fi

# 6 put-record (raw data in, binary format raw-in-base64-out), to shard 0 by explicit hash key
SEQS=()
good=1
for i in 1 2 3; do
	if out=$(cli kinesis put-record --stream-name "$STREAM" --partition-key "pk$i" \
		--explicit-hash-key 0 --data "hello cli $i" "${BINFMT[@]}" 2>&1) &&
		s=$(printf '%s' "$out" | jqpy "d['SequenceNumber'] if d['ShardId']=='shardId-000000000000' else 'WRONGSHARD'") &&
		[[ "$s" =~ ^[0-9]{56}$ ]]; then
		SEQS+=("$s")
	else
		good=0
		break
	fi
done
if [ "$good" = 1 ]; then ok "put-record x3"; else notok "put-record" "$out"; fi

# 7 get-shard-iterator + get-records: the data comes back base64, in order
if out=$(cli kinesis get-shard-iterator --stream-name "$STREAM" --shard-id shardId-000000000000 \
	--shard-iterator-type TRIM_HORIZON 2>&1) &&
	IT=$(printf '%s' "$out" | jqpy "d['ShardIterator']"); then
	ok "get-shard-iterator TRIM_HORIZON"
else
	notok "get-shard-iterator TRIM_HORIZON" "$out"
	IT=""
fi
if [ -n "$IT" ] && out=$(cli kinesis get-records --shard-iterator "$IT" 2>&1) &&
	got=$(printf '%s' "$out" | jqpy "'|'.join(__import__('base64').b64decode(r['Data']).decode() + '@' + r['SequenceNumber'] for r in d['Records'])") &&
	[ "$got" = "hello cli 1@${SEQS[0]:-x}|hello cli 2@${SEQS[1]:-x}|hello cli 3@${SEQS[2]:-x}" ]; then
	ok "get-records"
else
	notok "get-records" "${out:-}"
fi

# 8 AT_SEQUENCE_NUMBER iterator, records after it, with --limit
if [ ${#SEQS[@]} -eq 3 ] && out=$(cli kinesis get-shard-iterator --stream-name "$STREAM" --shard-id shardId-000000000000 \
	--shard-iterator-type AFTER_SEQUENCE_NUMBER --starting-sequence-number "${SEQS[0]}" 2>&1) &&
	IT2=$(printf '%s' "$out" | jqpy "d['ShardIterator']") &&
	out=$(cli kinesis get-records --shard-iterator "$IT2" --limit 1 2>&1) &&
	got=$(printf '%s' "$out" | jqpy "[__import__('base64').b64decode(r['Data']).decode() for r in d['Records']], bool(d['NextShardIterator'])") &&
	[ "$got" = "['hello cli 2'] True" ]; then
	ok "get-records AFTER_SEQUENCE_NUMBER --limit 1"
else
	notok "get-records AFTER_SEQUENCE_NUMBER --limit 1" "${out:-}"
fi

# 9 put-records from a JSON file (raw data)
cat >"$WORK/records.json" <<EOF
[{"Data": "batch one", "PartitionKey": "a"}, {"Data": "batch two", "PartitionKey": "b"}]
EOF
if out=$(cli kinesis put-records --stream-name "$STREAM" --records "file://$WORK/records.json" "${BINFMT[@]}" 2>&1) &&
	got=$(printf '%s' "$out" | jqpy "d.get('FailedRecordCount', 0), len(d['Records'])") &&
	[ "$got" = "0 2" ]; then
	ok "put-records"
else
	notok "put-records" "$out"
fi

# 10 describe-stream with the CLI's automatic pagination (--page-size 1: one call per shard)
if out=$(cli kinesis describe-stream --stream-name "$STREAM" --page-size 1 2>&1) &&
	got=$(printf '%s' "$out" | jqpy "len(d['StreamDescription']['Shards'])") && [ "$got" = 2 ]; then
	ok "describe-stream --page-size 1 (paginated)"
else
	notok "describe-stream --page-size 1 (paginated)" "$out"
fi

# 11 add/list tags
if cli kinesis add-tags-to-stream --stream-name "$STREAM" --tags team=data,env=cli >/dev/null 2>&1 &&
	out=$(cli kinesis list-tags-for-stream --stream-name "$STREAM" 2>&1) &&
	got=$(printf '%s' "$out" | jqpy "sorted((t['Key'], t['Value']) for t in d['Tags'])") &&
	[ "$got" = "[('env', 'cli'), ('team', 'data')]" ]; then
	ok "add-tags-to-stream / list-tags-for-stream"
else
	notok "add-tags-to-stream / list-tags-for-stream" "${out:-}"
fi

# 12 error: describe a missing stream: exit status 254 (a service error) and AWS's message
MISSING="kgwcli_missing_$$"
out=$(cli kinesis describe-stream-summary --stream-name "$MISSING" 2>&1)
rc=$?
if [ "$rc" = 254 ] && has_error "$out" ResourceNotFoundException DescribeStreamSummary "Stream $MISSING under account $ACCOUNT not found."; then
	ok "error: ResourceNotFoundException, exit 254"
else
	notok "error: ResourceNotFoundException, exit 254 (got $rc)" "$out"
fi

# 13 error: validation
out=$(cli kinesis create-stream --stream-name 'bad name!' --shard-count 1 2>&1)
rc=$?
if [ "$rc" = 254 ] && has_error "$out" ValidationException CreateStream "1 validation error detected: Value 'bad name!' at 'streamName' failed to satisfy constraint"; then
	ok "error: ValidationException, exit 254"
else
	notok "error: ValidationException, exit 254 (got $rc)" "$out"
fi

if [ "$BACKEND" = gateway ]; then
	# 14 error: a wrong secret
	out=$(AWS_SECRET_ACCESS_KEY=wrong-secret cli kinesis list-streams 2>&1)
	rc=$?
	if [ "$rc" = 254 ] && has_error "$out" InvalidSignatureException ListStreams "The request signature we calculated does not match the signature you provided."; then
		ok "error: InvalidSignatureException with a wrong secret"
	else
		notok "error: InvalidSignatureException with a wrong secret (got $rc)" "$out"
	fi
	# 15 error: no credentials at all (--no-sign-request)
	out=$(cli --no-sign-request kinesis list-streams 2>&1)
	rc=$?
	if [ "$rc" = 254 ] && has_error "$out" MissingAuthenticationTokenException ListStreams "Missing Authentication Token"; then
		ok "error: MissingAuthenticationTokenException unsigned"
	else
		notok "error: MissingAuthenticationTokenException unsigned (got $rc)" "$out"
	fi
	# 16 the producer may not delete
	if [ -n "${KGW_PRODUCER_KEY:-}" ]; then
		out=$(AWS_ACCESS_KEY_ID="$KGW_PRODUCER_KEY" AWS_SECRET_ACCESS_KEY="$KGW_PRODUCER_SECRET" \
			cli kinesis delete-stream --stream-name "$STREAM" 2>&1)
		rc=$?
		if [ "$rc" = 254 ] && has_error "$out" AccessDeniedException DeleteStream "User: arn:aws:iam::$ACCOUNT:user/" &&
			printf '%s' "$out" | grep -qF "is not authorized to perform: kinesis:DeleteStream on resource: arn:aws:kinesis:$REGION:$ACCOUNT:stream/$STREAM"; then
			ok "error: AccessDeniedException for the producer's delete-stream"
		else
			notok "error: AccessDeniedException for the producer's delete-stream (got $rc)" "$out"
		fi
	fi
fi

# delete-stream and wait stream-not-exists
if out=$(cli kinesis delete-stream --stream-name "$STREAM" 2>&1); then
	ok "delete-stream"
else
	notok "delete-stream" "$out"
fi
if out=$(timeout 120 "$AWS" --endpoint-url "$ENDPOINT" --region "$REGION" kinesis wait stream-not-exists --stream-name "$STREAM" 2>&1); then
	ok "wait stream-not-exists"
	STREAM=""
else
	notok "wait stream-not-exists" "$out"
fi

finish
