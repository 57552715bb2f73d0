/**
 * Scenarios for run()-level tests on top of run-harness.ts: a stack an earlier deploy left, an
 * UPDATE change set as CloudFormation resolves it, a missing ECR repository, a scripted registry,
 * the image parameter sent, a recording pull-request comment, and the change set input and the
 * outputs a first deploy is expected to send and write.
 */
import { expect, jest } from '@jest/globals'
import {
  CreateChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type DescribeChangeSetCommandOutput,
  type Parameter,
  type Stack
} from '@aws-sdk/client-cloudformation'
import { DescribeRepositoriesCommand } from '@aws-sdk/client-ecr'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ManifestReader } from '../src/artifacts/flow-context.js'
import type { Dependencies } from '../src/main.js'
import type { ManifestInfo } from '../src/registry/manifests.js'
import { awsError } from './aws.js'
import {
  BUILD_ID,
  cfn,
  CHANGE_SET_ID,
  CHANGE_SET_NAME,
  createdStack,
  DB_PASSWORD,
  ecr,
  FUNCTION_ARN,
  harness,
  IMAGE_URI,
  PINNED_URI,
  REGISTRY,
  STACK,
  STACK_ID,
  TEMPLATE,
  TEMPLATE_URL
} from './run-harness.js'

/** Manifest media types. */
export const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json'
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
/** The image an earlier deploy left. */
export const OLD_DIGEST = `sha256:${'0a'.repeat(32)}`
export const OLD_PINNED = `${REGISTRY}/hello-service@${OLD_DIGEST}`
/** The service's template with its function on arm64. */
export const ARM64_TEMPLATE = TEMPLATE.replace(
  '      PackageType: Image\n',
  '      PackageType: Image\n      Architectures: [arm64]\n'
)
/** The change an update's change set lists: the function modified in place. */
export const FUNCTION_UPDATE = {
  Type: 'Resource' as const,
  ResourceChange: {
    Action: 'Modify' as const,
    LogicalResourceId: 'HelloFunction',
    ResourceType: 'AWS::Lambda::Function',
    Replacement: 'False' as const
  }
}
/** The stack's outputs as the `outputs` output writes them. */
export const STACK_OUTPUTS = JSON.stringify({
  FunctionArn: FUNCTION_ARN,
  DeployedImage: IMAGE_URI,
  Docs: 'https://example.com/hello'
})
/** The outputs every deploy-like run writes for the stack's outputs. */
export const STACK_OUTPUT_VALUES = {
  outputs: STACK_OUTPUTS,
  FunctionArn: FUNCTION_ARN,
  DeployedImage: IMAGE_URI,
  Docs: 'https://example.com/hello'
}

/** The change outputs of a change set that lists FUNCTION_CHANGE and nothing else. */
export const FUNCTION_CHANGE_OUTPUTS = {
  'has-changes': 'true',
  'changes-count': '1',
  'changes-summary':
    '[{"action":"Add","logicalId":"HelloFunction","type":"AWS::Lambda::Function","replacement":""}]',
  'changes-markdown':
    '| Action | Logical id | Type | Replacement |\n| --- | --- | --- | --- |\n| Add | HelloFunction | AWS::Lambda::Function | - |'
}
/** The artifact outputs of a run that builds and uploads nothing (the stack-only modes). */
export const NO_ARTIFACT_OUTPUTS = {
  'image-uri': '',
  'image-digest': '',
  'build-id': '',
  'template-url': ''
}

/**
 * The CreateChangeSet input of a first deploy with the harness's inputs: a CREATE change set for
 * the uploaded template, the pinned image and the DbPassword override, the inputs' tags.
 */
export function createStackChangeSetInput() {
  return {
    ClientToken: expect.stringMatching(/^oci-create-change-set-[\w-]+$/) as unknown as string,
    StackName: STACK,
    ChangeSetName: CHANGE_SET_NAME,
    ChangeSetType: 'CREATE',
    TemplateURL: TEMPLATE_URL,
    Parameters: [
      { ParameterKey: 'CodeImageURI', ParameterValue: PINNED_URI },
      { ParameterKey: 'DbPassword', ParameterValue: DB_PASSWORD }
    ],
    Capabilities: ['CAPABILITY_IAM'],
    Tags: [
      { Key: 'team', Value: 'platform' },
      { Key: 'io:sparta:buildId', Value: BUILD_ID }
    ],
    Description: `oci-stack-deploy build ${BUILD_ID}`
  }
}

