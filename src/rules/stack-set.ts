/**
 * Pure StackSets decisions: the checked stack-set settings, the operation preferences as
 * CloudFormation takes them, which instances are missing, which operation states are final, the
 * operation ids that make a retried write idempotent, and which instance results fail the step.
 */
import { createHash } from 'node:crypto'
import { DeployError } from '../base/errors.js'

/**
 * The template parameters the action fills for a stack set. Each instance builds its image URI
 * from them with `${AWS::Region}`, so one set of parameters serves every account and region:
 * `!Sub ${ImageRegistryAccount}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/${ImageRepository}@${ImageDigest}`.
 */
export const STACK_SET_IMAGE_PARAMETERS = [
  'ImageRegistryAccount',
  'ImageRepository',
  'ImageDigest'
] as const

/** A count, or a percentage of the accounts in a region. */
export type CountOrPercentage = { count: number } | { percentage: number }

/** Operation preferences, as the inputs give them ('' or undefined: CloudFormation's default). */
export interface OperationPreferences {
  maxConcurrent?: CountOrPercentage
  failureTolerance?: CountOrPercentage
  regionConcurrency?: 'SEQUENTIAL' | 'PARALLEL'
  concurrencyMode?: 'STRICT_FAILURE_TOLERANCE' | 'SOFT_FAILURE_TOLERANCE'
  regionOrder: string[]
}

/** The stack-set settings, checked (`stack-set-name` and the inputs beside it). */
export interface StackSetSettings {
  name: string
  /** `accounts` given: SELF_MANAGED; `organizational-units` given: SERVICE_MANAGED. */
  permissionModel: 'SELF_MANAGED' | 'SERVICE_MANAGED'
  /** Self-managed targets (12-digit account ids). */
  accounts: string[]
  /** Service-managed targets (OU or root ids). */
  organizationalUnits: string[]
  /** Service-managed only ('' otherwise). */
  callAs: '' | 'SELF' | 'DELEGATED_ADMIN'
  preferences: OperationPreferences
  /** Self-managed only ('' = CloudFormation's default roles). */
  administrationRoleArn: string
  executionRoleName: string
  /** Service-managed only: deploy to accounts that join the OUs later. */
  autoDeployment: boolean
  /** Managed execution: non-conflicting operations run side by side, others are QUEUED. */
  managedExecution: boolean
  /** mode delete: keep the instances' stacks (they can never be re-associated). */
  retainStacks: boolean
  /** Add the cross-account pull statements to each repository's policy (else only check). */
  updateRepositoryPolicy: boolean
}

/** `StackSetOperationPreferences` as the SDK takes it (written here so rules/ stays SDK-free). */
export interface SdkOperationPreferences {
  RegionConcurrencyType?: 'SEQUENTIAL' | 'PARALLEL'
  RegionOrder?: string[]
  FailureToleranceCount?: number
  FailureTolerancePercentage?: number
  MaxConcurrentCount?: number
  MaxConcurrentPercentage?: number
  ConcurrencyMode?: 'STRICT_FAILURE_TOLERANCE' | 'SOFT_FAILURE_TOLERANCE'
}

/** The preferences as CloudFormation takes them; undefined when none was given. */
export function sdkPreferences(p: OperationPreferences): SdkOperationPreferences | undefined {
  const out: SdkOperationPreferences = {
    ...(p.regionConcurrency ? { RegionConcurrencyType: p.regionConcurrency } : {}),
    ...(p.regionOrder.length > 0 ? { RegionOrder: p.regionOrder } : {}),
    ...(p.concurrencyMode ? { ConcurrencyMode: p.concurrencyMode } : {})
  }
  if (p.failureTolerance) {
    if ('count' in p.failureTolerance) out.FailureToleranceCount = p.failureTolerance.count
    else out.FailureTolerancePercentage = p.failureTolerance.percentage
  }
  if (p.maxConcurrent) {
    if ('count' in p.maxConcurrent) out.MaxConcurrentCount = p.maxConcurrent.count
    else out.MaxConcurrentPercentage = p.maxConcurrent.percentage
  }
  return Object.keys(out).length === 0 ? undefined : out
}

/**
 * Under STRICT_FAILURE_TOLERANCE (the default) CloudFormation runs at most tolerance + 1 accounts
 * at once whatever `max-concurrent` says: the note for the log, or undefined.
 */
