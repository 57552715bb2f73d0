/**
 * The StackSets path (`stack-set-name`): one template deployed by CloudFormation to many accounts
 * and regions, as operations CloudFormation runs, not a loop of stacks here.
 *
 *   preflight   account, bucket, stack set, every region's repository and policy (reads only)
 *   image       built or resolved once; pushed, copied or replicated into every region
 *               (stack-set-images.ts); the template uploaded beside it
 *   operations  create the stack set if missing, update it when template or parameters changed,
 *               add the missing instances (stack-set-run.ts); each one waited for
 *   report      one row per account × region; the step fails when an operation failed
 */
import type { DeployContext, FlowContext, Preflight } from '../artifacts/flow-context.js'
import {
  prepareImage,
  repositoryMissing,
  type ImagePlan,
  type PlannedRegion
} from '../artifacts/image-delivery.js'
import { settleBoth, uploadTemplateFile } from '../artifacts/artifact.js'
import { describeStackSet, listStackInstances } from '../aws/cloudformation/stack-sets.js'
import { checkBucket } from '../aws/s3.js'
import { getAccountId } from '../aws/sts.js'
import { InputError, RegionsError } from '../base/errors.js'
import * as log from '../base/log.js'
import type { Report } from '../report/model.js'
import { blankReport } from '../report/report.js'
import { missingParameters } from '../rules/stack-rules.js'
import {
  concurrencyNote,
  missingInstances,
  STACK_SET_IMAGE_PARAMETERS,
  type StackSetSettings
} from '../rules/stack-set.js'
import { checkEachRegion, regionContexts } from './fan-out.js'
import { checkEngine } from './preflight.js'
import {
  applyRepositoryPolicies,
  deliverEveryRegion,
  planRepositoryPolicies,
  replicationPlan
} from './stack-set-images.js'
import {
  deleteStackSetAndInstances,
  deployStackSet,
  instanceKeys,
  type SetState
} from './stack-set-run.js'
import type { StackFlowContext } from './stack-only.js'

/** What preflight read: each region, and the stack set as it stands. */
interface StackSetPreflight {
  regions: PlannedRegion[]
  state: SetState
}

/** Runs deploy or noop through the stack set; returns what the report shows. */
export async function runStackSetFlow(ctx: DeployContext): Promise<Report> {
  const { inputs } = ctx
  const settings = inputs.stackSet as StackSetSettings
  for (const warning of inputs.template.warnings) log.warning(warning)
  const note = concurrencyNote(settings.preferences)
  if (note) log.warning(note)
  const pre = await ctx.phases.run('Preflight checks', () => preflight(ctx, settings))
  const home = pre.regions[0] as PlannedRegion
  const prepared = await prepareImage(ctx, home)
  const missing = await ctx.phases.run('Check repositories', async () => {
    const absent = await checkEachRegion(pre.regions, (r) => repositoryMissing(prepared, r))
    return new Set(pre.regions.filter((_, i) => absent[i]).map((r) => r.ctx.inputs.region))
  })
  const policies = await planRepositoryPolicies(settings, pre.regions, prepared.repository, missing)
  if (inputs.mode === 'noop') return noopReport(ctx, settings, pre, policies.size)
  const plan: ImagePlan = { ...prepared, create: missing }
  const replicated = await replicationPlan(pre.regions, prepared.repository)
  const [images, template] = await ctx.phases.run('Publish image and template', () =>
    settleBoth(
      deliverEveryRegion(plan, pre.regions, replicated),
      uploadTemplateFile(home.ctx, home.preflight.bucket as NonNullable<Preflight['bucket']>)
    )
  )
  await applyRepositoryPolicies(policies, pre.regions, prepared.repository)
  const image = images[0] as (typeof images)[number]
  const imageUris = new Map(
    pre.regions.map((r, i) => [r.ctx.inputs.region, images[i]?.pinnedUri ?? ''])
  )
  const result = await ctx.phases.run('Stack set operations', () =>
    deployStackSet(home.ctx, settings, pre.state, {
      templateUrl: template.url,
      image: {
        ImageRegistryAccount: home.preflight.accountId,
        ImageRepository: prepared.repository,
        ImageDigest: image.digest
      },
      imageUris
    })
  )
  return {
    ...blankReport('deploy', inputs.stackName, ctx.phases.done),
    buildId: inputs.buildTag,
    imageUri: image.imageUri,
    imageUriPinned: image.pinnedUri,
    imageDigest: image.digest,
    templateUrl: template.url,
    stackId: result.stackSetId,
    stackStatus: result.error ? 'FAILED' : 'SUCCEEDED',
    noChanges: result.operations.length === 0,
    executed: result.operations.length > 0,
    stackSet: result
  }
}

/**
 * Reads only: the account, the bucket in the stack set's region, the stack set and its
 * instances, the template's parameters. Regions get contexts of their own for the image.
 */
