/**
 * Preflight in one region: the reads that can fail a run before its first write (account, bucket,
 * stack, the template's parameters). A noop run without credentials reads nothing. The docker
 * engine, needed once whatever the regions, is checked by `checkEngine`.
 */
import * as log from '../base/log.js'
import { filledParameterNames, type ArtifactKind } from '../artifacts/artifact.js'
import { describeStack } from '../aws/cloudformation/wait.js'
import { checkDockerEngine } from '../docker/docker.js'
import { errorMessage, InputError } from '../base/errors.js'
import type { FlowContext, Preflight } from '../artifacts/flow-context.js'
import type { Inputs } from '../inputs/inputs.js'
import { checkBucket } from '../aws/s3.js'
import {
  blockedStackError,
  missingParameters,
  planStack,
  rollbackWasDisabled,
  previousParameterKeys
} from '../rules/stack-rules.js'
import { getAccountId } from '../aws/sts.js'

/** Sparta's stand-in account for `--noop` runs without credentials. */
const NOOP_ACCOUNT_ID = '123412341234'

/** The docker engine a build needs: checked once, before the region reads. */
export async function checkEngine(ctx: FlowContext): Promise<void> {
  const version = await checkDockerEngine(ctx.runner)
  log.info(`Docker engine ${version}`)
}

/** Reads only: account, bucket, stack. A noop run without credentials reads nothing. */
export async function runPreflight(ctx: FlowContext, kind: ArtifactKind): Promise<Preflight> {
  const { inputs, aws } = ctx
  // The three reads need nothing from each other: one round trip instead of three.
  const readAt = ctx.wait.now()
  const [account, bucketRead, stackRead] = await Promise.allSettled([
    getAccountId(aws.sts),
    checkBucket(aws.s3, inputs.bucket, inputs.region),
    describeStack(aws.cloudformation, inputs.stackName)
  ])
  if (account.status === 'rejected') {
    if (inputs.mode !== 'noop') throw account.reason
    log.warning(
      `noop: no usable AWS credentials (${errorMessage(account.reason)}); using Sparta's stand-in account ${NOOP_ACCOUNT_ID} and skipping the AWS checks.`
    )
    return { accountId: NOOP_ACCOUNT_ID }
  }
  const accountId = account.value
  log.info(`AWS account ${accountId}, region ${inputs.region}`)
  if (bucketRead.status === 'rejected') throw bucketRead.reason
  if (stackRead.status === 'rejected') throw stackRead.reason
  const bucket = bucketRead.value
  const stack = stackRead.value
  const plan = planStack(stack?.StackStatus, rollbackWasDisabled(stack))
  if (plan.kind === 'blocked') throw blockedStackError(inputs.stackName, plan.status)
  checkParameters(inputs, kind, previousParameterKeys(plan, stack?.Parameters))
  if (
    kind === 'zip' &&
    bucket.versioningEnabled === false &&
    inputs.template.parameters[inputs.archiveVersionParameter]
  ) {
    log.warning(
      `The template declares ${inputs.archiveVersionParameter}, but bucket ${inputs.bucket} is not versioned: it gets an empty value. Enable versioning on the bucket to pin the package version.`
    )
  }
  log.info(`Stack ${inputs.stackName}: ${stack?.StackStatus ?? 'does not exist yet'}`)
  const previousImage =
    kind === 'image'
      ? stack?.Parameters?.find((p) => p.ParameterKey === inputs.imageParameter)?.ParameterValue
      : undefined
  return {
    accountId,
    bucket,
    ...(stack?.StackStatus ? { stackStatus: stack.StackStatus } : {}),
    stackRead: { stack, readAt },
    ...(previousImage ? { previousImage } : {})
  }
}

/** Every declared parameter without a Default must get a value; CloudFormation would refuse it. */
function checkParameters(inputs: Inputs, kind: ArtifactKind, previous: Set<string>): void {
  // The parameters the action fills in later count as given, like the overrides.
  const filledByAction = filledParameterNames(kind, inputs)
  const missing = missingParameters(
    inputs.template.parameters,
    new Map([...inputs.parameterOverrides, ...filledByAction.map((k) => [k, ''] as const)]),
    previous
  )
  if (missing.length > 0) {
    throw new InputError(
      `Template parameters ${missing.join(', ')} have no Default and no value: give them in 'parameter-overrides' (KEY=VALUE lines).`
    )
  }
}