export function concurrencyNote(p: OperationPreferences): string | undefined {
  if (p.concurrencyMode === 'SOFT_FAILURE_TOLERANCE') return undefined
  const max = p.maxConcurrent
  const tolerance = p.failureTolerance ?? { count: 0 }
  if (max === undefined || !('count' in max) || !('count' in tolerance)) return undefined
  if (max.count <= tolerance.count + 1) return undefined
  return `'max-concurrent' is ${max.count}, but with 'concurrency-mode' STRICT_FAILURE_TOLERANCE CloudFormation runs at most 'failure-tolerance' + 1 = ${tolerance.count + 1} accounts at once: raise 'failure-tolerance' or set 'concurrency-mode: SOFT_FAILURE_TOLERANCE'.`
}

/** One existing stack instance, as ListStackInstances shows it. */
export interface InstanceKey {
  account: string
  region: string
  organizationalUnitId?: string
}

/**
 * The targets that have no instance yet in some region, and those regions: self-managed by
 * account, service-managed by OU. One CreateStackInstances covers targets × regions; pairs in
 * that grid that already have an instance are left alone by CloudFormation.
 */
export function missingInstances(
  settings: Pick<StackSetSettings, 'permissionModel' | 'accounts' | 'organizationalUnits'>,
  regions: string[],
  existing: InstanceKey[]
): { targets: string[]; regions: string[] } {
  const selfManaged = settings.permissionModel === 'SELF_MANAGED'
  const targets = selfManaged ? settings.accounts : settings.organizationalUnits
  const has = new Set(
    existing.map((i) => `${selfManaged ? i.account : (i.organizationalUnitId ?? '')}|${i.region}`)
  )
  const missing = targets.flatMap((t) =>
    regions.filter((r) => !has.has(`${t}|${r}`)).map((r) => ({ t, r }))
  )
  return {
    targets: targets.filter((t) => missing.some((m) => m.t === t)),
    regions: regions.filter((r) => missing.some((m) => m.r === r))
  }
}

/** Operation states that end an operation. */
const FINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED'])

/** True when the operation is over (SUCCEEDED, FAILED, STOPPED); RUNNING, QUEUED, STOPPING wait. */
export function isFinalOperation(status: string | undefined): boolean {
  return status !== undefined && FINAL.has(status)
}

/**
 * The OperationId of one write: the same for a retry of the same run attempt (CloudFormation then
 * recognises a call whose answer was lost), different for every step and every run attempt. The
 * pattern is `[a-zA-Z0-9][-a-zA-Z0-9]*`, at most 128 characters.
 */
export function operationIdFor(
  stackSetName: string,
  step: string,
  env: NodeJS.ProcessEnv,
  fallback: string
): string {
  const run = env['GITHUB_RUN_ID']
    ? `${env['GITHUB_RUN_ID']}-${env['GITHUB_RUN_ATTEMPT'] ?? '1'}`
    : fallback
  // The job and the step: two steps of one job on the same stack set get ids of their own.
  const job = `${env['GITHUB_JOB'] ?? ''}/${env['GITHUB_ACTION'] ?? ''}`
  const hash = createHash('sha256').update(`${stackSetName}|${job}|${run}|${step}`).digest('hex')
  return `oci-${step}-${hash.slice(0, 32)}`.replace(/[^-a-zA-Z0-9]/g, '-').slice(0, 128)
}

/** One account × region result of an operation. */
export interface InstanceResult {
  account: string
  region: string
  /** PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED. */
  status: string
  reason: string
  stackId: string
  organizationalUnitId?: string
}

/**
 * The step's error when the operation failed or stopped (failures beyond the tolerance), naming
 * the instances that failed; undefined when it succeeded (failures within the tolerance are
 * reported, not fatal).
 */
export function operationFailure(
  stackSetName: string,
  operation: { id: string; action: string; status: string },
  results: InstanceResult[]
): DeployError | undefined {
  if (operation.status === 'SUCCEEDED') return undefined
  const failed = results.filter((r) => r.status === 'FAILED' || r.status === 'CANCELLED')
  const lines = failed.map(
    (r) => `  ${r.account} ${r.region}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`
  )
  const why =
    operation.status === 'STOPPED'
      ? 'was stopped'
      : 'failed: more instances failed than the failure tolerance allows'
  return new DeployError(
    [
      `Stack set ${stackSetName}: operation ${operation.id} (${operation.action}) ${why}.`,
      ...(lines.length > 0 ? [`Instances that did not succeed:`, ...lines] : []),
      `See the instance table in the job summary, and the stack events in each account and region.`
    ].join('\n')
  )
}

/** Failures the tolerance absorbed: a warning line per instance. */
export function toleratedFailures(results: InstanceResult[]): string[] {
  return results
    .filter((r) => r.status === 'FAILED')
    .map(
      (r) =>
        `Instance ${r.account} ${r.region} failed within the failure tolerance${r.reason ? `: ${r.reason}` : ''}.`
    )
}
