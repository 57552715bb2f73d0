/**
 * Fail safe, proven through `run()`: every bad input is refused with one sentence that names the
 * input and the fix, before any `docker login`/`push` and before any AWS write; faults are retried
 * or undone; a failed deploy deletes nothing and its re-run succeeds.
 *
 * Proven elsewhere and not repeated here (see docs/RELIABILITY.md):
 * - the SDK retry configuration (adaptive, 8 attempts): __tests__/aws/clients.test.ts
 * - `docker push` refused once → login again, push again: __tests__/artifacts/registry-access.test.ts,
 *   __tests__/docker/docker.test.ts
 * - wait timeout → CancelUpdateStack: __tests__/aws/cloudformation/wait.test.ts ("deployStack: timeouts")
 * - a cancelled workflow (SIGINT/SIGTERM) → CancelUpdateStack: __tests__/base/session.test.ts
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, jest, test } from '@jest/globals'
import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand
} from '@aws-sdk/client-cloudformation'
import { GetBucketLocationCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { awsError } from '../__fixtures__/aws.js'
import { HOSTILE_ROWS, injectedCommands } from '../__fixtures__/untrusted.js'
import type { FakeDockerOptions } from '../__fixtures__/fake-docker.js'
import {
  ACCOUNT,
  BUCKET,
  BUILD_COMMANDS,
  BUILD_ID,
  CHANGE_SET_ID,
  CHANGE_SET_NAME,
  createdStack,
  IMAGE_URI,
  PREFLIGHT_READS,
  REGION,
  REGISTRY,
  STACK,
  STACK_ID,
  TEMPLATE,
  useHarness,
  WRITE_COMMANDS,
  type Harness
} from '../__fixtures__/fail-safe/harness.js'
import { FUNCTION_UPDATE, repositoryMissing } from '../__fixtures__/run-scenarios.js'
import { createAwsClients, MAX_ATTEMPTS } from '../src/aws/clients.js'
import { describeStack } from '../src/aws/cloudformation/wait.js'
import type { Dependencies } from '../src/main.js'

const h = useHarness()

/** How far a bad run may get: the docker commands it may have run before it was refused. */
const STAGES = {
  /** Refused by the input checks: no docker command, no AWS client even created. */
  inputs: [],
  /** Refused by the preflight reads (engine, account, bucket, stack), before the build. */
  preflight: ['version'],
  /** Refused after the build, on what the image or ECR says, before the login and the push. */
  image: BUILD_COMMANDS
} as const

interface BadInput {
  name: string
  stage: keyof typeof STAGES
  /** Inputs on top of the valid ones ('' = not given). */
  inputs?: Record<string, string>
  /** Environment changes (undefined deletes the variable). */
  env?: Record<string, string | undefined>
  /** How the fake docker behaves, or 'not installed': no docker on PATH at all. */
  docker?: FakeDockerOptions | 'not installed'
  /** Prepares the workspace or the AWS answers; gets the workspace root. */
  setup?: (ws: string, harness: Harness) => void
  /** Dependencies to use instead of the harness's. */
  deps?: () => Partial<Dependencies>
  /** The exact `::error::` sentence; gets the workspace root. */
  message: string | ((ws: string) => string)
}

/** Node's own words for a JSON syntax error (they differ between Node versions). */
function jsonReason(text: string): string {
  try {
    JSON.parse(text)
  } catch (error) {
    return (error as Error).message.split('\n')[0] ?? ''
  }
  throw new Error('valid JSON')
}

const BROKEN_JSON = `{
  "Parameters": { "CodeImageURI": { "Type": "String" } },
  "Resources": {
    "Fn": { "Type": "AWS::Lambda::Function" }
    "Oops": 1
  }
}
`
const BROKEN_YAML = `Parameters:
  CodeImageURI:
    Type: String
Resources:
  HelloFunction:
    Type: AWS::Lambda::Function
   Properties: {}
`
const HUGE_TEMPLATE = `${TEMPLATE}# ${'x'.repeat(1024 * 1024)}\n`
const TEMPLATE_NO_DEFAULT = TEMPLATE.replace('    Default: dev\n', '')
const LABEL_LINE =
  'LABEL io.sparta.ecr-name="<repository>" (or ARG SPARTA_ECR_LABEL_NAME then LABEL ${SPARTA_ECR_LABEL_NAME}="<repository>")'
const SPARTA_ARGS =
  'AWS_ACCOUNT_ID, AWS_REGION, SPARTA_BINARY, SPARTA_ECR_LABEL_NAME, SPARTA_BUILD_ID'
const STACK_NAME_RULE =
  "is not a valid CloudFormation stack name: start with a letter, use only letters, digits and '-', at most 128 characters."
const BUCKET_RULE =
  "is not a valid S3 bucket name: 3-63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit."
const TAG_RULE = "up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-'."

/** A directory with no `docker` in it, to stand for PATH on a machine without docker. */
let emptyDir = ''
beforeAll(() => {
  emptyDir = mkdtempSync(join(tmpdir(), 'no-docker-'))
})
afterAll(() => {
  rmSync(emptyDir, { recursive: true, force: true })
})

/** A label that the fake puts on the built image. */
function labelled(value: string): FakeDockerOptions {
  return { labels: { 'io.sparta.ecr-name': value } }
}

/** The clients as the action makes them, in an environment without any AWS credentials. */
function withoutCredentials(): Partial<Dependencies> {
  for (const name of Object.keys(process.env)) {
    if (
      /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|WEB_IDENTITY|ROLE_ARN|CONTAINER_)/.test(
        name
      )
    ) {
      delete process.env[name]
    }
  }
  Object.assign(process.env, {
    AWS_SHARED_CREDENTIALS_FILE: join(emptyDir, 'credentials'),
    AWS_CONFIG_FILE: join(emptyDir, 'config'),
    // No instance metadata service here: without this the SDK would try 169.254.169.254.
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9'
  })
  return { clients: (region) => createAwsClients(region, { env: {} }) }
}

