/**
 * The deploy-like modes (deploy, review, noop) for an image or a zip package:
 * preflight → build and check the image → push ∥ upload → change set → execute.
 * Every check that can fail runs before the first write (repository, push, upload, stack).
 *
 *   preflight.ts        the reads before any write
 *   image-artifact.ts   build, check and push the image (registry-access.ts: the one login)
 *   zip-artifact.ts     upload the package
 *   artifact.ts         the artifact as a tagged union, and what each kind fills in
 */
import * as core from '@actions/core'
import type { Parameter } from '@aws-sdk/client-cloudformation'
import {
  artifactKind,
  artifactReport,
  filledParameters,
  type BuildArtifact,
  type Publication
} from './artifact.js'
import {
  createChangeSet,
  deployStack,
  describeStack,
  type DeployRequest,
  type DeployResult
} from './cloudformation/index.js'
import type { FlowContext } from './flow-context.js'
import { buildCheckedImage, publishImageArtifact } from './image-artifact.js'
import { ecrRegistryHost, formatImageUri, type ImageTarget } from './image-ref.js'
import { runPreflight, type Preflight } from './preflight.js'
import { blankReport, type Report } from './report.js'
import { templateKey, templateUrl } from './s3.js'
import { buildParameters, defaultChangeSetName, rollbackConfiguration } from './stack-rules.js'
import { noEchoParameters } from './template.js'
import { publishZipArtifact } from './zip-artifact.js'

/** Runs deploy, review or noop; returns what the report shows. */
export async function runDeployFlow(ctx: FlowContext): Promise<Report> {
  const { inputs, phases } = ctx
  const kind = artifactKind(inputs)
  const preflight = await phases.run('Preflight checks', () => runPreflight(ctx, kind))
  const image = kind === 'image' ? await buildCheckedImage(ctx, preflight) : undefined
  if (inputs.mode === 'noop') return noopReport(ctx, preflight, image?.target)
  const published = image
    ? await publishImageArtifact(ctx, preflight, image)
    : await publishZipArtifact(ctx, preflight)
  const request = changeSetRequest(ctx, published.templateUrl, published.artifact)
  const base = reportBase(ctx, published)
  if (inputs.mode === 'review') return { ...base, ...(await review(ctx, request)) }
  const deployed = await phases.run('Deploy stack', () => deploy(ctx, request))
  return {
    ...base,
    ...deployed,
    parameterChanges: deployed.parameterChanges ?? [],
    executed: !deployed.noChanges
  }
}

/** What every deploy-like report holds: the run and the artifact. */
function reportBase(ctx: FlowContext, published: Publication) {
  const { inputs } = ctx
  return {
    mode: inputs.mode,
    stackName: inputs.stackName,
    buildId: inputs.buildTag,
    ...artifactReport(published.artifact),
    templateUrl: published.templateUrl,
    changeOutputs: true,
    phases: ctx.phases.done
  }
}

/** Review mode: the change set is created and listed, never executed. */
async function review(ctx: FlowContext, request: DeployRequest) {
  const changeSet = await ctx.phases.run('Create change set', () =>
    createChangeSet(ctx.aws.cloudformation, request, ctx.wait)
  )
  if (!changeSet.empty) {
    core.info(
      `Review mode: change set ${changeSet.changeSetName} is ready and was not executed. Execute it with 'execute-change-set: ${changeSet.changeSetId}'.`
    )
  }
  const current = changeSet.empty
    ? undefined
    : await describeStack(ctx.aws.cloudformation, changeSet.stackId)
  return {
    changeSetId: changeSet.changeSetId,
    changes: changeSet.changes,
    parameterChanges: changeSet.parameterChanges ?? [],
    stackId: changeSet.stackId,
    stackStatus: changeSet.stackStatus ?? current?.StackStatus ?? 'REVIEW_IN_PROGRESS',
    noChanges: changeSet.empty,
    executed: false,
    outputs: changeSet.outputs ?? current?.Outputs ?? []
  }
}

/**
 * Creates and executes the change set under one timeout. Once CloudFormation accepted the
 * execute, a cancelled workflow cancels the update (never before: a busy stack we waited for
 * is someone else's operation).
 */
async function deploy(ctx: FlowContext, request: DeployRequest): Promise<DeployResult> {
  const { inputs, aws, session } = ctx
  try {
    return await deployStack(aws.cloudformation, request, ctx.wait, {
      disableRollback: inputs.disableRollback,
      terminationProtection: inputs.terminationProtection,
      onExecuted: (stackId) => session.trackUpdate(aws.cloudformation, stackId)
    })
  } finally {
    session.trackUpdate(aws.cloudformation, undefined)
  }
}

/** The change set request: parameters, tags, capabilities and CloudFormation's options. */
function changeSetRequest(ctx: FlowContext, url: string, artifact: BuildArtifact): DeployRequest {
  const { inputs } = ctx
  const values = new Map([...inputs.parameterOverrides, ...filledParameters(artifact, inputs)])
  return {
    stackName: inputs.stackName,
    templateUrl: url,
    parameters: (previous): Parameter[] =>
      buildParameters(Object.keys(inputs.template.parameters), values, previous),
    capabilities: inputs.capabilities,
    tags: [
      ...inputs.tags.map((t) => ({ Key: t.key, Value: t.value })),
      { Key: 'io:sparta:buildId', Value: inputs.buildTag }
    ],
    changeSetName: inputs.changeSetName || defaultChangeSetName(inputs.stackName, inputs.buildTag),
    description: `oci-stack-deploy build ${inputs.buildTag}`.slice(0, 1024),
    noFailOnEmptyChangeset: inputs.noFailOnEmptyChangeset,
    ...(inputs.roleArn ? { roleArn: inputs.roleArn } : {}),
    ...(inputs.notificationArns.length > 0 ? { notificationArns: inputs.notificationArns } : {}),
    ...(inputs.rollbackAlarms.length > 0
      ? {
          rollbackConfiguration: rollbackConfiguration(
            inputs.rollbackAlarms,
            inputs.rollbackMonitoringMinutes
          )
        }
      : {}),
    ...(inputs.deploymentMode ? { deploymentMode: inputs.deploymentMode } : {}),
    ...(inputs.includeNestedStacks ? { includeNestedStacks: true } : {}),
    noEchoParameters: noEchoParameters(inputs.template),
    onSubmitted: ({ stackId, changeSetId }) => {
      ctx.sink.stack(stackId)
      ctx.sink.changeSet(changeSetId)
    }
  }
}

/** noop: what would have been pushed and deployed. */
function noopReport(
  ctx: FlowContext,
  preflight: Preflight,
  target: ImageTarget | undefined
): Report {
  const { inputs } = ctx
  const host = ecrRegistryHost({ accountId: preflight.accountId, region: inputs.region })
  const imageUri = target ? formatImageUri(host, target) : ''
  const key = templateKey(inputs.stackName, inputs.buildTag, inputs.template.format)
  const url = templateUrl(inputs.bucket, inputs.region, key)
  core.info(
    `noop: would push ${imageUri || 'nothing (zip package)'}, upload the template to ${url} and deploy stack ${inputs.stackName}${preflight.stackStatus ? ` (now ${preflight.stackStatus})` : ' (new)'}; nothing was changed.`
  )
  return {
    ...blankReport('noop', inputs.stackName, ctx.phases.done),
    buildId: inputs.buildTag,
    imageUri,
    templateUrl: url,
    stackStatus: preflight.stackStatus ?? '',
    noChanges: true
  }
}