/** The stack after an earlier deploy of `image`, as DescribeStacks shows it by name and id. */
export function existingStack(image = OLD_PINNED): Stack {
  const stack = createdStack({
    StackStatus: 'UPDATE_COMPLETE',
    Parameters: [
      { ParameterKey: 'CodeImageURI', ParameterValue: image },
      { ParameterKey: 'Stage', ParameterValue: 'prod' },
      { ParameterKey: 'DbPassword', ParameterValue: '****' }
    ]
  })
  cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({ Stacks: [stack] })
  cfn.on(DescribeStacksCommand, { StackName: STACK_ID }).resolves({ Stacks: [stack] })
  return stack
}

/** This run's change set as DescribeChangeSet shows it once ready to execute, with `fields`. */
export function readyChangeSet(
  fields: Partial<DescribeChangeSetCommandOutput>
): Partial<DescribeChangeSetCommandOutput> {
  return {
    ChangeSetId: CHANGE_SET_ID,
    ChangeSetName: CHANGE_SET_NAME,
    StackId: STACK_ID,
    StackName: STACK,
    Status: 'CREATE_COMPLETE',
    ExecutionStatus: 'AVAILABLE',
    ...fields
  }
}

/** No change set is left under this run's name by an earlier run (DescribeChangeSet by name). */
export function noEarlierChangeSet(): void {
  cfn
    .on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_NAME })
    .rejects(
      awsError('ChangeSetNotFoundException', `ChangeSet [${CHANGE_SET_NAME}] does not exist`)
    )
}

/**
 * An UPDATE change set: no earlier one under the same name; DescribeChangeSet answers with the
 * parameters CreateChangeSet sent, resolved as CloudFormation shows them (previous values filled
 * in, NoEcho masked).
 */
export function mockUpdateChangeSet(stack: Stack): void {
  noEarlierChangeSet()
  cfn.on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_ID }).callsFake(() => {
    const sent = cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input.Parameters ?? []
    const previous = new Map(stack.Parameters?.map((p) => [p.ParameterKey, p.ParameterValue]))
    const resolved: Parameter[] = sent.map((p) => ({
      ParameterKey: p.ParameterKey,
      ParameterValue:
        p.ParameterKey === 'DbPassword'
          ? '****'
          : p.UsePreviousValue
            ? previous.get(p.ParameterKey)
            : p.ParameterValue
    }))
    return readyChangeSet({ Parameters: resolved, Changes: [FUNCTION_UPDATE] })
  })
}

/**
 * An existing stack whose update reads as done by this run's change set once it was executed (as
 * CloudFormation shows it); before that, the stack as it was.
 */
export function mockCompletedUpdate(): Stack {
  const stack = existingStack()
  mockUpdateChangeSet(stack)
  let executed = false
  cfn.on(ExecuteChangeSetCommand).callsFake(() => {
    executed = true
    return {}
  })
  cfn.on(DescribeStacksCommand, { StackName: STACK_ID }).callsFake(() => ({
    Stacks: [
      executed
        ? {
            ...stack,
            LastUpdatedTime: new Date('2024-05-01T12:05:00Z'),
            ChangeSetId: CHANGE_SET_ID
          }
        : stack
    ]
  }))
  return stack
}

/** ECR has no repository hello-service: DescribeRepositories answers RepositoryNotFoundException. */
export function repositoryMissing(): void {
  ecr
    .on(DescribeRepositoriesCommand)
    .rejects(
      awsError(
        'RepositoryNotFoundException',
        "The repository with name 'hello-service' does not exist"
      )
    )
}

/** A ManifestReader over `answer`, recording every reference read. */
export function registry(answer: (reference: string) => ManifestInfo | undefined): {
  getManifest: ManifestReader
  reads: string[]
} {
  const reads: string[] = []
  return {
    reads,
    getManifest: async (_login, repository, reference) => {
      reads.push(`${repository}:${reference}`)
      return answer(reference)
    }
  }
}

/** Writes the workspace's template.yaml. */
export function writeTemplate(text: string): void {
  writeFileSync(join(harness.workspace, 'template.yaml'), text)
}

/** The inputs of every CreateChangeSet call, in order. */
export function createChangeSetInputs() {
  return cfn.commandCalls(CreateChangeSetCommand).map((c) => c.args[0].input)
}

/** The image URI the first change set handed the template. */
export function imageParameterSent(): string | undefined {
  return createChangeSetInputs()[0]?.Parameters?.find((p) => p.ParameterKey === 'CodeImageURI')
    ?.ParameterValue
}

/** A fake `comment` dependency that records its calls. */
export function fakeComment(impl: Dependencies['comment'] = async () => 'created') {
  return jest.fn<Dependencies['comment']>(impl)
}