/** The cases refused at `stage` (see STAGES), each marked with it. */
function atStage(stage: keyof typeof STAGES, cases: Array<Omit<BadInput, 'stage'>>): BadInput[] {
  return cases.map((c) => ({ ...c, stage }))
}

const BAD_INPUTS: BadInput[] = [
  ...atStage('inputs', [
    // Required inputs
    {
      name: 'dockerfile not given',
      inputs: { dockerfile: '' },
      message: "Input 'dockerfile' is required: give the path of the Dockerfile to build."
    },
    {
      name: 'bucket not given',
      inputs: { bucket: '' },
      message: "Input 'bucket' is required: name the S3 bucket the template is uploaded to."
    },
    {
      name: 'stack-name not given',
      inputs: { 'stack-name': '  ' },
      message: "Input 'stack-name' is required: name the CloudFormation stack to deploy."
    },
    {
      name: 'template not given',
      inputs: { template: '' },
      message:
        "Input 'template' is required: give the path of the CloudFormation template (JSON or YAML)."
    },
    // Files: not found, a directory, outside the checkout
    {
      name: 'dockerfile not found',
      inputs: { dockerfile: 'service/Dockerfile.prod' },
      message: (ws) =>
        `Input 'dockerfile': service/Dockerfile.prod does not exist (resolved to ${ws}/service/Dockerfile.prod); give a path relative to the repository root.`
    },
    {
      name: 'dockerfile is a directory',
      inputs: { dockerfile: 'service' },
      message: "Input 'dockerfile': service is a directory; give the path of a file."
    },
    {
      name: 'template not found',
      inputs: { template: 'deploy/template.yaml' },
      message: (ws) =>
        `Input 'template': deploy/template.yaml does not exist (resolved to ${ws}/deploy/template.yaml); give a path relative to the repository root.`
    },
    {
      name: 'template is a directory',
      inputs: { template: 'service' },
      message: "Input 'template': service is a directory; give the path of a file."
    },
    {
      name: 'binary not found',
      inputs: { binary: 'bin/bootstrap' },
      message: (ws) =>
        `Input 'binary': bin/bootstrap is not a file in the build context ${ws}/service; the path is relative to the context (it becomes SPARTA_BINARY).`
    },
    {
      name: 'binary is a directory',
      inputs: { binary: 'bin' },
      setup: (ws) => mkdirSync(join(ws, 'service/bin')),
      message: (ws) =>
        `Input 'binary': bin is not a file in the build context ${ws}/service; the path is relative to the context (it becomes SPARTA_BINARY).`
    },
    {
      name: 'binary outside the build context through ..',
      inputs: { binary: '../template.yaml' },
      message: (ws) =>
        `Input 'binary': ../template.yaml is outside the build context ${ws}/service; docker can only COPY files inside it.`
    },
    {
      name: 'parameter file not found',
      inputs: { 'parameter-overrides': 'params/prod.json' },
      message: (ws) =>
        `Input 'parameter-overrides': params/prod.json does not exist (resolved to ${ws}/params/prod.json); give a path relative to the repository root.`
    },
    {
      name: 'parameter file is a directory',
      inputs: { 'parameter-overrides': 'file://params' },
      setup: (ws) => mkdirSync(join(ws, 'params')),
      message: "Input 'parameter-overrides': params is a directory; give the path of a file."
    },
    {
      name: 'parameter file is not JSON',
      inputs: { 'parameter-overrides': 'params/prod.json' },
      setup: (_ws, harness) => harness.write('params/prod.json', '{"Stage": "prod",}'),
      message: `Input 'parameter-overrides': params/prod.json is not valid JSON (${jsonReason('{"Stage": "prod",}')}).`
    },
    {
      name: 'context outside the repository through a .. symlink',
      inputs: { context: 'service/up' },
      setup: (ws) => symlinkSync('../..', join(ws, 'service/up')),
      message: (ws) =>
        `Input 'context' (service/up) resolves to ${realpathSync(dirname(ws))}, outside the repository ${realpathSync(ws)}: keep the build context inside the checkout.`
    },
    {
      name: 'context outside the repository through ..',
      inputs: { context: '..' },
      message: (ws) =>
        `Input 'context' (..) resolves to ${realpathSync(dirname(ws))}, outside the repository ${realpathSync(ws)}: keep the build context inside the checkout.`
    },
    {
      name: 'context is a file',
      inputs: { context: 'service/Dockerfile' },
      message:
        "Input 'context': service/Dockerfile is not a directory; give the build context directory (default: the Dockerfile's directory)."
    },
    // The template
    {
      name: 'template is not valid JSON (line and column)',
      inputs: { template: 'template.json', 'parameter-overrides': '' },
      setup: (_ws, harness) => harness.write('template.json', BROKEN_JSON),
      message: (ws) =>
        `Input 'template': ${ws}/template.json is not valid JSON at line 5, column 5 (${jsonReason(BROKEN_JSON)}): fix the syntax.`
    },
    {
      name: 'template is not valid YAML (line and column)',
      inputs: { 'parameter-overrides': '' },
      setup: (_ws, harness) => harness.write('template.yaml', BROKEN_YAML),
      message: (ws) =>
        `Input 'template': ${ws}/template.yaml is not valid YAML at line 7, column 1 (All mapping items must start at the same column): fix the syntax.`
    },
    {
      name: 'template uses an unknown short-form tag',
      setup: (_ws, harness) =>
        harness.write('template.yaml', TEMPLATE.replace('!GetAtt', '!GetAttr')),
      message: (ws) =>
        `Input 'template': ${ws}/template.yaml is not valid YAML at line 29, column 13 (Unresolved tag: !GetAttr): fix the syntax.`
    },
    {
      name: 'template over 1 MB',
      setup: (_ws, harness) => harness.write('template.yaml', HUGE_TEMPLATE),
      message: (ws) =>
        `Input 'template': ${ws}/template.yaml is ${Buffer.byteLength(HUGE_TEMPLATE)} bytes, over CloudFormation's 1000000-byte limit: split it into nested stacks or remove unused parts.`
    },
    {
      name: 'template without the image parameter',
      inputs: { 'image-parameter': 'ImageUri' },
      message:
        "Input 'image-parameter': the template template.yaml declares no parameter 'ImageUri' to receive the image URI: add it under Parameters (Type: String), or set 'image-parameter' to the parameter your function's ImageUri refers to."
    },
    // KEY=VALUE inputs
    {
      name: 'override naming an undeclared parameter',
      inputs: { 'parameter-overrides': 'DbPassword=x\nStaeg=prod' },
      message:
        "Input 'parameter-overrides' sets 'Staeg', which the template does not declare (declared: CodeImageURI, Stage, DbPassword): fix the name or declare it."
    },
    {
      name: 'override of the image parameter',
      inputs: { 'parameter-overrides': 'DbPassword=x\nCodeImageURI=nginx:latest' },
      message:
        "Input 'parameter-overrides' sets 'CodeImageURI', the image parameter the action fills with the pushed image URI: remove it."
    },
    {
      name: "tags line without '='",
      inputs: { tags: 'team=platform\nowner' },
      message: `Input 'tags' line 2 ("owner") has no '=': write one KEY=VALUE per line.`
    },
    {
      name: 'parameter-overrides line with an empty key',
      inputs: { 'parameter-overrides': 'DbPassword=x\n =prod' },
      message:
        "Input 'parameter-overrides' line 2 has an empty key before '=': write one KEY=VALUE per line."
    },
    {
      name: 'parameter-overrides with a duplicate key',
      inputs: { 'parameter-overrides': 'Stage=dev\nDbPassword=x\nStage=prod' },
      message: "Input 'parameter-overrides' sets 'Stage' twice (lines 1 and 3): keep one of them."
    },
    {
      name: 'multi-line build-arg value (a continuation line without =)',
      inputs: { 'build-args': 'GREETING=hello\n  world' },
      message: `Input 'build-args' line 2 ("world") has no '=': write one KEY=VALUE per line.`
    },
    {
      name: 'multi-line build-arg value whose continuation holds =',
      inputs: { 'build-args': 'JAVA_OPTS=-Xmx1g\n  -Dlog.level=debug' },
      message:
        "Input 'build-args' line 2: '-Dlog.level' is not a build arg name (letters, digits, '_'); a value cannot continue on the next line: put each KEY=VALUE on one line."
    },
    {
      name: "build-arg setting one of Sparta's own",
      inputs: { 'build-args': 'SPARTA_BINARY=other' },
      message: `Input 'build-args' sets SPARTA_BINARY, which the action sets itself (${SPARTA_ARGS}): remove that line.`
    },
    {
      name: "stack tag starting with 'aws:'",
      inputs: { tags: 'aws:owner=me' },
      message:
        "Input 'tags' line 1: tag 'aws:owner' is not allowed: keys are 1-128 characters not starting with 'aws:', values at most 256."
    },
    // Names
    {
      name: 'stack name over 128 characters',
      inputs: { 'stack-name': `s${'1'.repeat(128)}` },
      message: `Input 'stack-name' ('s${'1'.repeat(128)}') ${STACK_NAME_RULE}`
    },
    {
      name: 'stack name with an underscore',
      inputs: { 'stack-name': 'hello_service' },
      message: `Input 'stack-name' ('hello_service') ${STACK_NAME_RULE}`
    },
    {
      name: 'stack name starting with a digit',
      inputs: { 'stack-name': '1hello' },
      message: `Input 'stack-name' ('1hello') ${STACK_NAME_RULE}`
    },
    {
      name: 'stack name made invalid by stack-name-suffix',
      inputs: { 'stack-name-suffix': 'pr/42' },
      message: `Input 'stack-name' with 'stack-name-suffix' ('${STACK}-pr/42') ${STACK_NAME_RULE}`
    },
    {
      name: 'bucket name with upper case and an underscore',
      inputs: { bucket: 'Artifacts_Bucket' },
      message: `Input 'bucket' ('Artifacts_Bucket') ${BUCKET_RULE}`
    },
    {
      name: 'bucket name of two characters',
      inputs: { bucket: 'ab' },
      message: `Input 'bucket' ('ab') ${BUCKET_RULE}`
    },
    {
      name: 'unknown capability',
      inputs: { capabilities: 'CAPABILITY_IAM, CAPABILITY_ROOT' },
      message:
        "Input 'capabilities' has unknown capability 'CAPABILITY_ROOT': use CAPABILITY_IAM, CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND."
    },
    {
      name: 'invalid region',
      inputs: { region: 'eu-west' },
      message:
        "Input 'region' ('eu-west') is not an AWS region name such as us-east-1 or eu-west-2."
    },
    {
      name: 'no region anywhere',
      inputs: { region: '' },
      env: { AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined },
      message:
        "No AWS region: set input 'region', or set aws-region in aws-actions/configure-aws-credentials (AWS_REGION)."
    },
    {
      name: 'non-numeric timeout-minutes',
      inputs: { 'timeout-minutes': 'ten' },
      message: "Input 'timeout-minutes' must be a whole number between 1 and 355, got 'ten'."
    },
    {
      name: 'zero timeout-minutes',
      inputs: { 'timeout-minutes': '0' },
      message: "Input 'timeout-minutes' must be a whole number between 1 and 355, got '0'."
    },
    {
      name: 'timeout-minutes beyond the 6-hour job limit',
      inputs: { 'timeout-minutes': '400' },
      message: "Input 'timeout-minutes' must be a whole number between 1 and 355, got '400'."
    },
    {
      name: 'build id that sanitises to nothing',
      inputs: { 'build-id': '-/.' },
      message:
        "Input 'build-id' ('-/.') has no letters or digits to make a docker tag from: use e.g. the commit SHA."
    },
    {
      name: 'no build id and no GITHUB_SHA',
      env: { GITHUB_SHA: undefined },
      message:
        "Input 'build-id' is empty and GITHUB_SHA is not set: give a build id such as the commit SHA."
    },
    {
      name: 'dockerfile together with code-archive',
      inputs: { 'code-archive': 'function.zip' },
      message:
        "Inputs 'dockerfile' and 'code-archive' are both set: an image is built from a Dockerfile, a zip package is uploaded as it is; give only one of them (Sparta likewise refuses ZIP archive hooks with a dockerFile)."
    },
    {
      name: 'label-name that is not a label key',
      inputs: { 'label-name': 'io sparta' },
      message:
        "Input 'label-name' ('io sparta') is not a valid label key: use letters, digits, '.', '-', '_' and '/', e.g. io.sparta.ecr-name."
    },
    {
      name: 'unknown mode',
      inputs: { mode: 'ship' },
      message: "Input 'mode' must be one of deploy, review, noop, delete, got 'ship'."
    },
    {
      name: 'flag that is not true or false',
      inputs: { 'create-repository': 'yes' },
      message: "Input 'create-repository' must be true or false, got 'yes'."
    },
    {
      name: 'image tag that is not a docker tag',
      inputs: { 'image-tags': 'v1.2, -latest' },
      message: `Input 'image-tags' has '-latest', which is not a docker tag: ${TAG_RULE}`
    },
    {
      name: 'role-arn that is not an IAM role ARN',
      inputs: { 'role-arn': 'cfn-deploy' },
      message:
        "Input 'role-arn' ('cfn-deploy') is not an IAM role ARN such as arn:aws:iam::123456789012:role/cfn-deploy."
    },
    // Untrusted text (issue 21): control characters refused, secrets and long values never echoed
    {
      name: 'target with a line break and a workflow command',
      inputs: { target: 'app\n::warning::PWNED' },
      message:
        "Input 'target' contains the control character U+000A (line feed) at position 4: give it on one line, without control characters."
    },
    {
      name: 'stack-name carrying ::stop-commands:: after a CR',
      inputs: { 'stack-name': 'hello\r::stop-commands::token' },
      message:
        "Input 'stack-name' contains the control character U+000D (carriage return) at position 6: give it on one line, without control characters."
    },
    {
      name: 'platform with a line break',
      inputs: { platform: 'linux/amd64\n::error::PWNED' },
      message:
        "Input 'platform' contains the control character U+000A (line feed) at position 12: give it on one line, without control characters."
    },
    {
      name: 'cache-from item with an escape character',
      inputs: { 'cache-from': 'type=registry\u001b[2K' },
      message:
        "Input 'cache-from' line 1 contains the control character U+001B (escape): remove it, one item or KEY=VALUE per line."
    },
    {
      name: 'build-args value with a lone CR',
      inputs: { 'build-args': 'TITLE=fix\r::warning::PWNED' },
      message:
        "Input 'build-args' line 1 contains a carriage return (U+000D) that does not end the line (only LF or CRLF line ends are read): remove it, one item or KEY=VALUE per line."
    },
    {
      name: 'parameter-overrides value with a lone CR',
      inputs: { 'parameter-overrides': 'Stage=dev\r::warning::PWNED' },
      message:
        "Input 'parameter-overrides' line 1 contains a carriage return (U+000D) that does not end the line (only LF or CRLF line ends are read): remove it, one item or KEY=VALUE per line."
    },
    {
      name: 'parameter file value with a lone CR',
      setup: (ws) => {
        mkdirSync(join(ws, 'params'), { recursive: true })
        writeFileSync(join(ws, 'params/p.json'), JSON.stringify({ Stage: 'dev\r::warning::PWNED' }))
      },
      inputs: { 'parameter-overrides': 'params/p.json' },
      message:
        "Input 'parameter-overrides': params/p.json gives 'Stage' a value with a carriage return (U+000D) that does not end a line: use LF or CRLF line ends."
    },
    {
      name: 'malformed http-proxy with a password',
      inputs: { 'http-proxy': 'http://deploy:hunter2 @proxy:3128' },
      message:
        "Input 'http-proxy' ('http://***@proxy:3128') must be a URL such as http://proxy.example.com:3128."
    },
    {
      name: 'a 100,000-character input',
      inputs: { 'build-cache': 'x'.repeat(100_000) },
      message: `Input 'build-cache' must be one of auto, registry, inline, off, got '${'x'.repeat(200)}…'.`
    },
    {
      name: 'http-proxy without a scheme',
      inputs: { 'http-proxy': 'proxy:3128' },
      message:
        "Input 'http-proxy' ('proxy:3128') must be a URL such as http://proxy.example.com:3128."
    },
    // Release inputs: image, repository, regions, a bucket per region
    {
      name: 'image together with dockerfile',
      inputs: { image: `${REGISTRY}/hello-service@sha256:${'a'.repeat(64)}` },
      message:
        "Inputs 'image' and 'dockerfile' are both set: 'image' deploys an image that is already in ECR, 'dockerfile' builds a new one; give only one of them."
    },
    {
      name: 'image outside a private ECR registry',
      inputs: { dockerfile: '', binary: '', image: 'ghcr.io/acme/hello:v1' },
      message:
        "Input 'image' ('ghcr.io/acme/hello:v1') is not an image in a private ECR registry: give <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits> (the 'image-uri-pinned' output of an earlier run) or <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>."
    },
    {
      name: 'image together with a build input',
      inputs: { dockerfile: '', image: `${REGISTRY}/hello-service:v1` },
      message:
        "Input 'binary' shapes a build, and with 'image' nothing is built (the image's architecture is read from the registry): remove 'binary'."
    },
    {
      name: 'repository without image',
      inputs: { repository: 'hello-prod' },
      message:
        "Input 'repository' names the target repository of a promoted 'image'; a built image goes to the repository its label names: remove 'repository', or set 'image'."
    },
    {
      name: 'regions listing a region twice',
      inputs: { region: '', regions: 'eu-west-2, us-east-1, eu-west-2', bucket: 'a-{region}' },
      message: "Input 'regions' lists eu-west-2 twice: list each region once."
    },
    {
      name: 'regions with one bucket for all of them',
      inputs: { region: '', regions: 'eu-west-2, us-east-1' },
      message: `Input 'bucket' ('${BUCKET}') names one bucket, but 'regions' lists 2 regions and a bucket is in one region (CloudFormation reads the template from the stack's region): put {region} in the name, e.g. '${BUCKET}-{region}', with one bucket per region.`
    },
    {
      name: 'region that is not one of regions',
      inputs: { regions: 'us-east-1, us-west-2', bucket: 'a-{region}' },
      message: `Input 'region' (${REGION}) is not one of 'regions' (us-east-1, us-west-2): leave 'region' empty or list it in 'regions'; the first listed region is where the image is built and pushed.`
    }
  ]),
  ...atStage('preflight', [
    // The engine and the AWS reads before the build
    {
      name: 'docker not installed (PATH without docker)',
      docker: 'not installed',
      message:
        "'docker' is not installed or not on PATH: this action needs the docker CLI and a running Docker engine (GitHub's ubuntu runners have both)."
    },
    {
      name: 'Docker daemon not running',
      docker: { noDaemon: true },
      message:
        'The Docker engine is not running or not reachable (docker version: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?): start the daemon, or check DOCKER_HOST.'
    },
    {
      name: 'no AWS credentials',
      deps: withoutCredentials,
      message:
        'No AWS credentials: add aws-actions/configure-aws-credentials before this step (Could not load credentials from any providers).'
    },
    {
      name: 'bucket that does not exist',
      setup: (_ws, harness) =>
        harness.s3
          .on(GetBucketLocationCommand)
          .rejects(awsError('NoSuchBucket', 'The specified bucket does not exist')),
      message: `Input 'bucket': S3 bucket '${BUCKET}' does not exist: create it in ${REGION}, or fix the name.`
    },
    {
      name: 'bucket in another region',
      setup: (_ws, harness) =>
        harness.s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'us-west-2' }),
      message: `Input 'bucket': S3 bucket '${BUCKET}' is in us-west-2, but the stack deploys to ${REGION}; CloudFormation needs the template in the same region: use a bucket in ${REGION}, or set 'region' to us-west-2.`
    },
    {
      name: 'bucket the credentials may not read',
      setup: (_ws, harness) =>
        harness.s3.on(GetBucketLocationCommand).rejects(awsError('AccessDenied', 'Access Denied')),
      message: `Input 'bucket': no access to S3 bucket '${BUCKET}' (s3:GetBucketLocation denied): check the bucket name and the role's S3 permissions.`
    },
    {
      name: 'stack in UPDATE_ROLLBACK_FAILED (continue-update-rollback first)',
      setup: (_ws, harness) =>
        harness.cfn
          .on(DescribeStacksCommand, { StackName: STACK })
          .resolves({ Stacks: [createdStack({ StackStatus: 'UPDATE_ROLLBACK_FAILED' })] }),
      message: `Stack ${STACK} is in UPDATE_ROLLBACK_FAILED and cannot be updated. The stack is stuck in UPDATE_ROLLBACK_FAILED: fix the resources that could not be rolled back (its stack events name them), then run \`aws cloudformation continue-update-rollback --stack-name <stack>\` (optionally with --resources-to-skip) before deploying again.`
    },
    {
      name: 'required template parameter without a value',
      inputs: { 'parameter-overrides': 'Stage=prod' },
      message:
        "Template parameters DbPassword have no Default and no value: give them in 'parameter-overrides' (KEY=VALUE lines)."
    },
    {
      name: 'two required template parameters without a value',
      inputs: { 'parameter-overrides': '' },
      setup: (_ws, harness) => harness.write('template.yaml', TEMPLATE_NO_DEFAULT),
      message:
        "Template parameters Stage, DbPassword have no Default and no value: give them in 'parameter-overrides' (KEY=VALUE lines)."
    }
  ]),
  ...atStage('image', [
    // The built image's label, and ECR
    {
      name: 'image without the label',
      docker: { labels: {} },
      message: `The built image has no 'io.sparta.ecr-name' label, so there is no ECR repository to push to: add ${LABEL_LINE} to the Dockerfile.`
    },
    {
      name: 'empty label',
      docker: labelled(''),
      message: `The built image's 'io.sparta.ecr-name' label is empty: set it to the ECR repository name, e.g. ${LABEL_LINE}.`
    },
    {
      name: 'label in upper case',
      docker: labelled('Hello-Service'),
      message:
        "The 'io.sparta.ecr-name' label ('Hello-Service') has an invalid ECR repository name 'Hello-Service': use 2-256 lower-case letters, digits and the separators '.', '_', '-', '/'."
    },
    {
      name: 'label with a space',
      docker: labelled('hello service'),
      message:
        "The 'io.sparta.ecr-name' label ('hello service') contains whitespace; it must be an image reference such as 'my-service' or 'my-service:v1'."
    },
    {
      name: 'label with an invalid tag',
      docker: labelled('hello-service:-v1'),
      message: `The 'io.sparta.ecr-name' label ('hello-service:-v1') has an invalid tag '-v1': a tag is ${TAG_RULE}`
    },
    {
      name: 'full-URI label for another account',
      docker: labelled(`999999999999.dkr.ecr.${REGION}.amazonaws.com/hello:v1`),
      message: `The 'io.sparta.ecr-name' label ('999999999999.dkr.ecr.${REGION}.amazonaws.com/hello:v1') names AWS account 999999999999, but the credentials belong to account ${ACCOUNT}: label the image with a bare repository name, or deploy with credentials for 999999999999.`
    },
    {
      name: 'full-URI label for another region',
      docker: labelled(`${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/hello:v1`),
      message: `The 'io.sparta.ecr-name' label ('${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/hello:v1') names region us-east-1, but the deploy region is ${REGION}: label the image with a bare repository name, or set input 'region' to us-east-1.`
    },
    {
      name: 'label naming another registry',
      docker: labelled('ghcr.io/acme/hello'),
      message: `The 'io.sparta.ecr-name' label ('ghcr.io/acme/hello') names the registry 'ghcr.io'; only a private ECR repository in the deploying account (${ACCOUNT}) and region (${REGION}) is supported: set the label to '<repository>[:tag]' or '${REGISTRY}/<repository>[:tag]'.`
    },
    {
      name: 'image built for an architecture the function does not run',
      inputs: { platform: 'linux/arm64' },
      message:
        "Function 'HelloFunction' (AWS::Lambda::Function) runs on x86_64, but the image is built for arm64: set the function's Architectures: [arm64] in the template, or build the image with input 'platform: linux/amd64'."
    },
    {
      name: 'ECR repository missing without create-repository',
      setup: repositoryMissing,
      message: `ECR repository 'hello-service' (from label io.sparta.ecr-name) does not exist in account ${ACCOUNT}, ${REGION}: create it, or set 'create-repository: true'.`
    }
  ])
]

