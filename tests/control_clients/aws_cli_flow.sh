#!/usr/bin/env bash
# The AWS CLI against a running `portico serve` (its endpoint as the
# argument): create an API, read it back, see a missing one fail with
# NotFoundException, delete it. Prints OK at the end.
set -euo pipefail
ENDPOINT="$1"
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=us-east-1
aws() { command aws --endpoint-url "$ENDPOINT" --output json "$@"; }
ID=$(aws apigateway create-rest-api --name cli-built --query id --output text)
[ "$(aws apigateway get-rest-api --rest-api-id "$ID" --query name --output text)" = cli-built ]
if aws apigateway get-rest-api --rest-api-id missing123 2>"${TMPDIR:-/tmp}/cli-err.$$"; then
  echo "a missing API was found" >&2; exit 1
fi
grep -q NotFoundException "${TMPDIR:-/tmp}/cli-err.$$"; rm -f "${TMPDIR:-/tmp}/cli-err.$$"
aws apigateway delete-rest-api --rest-api-id "$ID"
echo OK
