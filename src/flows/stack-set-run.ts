/**
 * The stack set's operations, one after another (never two at once): create the stack set when
 * missing, update it (every instance) when the template or parameters changed, add the missing
 * instances; `mode: delete` removes every instance and then the stack set. Each write carries its
 * own OperationId; a cancelled step stops the running operation. The result has one row per
 * account × region and the error when an operation failed (failures beyond the tolerance).
 */
import { randomUUID } from 'node:crypto'
import type {
  CloudFormationClient,
  Parameter,
  StackInstanceSummary,
  StackSet
} from '@aws-sdk/client-cloudformation'
import {
  CreateStackInstancesCommand,
  DeleteStackInstancesCommand,
  UpdateStackSetCommand
} from '@aws-sdk/client-cloudformation'
import type { FlowContext } from '../artifacts/flow-context.js'
import {
  runOperation,
  stopOperation,
  type OperationOutcome,
  type OperationRequest
} from '../aws/cloudformation/stack-set-operations.js'
import {
  callAsField,
  createStackSet,
  deleteStackSet,
  describeStackSet,
  listOperationResults,
  listStackInstances
} from '../aws/cloudformation/stack-sets.js'
import type { WaitOptions } from '../aws/cloudformation/wait.js'
import * as log from '../base/log.js'
import type { Session } from '../base/session.js'
import type { StackSetResult } from '../report/model.js'
import { buildParameters } from '../rules/stack-rules.js'
import {
  missingInstances,
  operationFailure,
  operationIdFor,
  sdkPreferences,
  toleratedFailures,
  type InstanceKey,
  type InstanceResult,
  type StackSetSettings
} from '../rules/stack-set.js'

/** The stack set as preflight found it. */
export interface SetState {
  set: StackSet | undefined
  instances: StackInstanceSummary[]
}

/** What the operations deploy: the uploaded template, the image parameters, each region's URI. */
export interface SetRelease {
  templateUrl: string
  image: Record<string, string>
  imageUris: Map<string, string>
}

/** What an operation step needs: the client, the wait, the session, and the run's fallback id. */
interface OperationEnv {
  cfn: CloudFormationClient
  wait: WaitOptions
  session: Session
  settings: StackSetSettings
}

/** Instances as `missingInstances` reads them. */
export function instanceKeys(instances: StackInstanceSummary[]): InstanceKey[] {
  return instances.map((i) => ({
    account: i.Account ?? '',
    region: i.Region ?? '',
    ...(i.OrganizationalUnitId ? { organizationalUnitId: i.OrganizationalUnitId } : {})
  }))
}

/** One id per run for the operation ids when GITHUB_RUN_ID is not set (local runs). */
const RUN_FALLBACK = randomUUID()

/** Starts the operation (stopped if the step is cancelled meanwhile) and waits for it. */
async function operate(
  env: OperationEnv,
  step: string,
  label: string,
  api: string,
  start: OperationRequest['start']
): Promise<OperationOutcome> {
  const { cfn, settings, session } = env
  const request: OperationRequest = {
    stackSetName: settings.name,
    callAs: settings.callAs,
    operationId: operationIdFor(settings.name, step, process.env, RUN_FALLBACK),
    label,
    api,
    start
  }
  const key = `stack-set:${settings.name}`
  return runOperation(cfn, request, env.wait, {
    track: (id) =>
      session.trackStop(
        key,
        id === undefined ? undefined : () => stopOperation(cfn, settings.name, id, settings.callAs)
      )
  })
}

/** The fields every write about the set's instances shares. */
function common(settings: StackSetSettings) {
  const preferences = sdkPreferences(settings.preferences)
  return {
    StackSetName: settings.name,
    ...callAsField(settings.callAs),
    ...(preferences ? { OperationPreferences: preferences } : {})
  }
}

/** The set's parameters: the overrides and the image; declared ones not given keep their value. */
function setParameters(
  ctx: FlowContext,
  release: SetRelease,
  set: StackSet | undefined
): Parameter[] {
  const values = new Map([...ctx.inputs.parameterOverrides, ...Object.entries(release.image)])
  const previous = new Set((set?.Parameters ?? []).map((p) => p.ParameterKey ?? ''))
  return buildParameters(Object.keys(ctx.inputs.template.parameters), values, previous)
}