describe('bad input', () => {
  it('has a case for every promise of the issue, and more', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(30)
    expect(new Set(BAD_INPUTS.map((c) => c.name)).size).toBe(BAD_INPUTS.length)
  })

  test.each(BAD_INPUTS)('refuses a run with $name, before any push or AWS write', async (c) => {
    const ws = h.workspace()
    h.setInputs(c.inputs)
    const missing = c.docker === 'not installed'
    const fake = h.useDocker(c.docker === 'not installed' ? {} : c.docker)
    if (missing) process.env['PATH'] = emptyDir
    for (const [name, value] of Object.entries(c.env ?? {})) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    c.setup?.(ws, h)
    const clients = jest.fn(() => h.clients)
    await h.run({ clients, ...c.deps?.() })

    const message = typeof c.message === 'function' ? c.message(ws) : c.message
    expect(h.errors()).toEqual([message])
    expect(process.exitCode).toBe(1)
    expect(injectedCommands(h.text())).toEqual([])
    // How far it got: never to a login, a push, or a write.
    expect(h.dockerCommands()).toEqual(missing ? [] : [...STAGES[c.stage]])
    expect(fake.callsOf('login')).toEqual([])
    expect(fake.callsOf('push')).toEqual([])
    const sent = h.awsCommands()
    expect(sent.filter((name) => WRITE_COMMANDS.includes(name))).toEqual([])
    expect(sent.filter((name) => !PREFLIGHT_READS.includes(name))).toEqual([])
    if (c.stage === 'inputs') {
      expect(clients).not.toHaveBeenCalled()
      expect(sent).toEqual([])
    }
    expect(h.outputs()).toBe('')
    expect(h.summary()).toBe('')
  })
})

