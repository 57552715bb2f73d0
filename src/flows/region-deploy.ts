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
import { createChangeSet, deleteChangeSet } from '../aws/cloudformation/change-sets.js'
import { deployStack } from '../aws/cloudformation/execute.js'
import { describeStack } from '../aws/cloudformation/wait.js'
import type { ChangeSetResult, DeployRequest, DeployResult } from '../aws/cloudformation/types.js'
import type { FlowContext } from '../artifacts/flow-context.js'
import {
  deliverImage,
  expectedImage,
  type ImagePlan,
  type PlannedRegion
} from '../artifacts/image-delivery.js'
import type { ImageArtifact } from '../artifacts/image.js'
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
  const expected = image && ctx.inputs.mode !== 'noop' && (await expectedImage(image, region))
  if (image && expected) return deployWhileDelivering(region, image, expected, protection)
  const published = image
    ? await publishImage(region, image)
    : await publishZipArtifact(ctx, region.preflight)
  const request = changeSetRequest(region, published.templateUrl, published.artifact)
  const base = reportBase(ctx, published)
  if (ctx.inputs.mode === 'review') return { ...base, ...(await review(ctx, request)) }
  const deployed = await ctx.phases.run('Deploy stack', () =>
    deployGuarded(region, image, protection, request)
  )
  if (published.artifact.kind === 'image') {
    await moveTags(ctx, protection, published.artifact.digest)
  }
  return { ...base, ...deployedReport(deployed) }
}

/**
 * Deploys with the image protection of issue 24 around it: the keep rule is in the repository's
 * lifecycle policy before the stack can run the image (when `protect-images` asks for it), and a
 * failure names where a copy of a missing image may be.
 */
async function deployGuarded(
  region: PlannedRegion,
  image: ImagePlan | undefined,
  protection: RegionProtection | undefined,
  request: DeployRequest,
  beforeExecute?: () => Promise<void>
): Promise<DeployResult> {
  const { ctx } = region
  if (protection && ctx.inputs.protectImages) await putKeepRule(ctx, protection)
  return deploy(ctx, request, beforeExecute).catch((error: unknown) => {
    throw withKnownCopies(ctx, region.preflight.accountId, image?.repository, error)
  })
}

/** After a successful deploy: the stack's tags move to the digest it runs (`protect-images`). */
async function moveTags(
  ctx: FlowContext,
  protection: RegionProtection | undefined,
  digest: string
): Promise<void> {
  if (protection && ctx.inputs.protectImages) await moveProtectedTags(ctx, protection, digest)
}

/** The report fields of an executed (or empty) change set. */
function deployedReport(deployed: DeployResult) {
  return {
    ...deployed,
    parameterChanges: deployed.parameterChanges ?? [],
    executed: !deployed.noChanges
  }
}

/**
 * The digest is known before the image is in the region: the template is uploaded and the change
 * set made while the image is pushed or copied; it is executed only once the image is there. A
 * push or copy that fails deletes the change set. The log says when each side finished.
 */
async function deployWhileDelivering(
  region: PlannedRegion,
  image: ImagePlan,
  expected: ImageArtifact,
  protection: RegionProtection | undefined
): Promise<Report> {
  const { ctx } = region
  const what = image.kind === 'built' && region.home ? 'push' : 'copy'
  const review = ctx.inputs.mode === 'review'
  const name = `${what === 'push' ? 'Push' : 'Copy'} image ∥ ${review ? 'create change set' : 'deploy stack'}`
  return ctx.phases.run(name, async () => {
    const started = Date.now()
    const seconds = () => ((Date.now() - started) / 1000).toFixed(1)
    log.info(
      `Digest ${expected.digest} is known before the image is in place: creating the change set while the image is ${what === 'push' ? 'pushed' : 'copied'}.`
    )
    const delivery = deliverImage(image, region).then((artifact) => {
      log.info(`Image in place after ${seconds()} s (${what}).`)
      return artifact
    })
    // Awaited by settleBoth below: a failure must not surface as an unhandled rejection first.
    delivery.catch(() => undefined)
    const stack = (async () => {
      const template = await uploadTemplateFile(ctx, requireBucket(region.preflight))
      const request = changeSetRequest(region, template.url, { kind: 'image', ...expected })
      const gate = async (): Promise<void> => {
        log.info(
          `Change set ready after ${seconds()} s; ${review ? 'reported' : 'executed'} once the image is in place.`
        )
        await delivery
      }
      const result = review
        ? await reviewBeside(ctx, request, gate)
        : deployedReport(await deployGuarded(region, image, protection, request, gate))
      return { url: template.url, result }
    })()
    const [artifact, { url, result }] = await settleBoth(delivery, stack)
    if (!review) await moveTags(ctx, protection, artifact.digest)
    const base = reportBase(ctx, { artifact: { kind: 'image', ...artifact }, templateUrl: url })
    return { ...base, ...result }
  })
}

/** Review beside a delivery (`imageInPlace`): a change set whose image never arrived is deleted. */
async function reviewBeside(
  ctx: FlowContext,
  request: DeployRequest,
  imageInPlace: () => Promise<void>
) {
  const changeSet = await createChangeSet(ctx.aws.cloudformation, request, ctx.wait)
  try {
    await imageInPlace()
  } catch (error) {
    if (!changeSet.empty) {
      log.info(`Deleting change set ${changeSet.changeSetName}: its image is not in place.`)
      await deleteChangeSet(ctx.aws.cloudformation, changeSet.changeSetId, changeSet.stackId)
    }
    throw error
  }
  return reviewedChangeSet(ctx, changeSet)
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
    express: inputs.express,
    phases: ctx.phases.done
  }
}

/** Review mode: the change set is created and listed, never executed. */
async function review(ctx: FlowContext, request: DeployRequest) {
  const changeSet = await ctx.phases.run('Create change set', () =>
    createChangeSet(ctx.aws.cloudformation, request, ctx.wait)
  )
  return reviewedChangeSet(ctx, changeSet)
}

/** What review mode reports of a ready change set (and says how to execute it). */
async function reviewedChangeSet(ctx: FlowContext, changeSet: ChangeSetResult) {
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
async function deploy(
  ctx: FlowContext,
  request: DeployRequest,
  beforeExecute?: () => Promise<void>
): Promise<DeployResult> {
  const { inputs, aws, session } = ctx
  try {
    return await deployStack(aws.cloudformation, request, ctx.wait, {
      disableRollback: inputs.disableRollback,
      express: inputs.express,
      terminationProtection: inputs.terminationProtection,
      ...(beforeExecute ? { beforeExecute } : {}),
      onExecuted: (stackId) => session.trackUpdate(aws.cloudformation, stackId)
    })
  } finally {
    session.trackUpdate(aws.cloudformation, undefined)
  }
}

/**
 * The change set request: parameters, tags, capabilities and CloudFormation's options, and
 * preflight's stack read (not made again while it is recent).
 */
function changeSetRequest(
  region: PlannedRegion,
  url: string,
  artifact: BuildArtifact
): DeployRequest {
  const { ctx } = region
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
    ...(inputs.express ? { express: { disableRollback: inputs.disableRollback } } : {}),
    noEchoParameters: noEchoParameters(inputs.template),
    ...(region.preflight.stackRead ? { known: region.preflight.stackRead } : {}),
    onSubmitted: ({ stackId, changeSetId }) => {
      ctx.sink.stack(stackId)
      ctx.sink.changeSet(changeSetId)
    }
  }
}