async function preflight(
  ctx: DeployContext,
  settings: StackSetSettings
): Promise<StackSetPreflight> {
  const { inputs } = ctx
  if (inputs.image === undefined) await checkEngine(ctx)
  const made = regionContexts(ctx)
  // One bucket, in the stack set's region: CloudFormation reads the template from there.
  const bucketName = (made[0] as FlowContext).inputs.bucket
  const contexts = made.map((c) => ({ ...c, inputs: { ...c.inputs, bucket: bucketName } }))
  const cfn = ctx.aws.cloudformation
  const [accountId, bucket, set] = await Promise.all([
    getAccountId(ctx.aws.sts),
    checkBucket(ctx.aws.s3, bucketName, inputs.region),
    describeStackSet(cfn, settings.name, settings.callAs)
  ])
  log.info(
    `AWS account ${accountId}; stack set ${settings.name} in ${inputs.region}: ${set ? set.Status : 'does not exist yet'}`
  )
  if (set?.PermissionModel && set.PermissionModel !== settings.permissionModel) {
    throw new InputError(
      `Stack set ${settings.name} uses ${set.PermissionModel} permissions, but the inputs give ${settings.permissionModel === 'SELF_MANAGED' ? "'accounts' (SELF_MANAGED)" : "'organizational-units' (SERVICE_MANAGED)"}: the permission model cannot change while instances exist. Give the other kind of targets.`
    )
  }
  if (settings.permissionModel === 'SERVICE_MANAGED' && inputs.template.macros.length > 0) {
    throw new InputError(
      `Input 'organizational-units': service-managed stack sets cannot run macros or transforms, and the template runs ${inputs.template.macros.map((m) => m.name).join(', ')}: target 'accounts' (self-managed) instead, or remove them.`
    )
  }
  const previous = new Set((set?.Parameters ?? []).map((p) => p.ParameterKey ?? ''))
  const given = new Map([
    ...inputs.parameterOverrides,
    ...STACK_SET_IMAGE_PARAMETERS.map((k) => [k, ''] as const)
  ])
  const absent = missingParameters(inputs.template.parameters, given, previous)
  if (absent.length > 0) {
    throw new InputError(
      `Template parameters ${absent.join(', ')} have no Default and no value: give them in 'parameter-overrides' (KEY=VALUE lines).`
    )
  }
  const instances = set ? await listStackInstances(cfn, settings.name, settings.callAs) : []
  const regions = contexts.map((c, i) => ({
    ctx: c,
    preflight: { accountId, ...(i === 0 ? { bucket } : {}) },
    home: i === 0
  }))
  return { regions, state: { set, instances } }
}

/** noop: what the run would create, update or add; nothing is written. */
function noopReport(
  ctx: DeployContext,
  settings: StackSetSettings,
  pre: StackSetPreflight,
  policyRegions: number
): Report {
  const { inputs } = ctx
  const { set, instances } = pre.state
  const missing = missingInstances(settings, inputs.regions, instanceKeys(instances))
  const lines = [
    set
      ? set.TemplateBody === inputs.template.body.toString('utf8')
        ? `stack set ${settings.name} exists (${instances.length} instances) with this template; it would be updated (every instance) if the image digest or a parameter differs`
        : `stack set ${settings.name} exists (${instances.length} instances); the template differs: it would update every instance`
      : `would create stack set ${settings.name}`,
    missing.targets.length > 0
      ? `would add instances for ${missing.targets.join(', ')} in ${missing.regions.join(', ')}`
      : 'no instance is missing',
    policyRegions > 0
      ? `would add the pull statements to the repository policy in ${policyRegions} regions`
      : ''
  ].filter((l) => l !== '')
  for (const line of lines) log.info(`noop: ${line}.`)
  log.info('noop: nothing was changed.')
  return {
    ...blankReport('noop', inputs.stackName, ctx.phases.done),
    buildId: inputs.buildTag,
    stackId: set?.StackSetId ?? '',
    noChanges: true,
    stackSet: {
      stackSetId: set?.StackSetId ?? '',
      operations: [],
      instances: instances.map((i) => ({
        account: i.Account ?? '',
        region: i.Region ?? '',
        status: i.StackInstanceStatus?.DetailedStatus ?? i.Status ?? '',
        reason: i.StatusReason ?? '',
        stackId: i.StackId ?? '',
        imageUri: ''
      }))
    }
  }
}

/** mode delete with `stack-set-name`: every instance removed, then the stack set. */
export async function runStackSetDeleteFlow(ctx: StackFlowContext): Promise<Report> {
  const { inputs } = ctx
  const settings = inputs.stackSet as StackSetSettings
  const result = await ctx.phases.run('Delete stack set', () =>
    deleteStackSetAndInstances({
      cfn: ctx.aws.cloudformation,
      wait: ctx.wait,
      session: ctx.session,
      settings
    })
  )
  const { existed, ...stackSet } = result
  return {
    ...blankReport('delete', inputs.stackName, ctx.phases.done),
    stackId: stackSet.stackSetId,
    stackStatus: existed ? (stackSet.error ? 'FAILED' : 'DELETED') : 'DOES_NOT_EXIST',
    executed: existed,
    stackSet
  }
}

/**
 * The step's error when a stack set operation failed (the summary already shows each instance,
 * so it is a RegionsError: no failure summary on top); undefined otherwise.
 */
export function stackSetFailure(report: Report): RegionsError | undefined {
  const error = report.stackSet?.error
  if (error === undefined) return undefined
  const failed = (report.stackSet?.instances ?? []).filter((i) => i.status === 'FAILED')
  return new RegionsError(error, [...new Set(failed.map((i) => i.region))])
}