/** A CloudFormation endpoint on localhost speaking the query protocol; each answer is scripted. */
interface ScriptedEndpoint {
  url: string
  requests: Array<{ action: string; attempt: string; at: number }>
  /** Answers in order; the last one repeats. */
  answers: Array<{ status: number; body: string }>
  close(): Promise<void>
}

async function startEndpoint(): Promise<ScriptedEndpoint> {
  const endpoint: ScriptedEndpoint = {
    url: '',
    requests: [],
    answers: [],
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      endpoint.requests.push({
        action: form.get('Action') ?? '',
        attempt: String(req.headers['amz-sdk-request'] ?? ''),
        at: Date.now()
      })
      const answer =
        endpoint.answers[Math.min(endpoint.requests.length, endpoint.answers.length) - 1]
      res.writeHead(answer?.status ?? 500, { 'content-type': 'text/xml' })
      res.end(answer?.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return endpoint
}

function queryError(type: 'Sender' | 'Receiver', code: string, message: string): string {
  return `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>5ee1bd7f-0000-0000-0000-000000000000</RequestId></ErrorResponse>`
}

const THROTTLED = { status: 400, body: queryError('Sender', 'Throttling', 'Rate exceeded') }
const INTERNAL = {
  status: 500,
  body: queryError(
    'Receiver',
    'InternalFailure',
    'We encountered an internal error. Please try again.'
  )
}
const DESCRIBED = {
  status: 200,
  body: `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
  <DescribeStacksResult>
    <Stacks>
      <member>
        <StackName>${STACK}</StackName>
        <StackId>${STACK_ID}</StackId>
        <CreationTime>2024-05-01T10:00:00Z</CreationTime>
        <StackStatus>UPDATE_COMPLETE</StackStatus>
      </member>
    </Stacks>
  </DescribeStacksResult>
  <ResponseMetadata><RequestId>0b1c2d3e-0000-0000-0000-000000000000</RequestId></ResponseMetadata>
</DescribeStacksResponse>`
}

describe('faults: AWS throttling and 5xx, retried by the SDK as createAwsClients configures it', () => {
  let endpoint: ScriptedEndpoint

  beforeAll(async () => {
    endpoint = await startEndpoint()
  })
  afterAll(async () => {
    await endpoint.close()
  })

  afterEach(() => {
    jest.restoreAllMocks()
  })

  /** The real client, as the action makes it, pointed at the endpoint with static credentials. */
  function cloudformation() {
    endpoint.requests.length = 0
    // The SDK's back-off is `random × base × 2^retry`; a fixed 0.1 keeps the test fast and exact.
    jest.spyOn(Math, 'random').mockReturnValue(0.1)
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: endpoint.url,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
    })
    delete process.env['AWS_SESSION_TOKEN']
    delete process.env['AWS_PROFILE']
    return createAwsClients(REGION, { env: {} }).cloudformation
  }

  /** Milliseconds between one request and the next. */
  function gaps(): number[] {
    return endpoint.requests.slice(1).map((r, i) => r.at - (endpoint.requests[i]?.at ?? 0))
  }

  it('retries a throttled DescribeStacks with back-off and then succeeds', async () => {
    endpoint.answers = [THROTTLED, THROTTLED, DESCRIBED]
    const cfn = cloudformation()
    const stack = await describeStack(cfn, STACK)

    expect(stack).toMatchObject({ StackId: STACK_ID, StackStatus: 'UPDATE_COMPLETE' })
    expect(endpoint.requests.map((r) => [r.action, r.attempt])).toEqual([
      ['DescribeStacks', `attempt=1; max=${MAX_ATTEMPTS}`],
      ['DescribeStacks', `attempt=2; max=${MAX_ATTEMPTS}`],
      ['DescribeStacks', `attempt=3; max=${MAX_ATTEMPTS}`]
    ])
    // Each retry waited: the back-off (0.1 × the SDK's throttling base × 2^retry), plus whatever
    // adaptive mode's client-side rate limiter adds after a throttle.
    for (const gap of gaps()) expect(gap).toBeGreaterThanOrEqual(90)
    cfn.destroy()
  })

  it('gives up with a clear error after 8 attempts when every answer is a 500', async () => {
    endpoint.answers = [INTERNAL]
    const cfn = cloudformation()
    const error = await describeStack(cfn, STACK).catch((e: unknown) => e)

    expect((error as Error).message).toBe(
      `Could not describe stack ${STACK} (cloudformation:DescribeStacks): We encountered an internal error. Please try again.`
    )
    expect(endpoint.requests.map((r) => r.attempt)).toEqual(
      Array.from({ length: MAX_ATTEMPTS }, (_, i) => `attempt=${i + 1}; max=${MAX_ATTEMPTS}`)
    )
    // Exponential back-off (0.1 × 50 ms × 2^retry here): the last wait is the longest.
    const waits = gaps()
    expect(waits[waits.length - 1]).toBeGreaterThanOrEqual(300)
    expect(waits[0]).toBeLessThan(waits[waits.length - 1] ?? 0)
    cfn.destroy()
  })
})

