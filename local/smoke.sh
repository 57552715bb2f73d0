#!/usr/bin/env bash
# local/smoke.sh - prove the local world with CLI tools only (no project code).
#   local/world.sh run -- local/smoke.sh
# Prints PASS/FAIL per check and "N passed, N failed"; exits non-zero on any failure.
# Needs: docker (client), aws (CLI v1 or v2), curl, python3 (JSON parsing), base64.

set -uo pipefail

for v in AWS_ENDPOINT_URL LOCAL_MOTO_URL LOCAL_FAULT_PROXY_URL LOCAL_REGISTRY_HOST LOCAL_REGISTRY_URL \
  LOCAL_REGISTRY_CA LOCAL_ACCOUNT_ID LOCAL_ACCOUNT_ID_2 LOCAL_REGION_2 DOCKER_HOST AWS_REGION LOCAL_WORLD_DIR; do
  if [[ -z ${!v:-} ]]; then
    echo "smoke: $v is not set; run me as: local/world.sh run -- local/smoke.sh" >&2
    exit 2
  fi
done
if ! command -v aws >/dev/null && [[ $(id -u) == 0 ]]; then
  echo "smoke: installing the aws CLI (Debian package awscli)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends awscli >&2 ||
    { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends awscli >&2; }
fi
command -v aws >/dev/null || { echo "smoke: the aws CLI is required (Debian: apt-get install awscli)" >&2; exit 2; }

T0=$(date +%s%3N)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smoke.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PASSED=0
FAILED=0
OUT="$WORK/out"
HOST="$LOCAL_REGISTRY_HOST"
REPO="smoke/app"
STACK="smoke-stack"
BUCKET="smoke-deploy-$RANDOM$RANDOM"
PROXY="$LOCAL_FAULT_PROXY_URL"

awsx() { aws --endpoint-url "$AWS_ENDPOINT_URL" --region "$AWS_REGION" --output json "$@"; }
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

# check <name> <command...>: PASS if the command exits 0; its output goes to $OUT
check() {
  local name=$1
  shift
  if "$@" >"$OUT" 2>&1; then
    PASSED=$((PASSED + 1))
    printf 'PASS  %s\n' "$name"
  else
    FAILED=$((FAILED + 1))
    printf 'FAIL  %s\n' "$name"
    sed 's/^/      | /' "$OUT" | tail -n 15
  fi
}

# ------------------------------------------------------------------ docker build

mkdir -p "$WORK/ctx"
echo "hello from the local world" >"$WORK/ctx/hello.txt"
cat >"$WORK/ctx/Dockerfile" <<'EOF'
FROM scratch
ARG VERSION=0
LABEL org.opencontainers.image.version=$VERSION smoke=yes
COPY hello.txt /hello.txt
EOF