/** True when the template or a parameter value differs from the stack set's. */
function setChanged(ctx: FlowContext, set: StackSet, parameters: Parameter[]): boolean {
  if (set.TemplateBody !== ctx.inputs.template.body.toString('utf8')) return true
  const current = new Map((set.Parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue]))
  return parameters.some(
    (p) => !p.UsePreviousValue && current.get(p.ParameterKey) !== p.ParameterValue
  )
}

/** The set's own settings (roles, auto-deployment, managed execution) as the write takes them. */
function setOptions(ctx: FlowContext, settings: StackSetSettings) {
  const { inputs } = ctx
  return {
    Capabilities: inputs.capabilities as never,
    Tags: [
      ...inputs.tags.map((t) => ({ Key: t.key, Value: t.value })),
      { Key: 'io:sparta:buildId', Value: inputs.buildTag }
    ],
    ManagedExecution: { Active: settings.managedExecution },
    ...(settings.administrationRoleArn
      ? { AdministrationRoleARN: settings.administrationRoleArn }
      : {}),
    ...(settings.executionRoleName ? { ExecutionRoleName: settings.executionRoleName } : {})
  }
}

/**
 * Creates or updates the stack set and adds the missing instances, one operation at a time;
 * returns every instance's row and the error when an operation failed.
 */
export async function deployStackSet(
  ctx: FlowContext,
  settings: StackSetSettings,
  state: SetState,
  release: SetRelease
): Promise<StackSetResult> {
  const env: OperationEnv = {
    cfn: ctx.aws.cloudformation,
    wait: ctx.wait,
    session: ctx.session,
    settings
  }
  const parameters = setParameters(ctx, release, state.set)
  const operations: OperationOutcome[] = []
  let stackSetId = state.set?.StackSetId ?? ''
  if (state.set === undefined) {
    const created = await createStackSet(env.cfn, {
      StackSetName: settings.name,
      TemplateURL: release.templateUrl,
      Parameters: parameters,
      PermissionModel: settings.permissionModel,
      Description: `oci-stack-deploy build ${ctx.inputs.buildTag}`.slice(0, 1024),
      ...setOptions(ctx, settings),
      ...callAsField(settings.callAs),
      ...(settings.permissionModel === 'SERVICE_MANAGED'
        ? {
            AutoDeployment: {
              Enabled: settings.autoDeployment,
              ...(settings.autoDeployment ? { RetainStacksOnAccountRemoval: false } : {})
            }
          }
        : {})
    })
    stackSetId = created.stackSetId
    log.info(
      `Stack set ${settings.name}: ${created.created ? 'created' : 'already there'} (${stackSetId}).`
    )
  } else if (setChanged(ctx, state.set, parameters)) {
    operations.push(
      await operate(
        env,
        'update',
        'update the stack set and every instance',
        'UpdateStackSet',
        (id) =>
          env.cfn.send(
            new UpdateStackSetCommand({
              ...common(settings),
              TemplateURL: release.templateUrl,
              Parameters: parameters,
              ...setOptions(ctx, settings),
              OperationId: id
            })
          )
      )
    )
  }
  const existing = state.set
    ? await listStackInstances(env.cfn, settings.name, settings.callAs)
    : []
  const missing = missingInstances(settings, ctx.inputs.regions, instanceKeys(existing))
  if (missing.targets.length > 0 && !operations.some((o) => o.status !== 'SUCCEEDED')) {
    operations.push(await addInstances(env, missing))
  }
  if (operations.length === 0) {
    log.info(
      `Stack set ${settings.name} is up to date: every instance runs ${release.image['ImageDigest']}; nothing changed.`
    )
  }
  return resultOf(env, stackSetId, operations, release.imageUris)
}

/** CreateStackInstances for the missing targets × regions. */
function addInstances(
  env: OperationEnv,
  missing: { targets: string[]; regions: string[] }
): Promise<OperationOutcome> {
  const { settings } = env
  const self = settings.permissionModel === 'SELF_MANAGED'
  const label = `add instances for ${missing.targets.join(', ')} in ${missing.regions.join(', ')}`
  return operate(env, 'create-instances', label, 'CreateStackInstances', (id) =>
    env.cfn.send(
      new CreateStackInstancesCommand({
        ...common(settings),
        // Self-managed: top-level Accounts (DeploymentTargets.Accounts is for service-managed sets).
        ...(self
          ? { Accounts: missing.targets }
          : { DeploymentTargets: { OrganizationalUnitIds: missing.targets } }),
        Regions: missing.regions,
        OperationId: id
      })
    )
  )
}