/**
 * CloudFormation as a small state machine, enough for two runs against one existing stack: change
 * sets keep their names (a second CreateChangeSet of a name still there is refused, as AWS does),
 * and ExecuteChangeSet ends in `outcome`.
 */
function simulateStack(harness: Harness) {
  const state = {
    status: 'UPDATE_COMPLETE',
    outcome: 'UPDATE_ROLLBACK_COMPLETE' as 'UPDATE_ROLLBACK_COMPLETE' | 'UPDATE_COMPLETE',
    changeSets: new Map<string, { id: string; execution: string }>(),
    created: 0,
    events: [] as Array<Record<string, unknown>>
  }
  const stack = () =>
    createdStack({
      StackStatus: state.status as never,
      Parameters: [
        { ParameterKey: 'CodeImageURI', ParameterValue: `${REGISTRY}/hello-service:previous` },
        { ParameterKey: 'Stage', ParameterValue: 'prod' },
        { ParameterKey: 'DbPassword', ParameterValue: '****' }
      ]
    })
  const byNameOrId = (nameOrId: string) =>
    [...state.changeSets.entries()].find(([name, cs]) => name === nameOrId || cs.id === nameOrId)
  const { cfn } = harness
  cfn.on(DescribeStacksCommand).callsFake(() => ({ Stacks: [stack()] }))
  cfn.on(DescribeChangeSetCommand).callsFake((input: { ChangeSetName: string }) => {
    const found = byNameOrId(input.ChangeSetName)
    if (found === undefined) {
      throw awsError(
        'ChangeSetNotFoundException',
        `ChangeSet [${input.ChangeSetName}] does not exist`
      )
    }
    const [name, cs] = found
    return {
      ChangeSetName: name,
      ChangeSetId: cs.id,
      StackId: STACK_ID,
      StackName: STACK,
      Status: 'CREATE_COMPLETE',
      ExecutionStatus: cs.execution,
      Changes: [FUNCTION_UPDATE]
    }
  })
  cfn.on(CreateChangeSetCommand).callsFake((input: { ChangeSetName: string }) => {
    if (state.changeSets.has(input.ChangeSetName)) {
      throw awsError('AlreadyExistsException', `ChangeSet [${input.ChangeSetName}] already exists`)
    }
    state.created += 1
    const id = `${CHANGE_SET_ID.replace(/\/[^/]+$/, '')}/run-${state.created}`
    state.changeSets.set(input.ChangeSetName, { id, execution: 'AVAILABLE' })
    return { Id: id, StackId: STACK_ID }
  })
  cfn.on(DeleteChangeSetCommand).callsFake((input: { ChangeSetName: string }) => {
    const found = byNameOrId(input.ChangeSetName)
    if (found) state.changeSets.delete(found[0])
    return {}
  })
  cfn.on(ExecuteChangeSetCommand).callsFake((input: { ChangeSetName: string }) => {
    const found = byNameOrId(input.ChangeSetName)
    if (found === undefined) throw awsError('ChangeSetNotFoundException', 'gone')
    const failed = state.outcome === 'UPDATE_ROLLBACK_COMPLETE'
    found[1].execution = failed ? 'EXECUTE_FAILED' : 'EXECUTE_COMPLETE'
    state.status = state.outcome
    state.events.unshift({
      EventId: `e${state.events.length + 1}`,
      StackId: STACK_ID,
      StackName: STACK,
      LogicalResourceId: 'HelloFunction',
      ResourceType: 'AWS::Lambda::Function',
      ResourceStatus: failed ? 'UPDATE_FAILED' : 'UPDATE_COMPLETE',
      ...(failed ? { ResourceStatusReason: 'Resource handler returned message: "Throttled"' } : {}),
      Timestamp: new Date('2024-05-01T12:01:02Z')
    })
    return {}
  })
  cfn.on(DescribeStackEventsCommand).callsFake(() => ({ StackEvents: [...state.events] }))
  return state
}