t_build() {
  # the legacy builder prints a deprecation warning on stderr; that is not an error
  docker build --build-arg VERSION=1.2.3 -t smoke:local "$WORK/ctx" &&
    [[ $(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' smoke:local) == 1.2.3 ]]
}
check "docker build (FROM scratch, ARG/LABEL/COPY)" t_build

# ------------------------------------------------------------------ ECR (moto) + registry auth

t_repo() { awsx ecr create-repository --repository-name "$REPO" | grep -q repositoryUri; }
check "aws ecr create-repository (moto)" t_repo

t_token() {
  awsx ecr get-authorization-token >"$WORK/token.json" || return 1
  local tok endpoint
  tok=$(jq_py 'd["authorizationData"][0]["authorizationToken"]' <"$WORK/token.json")
  endpoint=$(jq_py 'd["authorizationData"][0]["proxyEndpoint"]' <"$WORK/token.json")
  printf '%s' "$tok" | base64 -d >"$WORK/token.txt" || return 1
  echo "proxyEndpoint=$endpoint user=$(cut -d: -f1 "$WORK/token.txt")"
  [[ $endpoint == "https://$HOST" && $(cut -d: -f1 "$WORK/token.txt") == AWS ]] &&
    cut -d: -f2- "$WORK/token.txt" >"$WORK/password"
}
check "aws ecr get-authorization-token -> AWS:<password>, proxyEndpoint = registry" t_token

t_push_no_login() {
  docker tag smoke:local "$HOST/$REPO:v1" || return 1
  ! docker push "$HOST/$REPO:v1"
}
check "docker push without login is refused" t_push_no_login

t_bad_login() { ! printf 'wrong-password' | docker login --username AWS --password-stdin "https://$HOST"; }
check "docker login with a wrong password is refused" t_bad_login

t_login() { docker login --username AWS --password-stdin "https://$HOST" <"$WORK/password"; }
check "docker login with the ECR token's password" t_login

t_push() {
  docker push "$HOST/$REPO:v1" | tee "$WORK/push.txt" || return 1
  grep -oE 'digest: sha256:[0-9a-f]{64}' "$WORK/push.txt" | head -1 | cut -d' ' -f2 >"$WORK/digest"
  [[ -s $WORK/digest ]]
}
check "docker push to $HOST" t_push
DIGEST=$(cat "$WORK/digest" 2>/dev/null || true)

t_catalog() {
  local auth
  auth="AWS:$(cat "$WORK/password")"
  [[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$LOCAL_REGISTRY_CA" "$LOCAL_REGISTRY_URL/v2/_catalog") == 401 ]] || return 1
  curl -sf --cacert "$LOCAL_REGISTRY_CA" -u "$auth" "$LOCAL_REGISTRY_URL/v2/_catalog" | tee /dev/stderr | grep -q "\"$REPO\""
}
check "registry /v2/_catalog (401 anonymous, lists $REPO with auth)" t_catalog

t_manifest() {
  local auth got
  auth="AWS:$(cat "$WORK/password")"
  curl -sf -D "$WORK/mh" -o "$WORK/manifest.json" --cacert "$LOCAL_REGISTRY_CA" -u "$auth" \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "$LOCAL_REGISTRY_URL/v2/$REPO/manifests/v1" || return 1
  got=$(tr -d '\r' <"$WORK/mh" | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')
  echo "push digest=$DIGEST manifest digest=$got"
  [[ -n $got && $got == "$DIGEST" ]] &&
    [[ $(curl -sf -o /dev/null -w '%{http_code}' --cacert "$LOCAL_REGISTRY_CA" -u "$auth" \
      -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
      "$LOCAL_REGISTRY_URL/v2/$REPO/manifests/$DIGEST") == 200 ]]
}
check "registry manifest digest = pushed digest" t_manifest

# ------------------------------------------------------------------ second account and region

HOST_B2="$LOCAL_ACCOUNT_ID_2.dkr.ecr.$LOCAL_REGION_2.amazonaws.com"

t_registries() {
  local host password
  for host in "$LOCAL_ACCOUNT_ID.dkr.ecr.$AWS_REGION.amazonaws.com" "$LOCAL_ACCOUNT_ID.dkr.ecr.$LOCAL_REGION_2.amazonaws.com" \
    "$LOCAL_ACCOUNT_ID_2.dkr.ecr.$AWS_REGION.amazonaws.com" "$HOST_B2"; do
    password="${host%%.*}-auth-token"
    echo "$host -> $(getent hosts "$host")"
    [[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$LOCAL_REGISTRY_CA" -u "AWS:$password" "https://$host/v2/") == 200 ]] || return 1
    [[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$LOCAL_REGISTRY_CA" -u "AWS:$LOCAL_ACCOUNT_ID_2-x" "https://$host/v2/") == 401 ]] || return 1
  done
}
check "four registries, each under its ECR name (TLS checked), each with its account's password" t_registries

t_assume_role() {
  awsx sts assume-role --role-arn "arn:aws:iam::$LOCAL_ACCOUNT_ID_2:role/smoke" --role-session-name smoke >"$WORK/role.json" || return 1
  AWS_ACCESS_KEY_ID=$(jq_py 'd["Credentials"]["AccessKeyId"]' <"$WORK/role.json") \
    AWS_SECRET_ACCESS_KEY=$(jq_py 'd["Credentials"]["SecretAccessKey"]' <"$WORK/role.json") \
    AWS_SESSION_TOKEN=$(jq_py 'd["Credentials"]["SessionToken"]' <"$WORK/role.json") \
    aws --endpoint-url "$AWS_ENDPOINT_URL" --region "$LOCAL_REGION_2" --output json ecr get-authorization-token >"$WORK/token-b.json" || return 1
  cat "$WORK/token-b.json"
  [[ $(jq_py 'd["authorizationData"][0]["proxyEndpoint"]' <"$WORK/token-b.json") == "https://$HOST_B2" ]] &&
    [[ $(jq_py 'd["authorizationData"][0]["authorizationToken"]' <"$WORK/token-b.json" | base64 -d) == "AWS:$LOCAL_ACCOUNT_ID_2-auth-token" ]]
}
check "sts assume-role into account B -> B's ECR token for $LOCAL_REGION_2" t_assume_role

t_push_b2() {
  printf '%s' "$LOCAL_ACCOUNT_ID_2-auth-token" | docker login --username AWS --password-stdin "$HOST_B2" &&
    docker tag smoke:local "$HOST_B2/$REPO:v1" && docker push "$HOST_B2/$REPO:v1"
}
check "docker push to account B's registry in $LOCAL_REGION_2 ($HOST_B2)" t_push_b2

# ------------------------------------------------------------------ S3 + CloudFormation change sets

cat >"$WORK/template.yaml" <<'EOF'
AWSTemplateFormatVersion: "2010-09-09"
Description: local world smoke stack
Parameters:
  ImageUri:
    Type: String
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: { Service: lambda.amazonaws.com }
            Action: sts:AssumeRole
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      PackageType: Image
      Code:
        ImageUri: !Ref ImageUri
      Role: !GetAtt Role.Arn
Outputs:
  ImageUri:
    Value: !Ref ImageUri
  FunctionArn:
    Value: !GetAtt Fn.Arn
EOF

t_s3() {
  awsx s3api create-bucket --bucket "$BUCKET" >/dev/null &&
    awsx s3api put-bucket-versioning --bucket "$BUCKET" --versioning-configuration Status=Enabled &&
    awsx s3api put-object --bucket "$BUCKET" --key "stacks/$STACK/template.yaml" --body "$WORK/template.yaml" >"$WORK/put.json" &&
    jq_py 'd["VersionId"]' <"$WORK/put.json" >"$WORK/version" &&
    awsx s3 cp "$WORK/template.yaml" "s3://$BUCKET/stacks/$STACK/copy.yaml" &&
    [[ $(awsx s3api get-bucket-versioning --bucket "$BUCKET" | jq_py 'd["Status"]') == Enabled ]]
}
check "aws s3: bucket, versioning, upload template" t_s3
TEMPLATE_URL="https://$BUCKET.s3.$AWS_REGION.amazonaws.com/stacks/$STACK/template.yaml?versionId=$(cat "$WORK/version" 2>/dev/null)"

deploy() { # deploy <CREATE|UPDATE> <change-set-name> <image-uri>
  local id status
  id=$(awsx cloudformation create-change-set --stack-name "$STACK" --change-set-name "$2" \
    --change-set-type "$1" --template-url "$TEMPLATE_URL" --capabilities CAPABILITY_IAM \
    --parameters "ParameterKey=ImageUri,ParameterValue=$3" | jq_py 'd["Id"]') || return 1
  awsx cloudformation wait change-set-create-complete --change-set-name "$id" || return 1
  awsx cloudformation describe-change-set --change-set-name "$id" >"$WORK/cs.json" || return 1
  echo "change set: $(jq_py '(d["Status"], d["ExecutionStatus"], [c["ResourceChange"]["Action"] + ":" + c["ResourceChange"]["LogicalResourceId"] for c in d["Changes"]])' <"$WORK/cs.json")"
  awsx cloudformation execute-change-set --change-set-name "$id" || return 1
  awsx cloudformation wait "stack-$(tr '[:upper:]' '[:lower:]' <<<"$1")-complete" --stack-name "$STACK" || return 1
  awsx cloudformation describe-stacks --stack-name "$STACK" >"$WORK/stack.json" || return 1
  status=$(jq_py 'd["Stacks"][0]["StackStatus"]' <"$WORK/stack.json")
  echo "stack: $status outputs: $(jq_py '{o["OutputKey"]: o["OutputValue"] for o in d["Stacks"][0].get("Outputs", [])}' <"$WORK/stack.json")"
  [[ $status == "$1_COMPLETE" ]] &&
    [[ $(jq_py '{o["OutputKey"]: o["OutputValue"] for o in d["Stacks"][0]["Outputs"]}["ImageUri"]' <"$WORK/stack.json") == "$3" ]] &&
    [[ $(jq_py '[p["ParameterValue"] for p in d["Stacks"][0]["Parameters"] if p["ParameterKey"] == "ImageUri"][0]' <"$WORK/stack.json") == "$3" ]]
}
check "cloudformation CREATE change set via TemplateURL -> Outputs" deploy CREATE smoke-create "$HOST/$REPO@$DIGEST"
check "cloudformation UPDATE change set (new image) -> Outputs/Parameters updated" deploy UPDATE smoke-update "$HOST/$REPO:v1"

t_events() {
  awsx cloudformation describe-stack-events --stack-name "$STACK" |
    jq_py '" ".join(e["ResourceStatus"] for e in d["StackEvents"])' | tee /dev/stderr | grep -q '^UPDATE_COMPLETE'
}
check "cloudformation describe-stack-events (newest first)" t_events

# ------------------------------------------------------------------ fault proxy

rule() { curl -sf -X POST -H 'content-type: application/json' -d "$1" "$PROXY/__faults/rules"; }

t_throttle_cli() {
  curl -sf -X DELETE "$PROXY/__faults" >/dev/null &&
    rule '{"operation":"DescribeStacks","error":"throttle","times":2}' >/dev/null &&
    awsx cloudformation describe-stacks --stack-name "$STACK" >/dev/null &&
    curl -sf "$PROXY/__faults/log" | tee "$WORK/log.json" >/dev/null &&
    [[ $(jq_py 'sum(1 for e in d if e["operation"] == "DescribeStacks" and e["rule"] is not None and e["status"] == 400)' <"$WORK/log.json") == 2 ]] &&
    [[ $(jq_py 'sum(1 for e in d if e["operation"] == "DescribeStacks" and e["rule"] is None and e["status"] == 200)' <"$WORK/log.json") == 1 ]]
}
check "fault proxy: DescribeStacks throttled twice, CLI retried and succeeded" t_throttle_cli

t_throttle_wire() {
  rule '{"operation":"DescribeStacks","error":"throttle","times":1}' >/dev/null &&
    curl -s -D "$WORK/h" -o "$WORK/b" -d "Action=DescribeStacks&Version=2010-05-15" \
      -H 'content-type: application/x-www-form-urlencoded' "$PROXY/" &&
    cat "$WORK/b" && echo &&
    head -1 "$WORK/h" | grep -q ' 400' && grep -q '<Code>Throttling</Code>' "$WORK/b" &&
    rule '{"operation":"GetAuthorizationToken","error":"throttle","times":1}' >/dev/null &&
    curl -s -D "$WORK/h" -o "$WORK/b" -d '{}' -H 'content-type: application/x-amz-json-1.1' \
      -H 'x-amz-target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken' "$PROXY/" &&
    cat "$WORK/b" && echo &&
    head -1 "$WORK/h" | grep -q ' 400' && grep -qi '^x-amzn-errortype: ThrottlingException' "$WORK/h" &&
    rule '{"operation":"PutObject","error":"throttle","times":1}' >/dev/null &&
    [[ $(curl -s -o "$WORK/b" -w '%{http_code}' -X PUT -H 'content-type: application/octet-stream' --data-binary x "$PROXY/$BUCKET/k") == 503 ]] &&
    grep -q '<Code>SlowDown</Code>' "$WORK/b"
}
check "fault proxy: throttle answers in query XML / JSON / S3 XML" t_throttle_wire

t_hold() {
  rule "{\"holdStatus\":{\"stackName\":\"$STACK\",\"status\":\"UPDATE_IN_PROGRESS\",\"seconds\":2}}" >/dev/null &&
    [[ $(awsx cloudformation describe-stacks --stack-name "$STACK" | jq_py 'd["Stacks"][0]["StackStatus"]') == UPDATE_IN_PROGRESS ]] &&
    sleep 2.2 &&
    [[ $(awsx cloudformation describe-stacks --stack-name "$STACK" | jq_py 'd["Stacks"][0]["StackStatus"]') == UPDATE_COMPLETE ]] &&
    [[ $(aws --endpoint-url "$LOCAL_MOTO_URL" --region "$AWS_REGION" cloudformation describe-stacks --stack-name "$STACK" \
      --query 'Stacks[0].StackStatus' --output text) == UPDATE_COMPLETE ]]
}
check "fault proxy: holdStatus shows UPDATE_IN_PROGRESS for 2 s, then the real status" t_hold

t_cleanup() {
  curl -sf -X DELETE "$PROXY/__faults" >/dev/null &&
    awsx cloudformation delete-stack --stack-name "$STACK" &&
    awsx cloudformation wait stack-delete-complete --stack-name "$STACK"
}
check "cloudformation delete-stack" t_cleanup

echo "smoke total: $(($(date +%s%3N) - T0)) ms"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