/** Every instance's row (the last operation's result where one ran), and the step's error. */
async function resultOf(
  env: OperationEnv,
  stackSetId: string,
  operations: OperationOutcome[],
  imageUris: Map<string, string>
): Promise<StackSetResult> {
  const { cfn, settings } = env
  const results = new Map<string, { status: string; reason: string }>()
  const errors: string[] = []
  for (const op of operations) {
    const rows = await listOperationResults(cfn, settings.name, op.operationId, settings.callAs)
    const mapped: InstanceResult[] = rows.map((r) => ({
      account: r.Account ?? '',
      region: r.Region ?? '',
      status: r.Status ?? '',
      reason: r.StatusReason ?? '',
      stackId: ''
    }))
    for (const r of mapped) results.set(`${r.account}|${r.region}`, r)
    const failure = operationFailure(
      settings.name,
      { id: op.operationId, action: op.action, status: op.status },
      mapped
    )
    if (failure) errors.push(failure.message)
    else for (const line of toleratedFailures(mapped)) log.warning(line)
  }
  const instances = await listStackInstances(cfn, settings.name, settings.callAs)
  return {
    stackSetId,
    operations: operations.map((o) => ({ id: o.operationId, action: o.action, status: o.status })),
    instances: instances.map((i) => {
      const result = results.get(`${i.Account}|${i.Region}`)
      return {
        account: i.Account ?? '',
        region: i.Region ?? '',
        status: result?.status ?? i.StackInstanceStatus?.DetailedStatus ?? i.Status ?? '',
        reason: result?.reason || (i.StatusReason ?? ''),
        stackId: i.StackId ?? '',
        imageUri: imageUris.get(i.Region ?? '') ?? '',
        ...(i.OrganizationalUnitId ? { organizationalUnitId: i.OrganizationalUnitId } : {})
      }
    }),
    ...(errors.length > 0 ? { error: errors.join('\n') } : {})
  }
}

/**
 * mode delete: removes every instance (`retain-stacks` keeps their stacks), then the stack set.
 * A stack set that does not exist is success.
 */
export async function deleteStackSetAndInstances(
  env: OperationEnv
): Promise<StackSetResult & { existed: boolean }> {
  const { cfn, settings } = env
  const set = await describeStackSet(cfn, settings.name, settings.callAs)
  if (set === undefined) {
    log.info(`Stack set ${settings.name} does not exist: nothing to delete.`)
    return { stackSetId: '', operations: [], instances: [], existed: false }
  }
  const instances = await listStackInstances(cfn, settings.name, settings.callAs)
  const operations: OperationOutcome[] = []
  if (instances.length > 0) {
    const self = set.PermissionModel !== 'SERVICE_MANAGED'
    const unique = (values: Array<string | undefined>) => [
      ...new Set(values.filter((v): v is string => !!v))
    ]
    const regions = unique(instances.map((i) => i.Region))
    const targets = self
      ? unique(instances.map((i) => i.Account))
      : unique(instances.map((i) => i.OrganizationalUnitId))
    operations.push(
      await operate(
        env,
        'delete-instances',
        `remove ${instances.length} instances`,
        'DeleteStackInstances',
        (id) =>
          cfn.send(
            new DeleteStackInstancesCommand({
              ...common(settings),
              ...(self
                ? { Accounts: targets }
                : { DeploymentTargets: { OrganizationalUnitIds: targets } }),
              Regions: regions,
              RetainStacks: settings.retainStacks,
              OperationId: id
            })
          )
      )
    )
  }
  const result = await resultOf(env, set.StackSetId ?? '', operations, new Map())
  if (result.error === undefined) {
    await deleteStackSet(cfn, settings.name, settings.callAs)
    log.info(`Stack set ${settings.name} deleted.`)
  }
  return { ...result, existed: true }
}

export type { OperationEnv }