describe('untrusted text from a file, docker and AWS never starts a workflow command', () => {
  test.each(HOSTILE_ROWS)(
    '%s: the deploy succeeds and prints it harmless',
    async (_name, hostile) => {
      const ws = h.workspace()
      // LF inside a file's parameter value is legitimate and kept; only a lone CR is refused.
      const value = hostile.replace(/\r(?!\n)/g, '\n')
      writeFileSync(
        join(ws, 'params.json'),
        JSON.stringify({ DbPassword: 'db-secret-9f', Stage: value })
      )
      h.setInputs({ 'parameter-overrides': 'params.json' })
      h.useDocker({ buildOutput: `Step 1/2 : RUN echo\n${hostile}\n` })
      const reason = { ResourceStatusReason: hostile, StackId: STACK_ID, StackName: STACK }
      h.cfn
        .on(DescribeStackEventsCommand)
        .resolvesOnce({ StackEvents: [] })
        .resolves({
          StackEvents: [
            {
              ...reason,
              EventId: 'e1',
              LogicalResourceId: 'HelloFunction',
              ResourceType: 'AWS::Lambda::Function',
              ResourceStatus: 'CREATE_COMPLETE',
              Timestamp: new Date('2024-05-01T12:01:02Z')
            }
          ]
        })
      h.cfn.on(DescribeStacksCommand, { StackName: STACK_ID }).resolves({
        Stacks: [createdStack({ Outputs: [{ OutputKey: 'Docs', OutputValue: hostile }] })]
      })

      await h.run()

      expect(h.errors()).toEqual([])
      expect(injectedCommands(h.text())).toEqual([])
      // Shown, not dropped: the event reason and the build output are in the log.
      expect(h.text().match(/PWNED|token/g)?.length ?? 0).toBeGreaterThanOrEqual(3)
    }
  )
})

