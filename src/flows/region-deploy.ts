/**
 * One region's writes, once every region passed its checks: the image delivered (pushed or
 * copied) beside the template upload, or the zip package uploaded; then its own change set,
 * reviewed or executed, with its own event stream.
 */
import type { Parameter } from '@aws-sdk/client-cloudformation'
import {
  artifactReport,
  filledParameters,
  settleBoth,
  uploadTemplateFile,
  type BuildArtifact,
  type Publication
} from '../artifacts/artifact.js'
import { createChangeSet } from '../aws/cloudformation/change-sets.js'
import { deployStack } from '../aws/cloudformation/execute.js'
import { describeStack } from '../aws/cloudformation/wait.js'
import type { DeployRequest, DeployResult } from '../aws/cloudformation/types.js'
import type { FlowContext } from '../artifacts/flow-context.js'
import { deliverImage, type ImagePlan, type PlannedRegion } from '../artifacts/image-delivery.js'
import {
  moveProtectedTags,
  putKeepRule,
  withKnownCopies,
  type RegionProtection
} from './image-protection.js'
import * as log from '../base/log.js'
import { requireBucket } from '../artifacts/flow-context.js'
import type { Report } from '../report/model.js'
import {
  buildParameters,
  defaultChangeSetName,
  rollbackConfiguration
} from '../rules/stack-rules.js'
import { noEchoParameters } from '../template/template.js'
import { publishZipArtifact } from '../artifacts/zip.js'

/** Publishes the artifact in the region and deploys (or reviews) its stack. */
export async function deployRegion(
  region: PlannedRegion,
  image: ImagePlan | undefined,
  protection?: RegionProtection
): Promise<Report> {
  const { ctx } = region
  const published = image
    ? await publishImage(region, image)
    : await publishZipArtifact(ctx, region.preflight)
  const request = changeSetRequest(ctx, published.templateUrl, published.artifact)
  const base = reportBase(ctx, published)
  if (ctx.inputs.mode === 'review') return { ...base, ...(await review(ctx, request)) }
  if (protection && ctx.inputs.protectImages) await putKeepRule(ctx, protection)
  const deployed = await ctx.phases.run('Deploy stack', () =>
    deploy(ctx, request).catch((error: unknown) => {
      throw withKnownCopies(ctx, region.preflight.accountId, image?.repository, error)
    })
  )
  if (protection && ctx.inputs.protectImages && published.artifact.kind === 'image') {
    await moveProtectedTags(ctx, protection, published.artifact.digest)
  }
  return {
    ...base,
    ...deployed,
    parameterChanges: deployed.parameterChanges ?? [],
    executed: !deployed.noChanges
  }
}

/** The image pushed or copied into the region beside the template upload (one phase). */
async function publishImage(region: PlannedRegion, image: ImagePlan): Promise<Publication> {
  const { ctx } = region
  const pushes = image.kind === 'built' && region.home
  const [artifact, template] = await ctx.phases.run(
    pushes ? 'Push image and upload template' : 'Copy image and upload template',
    () =>
      settleBoth(
        deliverImage(image, region),
        uploadTemplateFile(ctx, requireBucket(region.preflight))
      )
  )
  return { artifact: { kind: 'image', ...artifact }, templateUrl: template.url }
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
    log.info(
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
