/**
 * The modes that act on an existing stack only: `delete` (preview clean-up) and
 * `execute-change-set` (the second step of a two-step approval). Nothing is built.
 */
import * as log from '../base/log.js'
import type { AwsClients } from '../aws/clients.js'
import { deleteStack } from '../aws/cloudformation/delete.js'
import { describeStack, type WaitOptions } from '../aws/cloudformation/wait.js'
import { executeExistingChangeSet } from '../aws/cloudformation/execute.js'
import { deleteImage } from '../aws/ecr.js'
import {
  ecrRegistryOf,
  formatDigestUri,
  formatImageUri,
  parseImageUri
} from '../rules/image-ref.js'
import type { StackOnlyInputs } from '../inputs/inputs.js'
import type { Phases } from '../base/phases.js'
import type { OutputSink } from '../report/output-sink.js'
import { blankReport } from '../report/report.js'
import type { Report } from '../report/model.js'
import type { Session } from '../base/session.js'

export interface StackFlowContext {
  inputs: StackOnlyInputs
  aws: AwsClients
  wait: WaitOptions
  phases: Phases
  session: Session
  /** Sets each step output as soon as it is known, so a failed run still leaves them. */
  sink: OutputSink
}

/**
 * Deletes the stack and waits; a stack that does not exist is success. With `delete-image`, the
 * image the stack ran is deleted from ECR afterwards (never before: a failed delete keeps it).
 */
export async function runDeleteFlow(ctx: StackFlowContext): Promise<Report> {
  const { inputs, aws, phases } = ctx
  const image = inputs.deleteImage ? await imageOfStack(ctx) : undefined
  // deleteStack logs whether the stack existed and how the delete ended.
  const deleted = await phases.run('Delete stack', () =>
    deleteStack(
      aws.cloudformation,
      inputs.stackName,
      ctx.wait,
      inputs.roleArn ? { roleArn: inputs.roleArn } : {}
    )
  )
  const cleanup = await cleanUpImage(ctx, image)
  return {
    ...blankReport(inputs.mode, inputs.stackName, phases.done),
    stackId: deleted.stackId ?? '',
    stackStatus: deleted.existed ? deleted.status : 'DOES_NOT_EXIST',
    executed: deleted.existed,
    ...cleanup
  }
}

/**
 * Deletes the stack's image when asked, and always says in the log what became of it: deleted,
 * not found, or kept (and why).
 */
async function cleanUpImage(
  ctx: StackFlowContext,
  image: Awaited<ReturnType<typeof imageOfStack>>
): Promise<Pick<Report, 'imageUri' | 'imageCleanup'>> {
  if (!ctx.inputs.deleteImage) {
    log.info('Image: kept in ECR (delete-image is off).')
    return { imageUri: '', imageCleanup: 'kept' }
  }
  if (image === undefined) {
    log.info(
      'Image: none deleted (no stack, or its image parameter names no private ECR image of this region).'
    )
    return { imageUri: '', imageCleanup: 'kept' }
  }
  const reference =
    image.tag !== undefined ? { tag: image.tag } : { digest: image.digest as string }
  // Named as the template had it: registry/repository:tag or @digest.
  const imageUri =
    image.tag !== undefined
      ? formatImageUri(image.host, { repository: image.repository, tag: image.tag })
      : formatDigestUri(image.host, image.repository, reference.digest as string)
  const result = await deleteImage(ctx.aws.ecr, image.repository, reference, image.registryId)
  switch (result) {
    case 'deleted':
      log.info(`Image: deleted ${imageUri} from ECR.`)
      return { imageUri, imageCleanup: 'deleted' }
    case 'not-found':
      log.info(`Image: ${imageUri} was not in ECR (deleted already?); nothing to delete.`)
      return { imageUri, imageCleanup: 'not-found' }
    case 'failed':
      // deleteImage warned with ECR's reason.
      log.info(`Image: kept ${imageUri} (the delete failed; see the warning above).`)
      return { imageUri, imageCleanup: 'kept' }
  }
}

/** The image reference the stack's image parameter holds (tag or digest), if any. */
async function imageOfStack(ctx: StackFlowContext) {
  const stack = await describeStack(ctx.aws.cloudformation, ctx.inputs.stackName)
  const value = stack?.Parameters?.find(
    (p) => p.ParameterKey === ctx.inputs.imageParameter
  )?.ParameterValue
  if (value === undefined) {
    if (stack !== undefined) {
      log.warning(
        `delete-image: stack ${ctx.inputs.stackName} has no parameter ${ctx.inputs.imageParameter}; no image is deleted.`
      )
    }
    return undefined
  }
  const parsed = parseImageUri(value)
  if (parsed === undefined) {
    log.warning(`delete-image: '${value}' is not an image URI; no image is deleted.`)
    return undefined
  }
  // Only this region's private ECR, in the account the URI names: never a same-named
  // repository somewhere else.
  const registry = ecrRegistryOf(parsed.host)
  if (registry === undefined || registry.region !== ctx.inputs.region) {
    log.warning(
      `delete-image: ${value} is not in a private ECR registry of ${ctx.inputs.region}; no image is deleted.`
    )
    return undefined
  }
  return { ...parsed, registryId: registry.accountId }
}

/** Executes a change set made earlier (review mode), by ARN or name. */
export async function runExecuteFlow(ctx: StackFlowContext): Promise<Report> {
  const { inputs, aws, phases, session } = ctx
  try {
    const result = await phases.run('Execute change set', () =>
      executeExistingChangeSet(aws.cloudformation, inputs.stackName, inputs.changeSet, ctx.wait, {
        disableRollback: inputs.disableRollback,
        terminationProtection: inputs.terminationProtection,
        // From the accepted execute on, a cancelled workflow cancels this update.
        onExecuted: (stackId) => {
          ctx.sink.stack(stackId)
          session.trackUpdate(aws.cloudformation, stackId)
        }
      })
    )
    return {
      ...blankReport(inputs.mode, inputs.stackName, phases.done),
      ...result,
      express: result.express ?? false,
      executed: true,
      changeOutputs: true
    }
  } finally {
    session.trackUpdate(aws.cloudformation, undefined)
  }
}