describe('faults: a failed deploy loses nothing and its re-run succeeds', () => {
  it('re-runs the same build id after a rolled-back update: same keys and names, stale change set replaced, nothing deleted', async () => {
    const state = simulateStack(h)
    const fake = h.useDocker()

    await h.run()

    expect(h.errors()).toEqual([
      `Stack ${STACK} ended in UPDATE_ROLLBACK_COMPLETE\nError ensuring AWS::Lambda::Function (HelloFunction): Resource handler returned message: "Throttled"\nThe previous version of the stack is still in place.`
    ])
    expect(state.changeSets.get(CHANGE_SET_NAME)?.execution).toBe('EXECUTE_FAILED')

    // The same workflow run again ("Re-run failed jobs"): same inputs, same build id.
    process.exitCode = undefined
    state.outcome = 'UPDATE_COMPLETE'
    await h.run()

    expect(h.errors()).toHaveLength(1)
    expect(process.exitCode).toBeUndefined()
    expect(state.status).toBe('UPDATE_COMPLETE')
    expect(h.lines()).toContain(
      `Replacing change set ${CHANGE_SET_NAME} left by an earlier run of this build.`
    )
    const cfnCalls = h.cfn.calls().map((call) => call.args[0])
    const writes = cfnCalls
      .filter((command) => WRITE_COMMANDS.includes(command.constructor.name))
      .map((command) => [
        command.constructor.name,
        (command.input as { ChangeSetName?: string }).ChangeSetName
      ])
    const firstId = `${CHANGE_SET_ID.replace(/\/[^/]+$/, '')}/run-1`
    const secondId = `${CHANGE_SET_ID.replace(/\/[^/]+$/, '')}/run-2`
    expect(writes).toEqual([
      ['CreateChangeSetCommand', CHANGE_SET_NAME],
      ['ExecuteChangeSetCommand', firstId],
      ['DeleteChangeSetCommand', firstId],
      ['CreateChangeSetCommand', CHANGE_SET_NAME],
      ['ExecuteChangeSetCommand', secondId]
    ])
    // The same template key and image tag both times; the failed run deleted neither.
    const keys = h.s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input.Key)
    expect(keys).toEqual([
      `${STACK}/${BUILD_ID}/${STACK}-cftemplate.yaml`,
      `${STACK}/${BUILD_ID}/${STACK}-cftemplate.yaml`
    ])
    expect(fake.callsOf('push').map((call) => call.argv)).toEqual([
      ['push', IMAGE_URI],
      ['push', IMAGE_URI]
    ])
    expect(
      h
        .awsCommands()
        .filter((name) =>
          [
            'DeleteObjectCommand',
            'DeleteObjectsCommand',
            'BatchDeleteImageCommand',
            'DeleteStackCommand'
          ].includes(name)
        )
    ).toEqual([])
  })

  it('makes a docker tag of a build id instead of refusing it', async () => {
    h.setInputs({ 'build-id': 'feature/login#2' })
    const fake = h.useDocker()
    await h.run()

    expect(h.errors()).toEqual([])
    expect(fake.callsOf('push').map((call) => call.argv)).toEqual([
      ['push', `${REGISTRY}/hello-service:feature-login-2`]
    ])
    expect(h.s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Key).toBe(
      `${STACK}/feature-login-2/${STACK}-cftemplate.yaml`
    )
    expect(h.cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input).toMatchObject({
      ChangeSetName: `${STACK}-feature-login-2`,
      Tags: [
        { Key: 'team', Value: 'platform' },
        { Key: 'io:sparta:buildId', Value: 'feature-login-2' }
      ]
    })
    expect(h.outputs()).toMatch(/^build-id<<(ghadelimiter_[0-9a-f-]+)\nfeature-login-2\n\1$/m)
  })
})
