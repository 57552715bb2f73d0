/**
 * The stack-set inputs (`stack-set-name` selects the StackSets path): targets, operation
 * preferences, roles, auto-deployment. Every combination CloudFormation would refuse is refused
 * here, before any write, naming the input.
 */
import { InputError } from '../base/errors.js'
import { flag, list, text } from './text.js'
import { STACK_SET_INPUT_NAMES, type InputName, type RawInputs } from './raw.js'
import type {
  CountOrPercentage,
  OperationPreferences,
  StackSetSettings
} from '../rules/stack-set.js'

const NAME = /^[a-zA-Z][-a-zA-Z0-9]*$/
const ACCOUNT = /^\d{12}$/
const OU = /^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/
const ROLE_NAME = /^[a-zA-Z_0-9+=,.@-]{1,64}$/

/** Inputs that set up one stack, which a stack set has no place for. */
const STACK_ONLY_INPUTS: Array<[InputName, string]> = [
  ['stack-name', 'the instances\u2019 stacks are named by StackSets'],
  ['stack-name-suffix', 'the instances\u2019 stacks are named by StackSets'],
  ['change-set-name', 'stack sets have no change sets'],
  ['execute-change-set', 'stack sets have no change sets'],
  ['role-arn', "use 'administration-role-arn' and 'execution-role-name'"],
  ['notification-arns', 'StackSets takes no notification topics'],
  ['rollback-alarms', 'StackSets takes no rollback configuration'],
  ['termination-protection', 'StackSets cannot protect the instances\u2019 stacks'],
  ['disable-rollback', 'StackSets always rolls back a failed instance'],
  ['deployment-mode', 'StackSets has no drift-reverting deploy'],
  ['include-nested-stacks', 'stack sets have no change sets'],
  ['express', 'StackSets has no express mode'],
  ['code-archive', 'a zip package lives in one region\u2019s bucket; stack sets deploy images'],
  ['delete-image', 'the image is shared by every instance']
]

/** Of those, the true/false ones: only `true` is refused (their default is false). */
const FLAGS = new Set<InputName>([
  'termination-protection',
  'disable-rollback',
  'include-nested-stacks',
  'delete-image',
  'express'
])

/** The stack-set inputs, or undefined when `stack-set-name` is empty (the one-stack path). */
export function readStackSet(raw: RawInputs, regions: string[]): StackSetSettings | undefined {
  const name = text(raw, 'stack-set-name')
  if (name === '') {
    refuseWithoutStackSet(raw)
    return undefined
  }
  if (!NAME.test(name) || name.length > 128) {
    throw new InputError(
      `Input 'stack-set-name' ('${name}') is not a valid stack set name: start with a letter, use only letters, digits and '-', at most 128 characters.`
    )
  }
  for (const [input, why] of STACK_ONLY_INPUTS) {
    if (FLAGS.has(input) ? flag(raw, input, false) : text(raw, input) !== '') {
      throw new InputError(
        `Input '${input}' does not apply with 'stack-set-name' (${why}): remove it.`
      )
    }
  }
  const mode = text(raw, 'mode')
  if (mode === 'review') {
    throw new InputError(
      `Input 'mode' is 'review', but stack sets have no change sets to review: use 'mode: noop' to see what would change.`
    )
  }
  const targets = readTargets(raw)
  return {
    name,
    ...targets,
    ...readRoles(raw, targets.permissionModel),
    preferences: readPreferences(raw, regions),
    managedExecution: flag(raw, 'managed-execution', false),
    retainStacks: flag(raw, 'retain-stacks', false),
    updateRepositoryPolicy: readRepositoryPolicy(raw)
  }
}

/** Inputs that mean nothing without `stack-set-name` are refused rather than ignored. */
function refuseWithoutStackSet(raw: RawInputs): void {
  const given = STACK_SET_INPUT_NAMES.find((input) => text(raw, input) !== '')
  if (given !== undefined) {
    throw new InputError(
      `Input '${given}' applies to stack sets only: set 'stack-set-name', or remove '${given}'.`
    )
  }
}

/** `accounts` (self-managed) or `organizational-units` (service-managed, with `call-as`). */
function readTargets(
  raw: RawInputs
): Pick<StackSetSettings, 'permissionModel' | 'accounts' | 'organizationalUnits' | 'callAs'> {
  const accounts = list(raw, 'accounts')
  const organizationalUnits = list(raw, 'organizational-units')
  if (accounts.length > 0 && organizationalUnits.length > 0) {
    throw new InputError(
      `Inputs 'accounts' and 'organizational-units' are both set: give 'accounts' for a self-managed stack set, or 'organizational-units' for a service-managed one (AWS Organizations), not both.`
    )
  }
  if (accounts.length === 0 && organizationalUnits.length === 0) {
    throw new InputError(
      `Input 'stack-set-name' needs targets: list account ids in 'accounts' (self-managed permissions) or OU ids in 'organizational-units' (service-managed).`
    )
  }
  checkEach('accounts', accounts, ACCOUNT, 'a 12-digit account id')
  checkEach(
    'organizational-units',
    organizationalUnits,
    OU,
    'an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)'
  )
  if (organizationalUnits.length > 50) {
    throw new InputError(
      `Input 'organizational-units' lists ${organizationalUnits.length} OUs; one operation takes at most 50.`
    )
  }
  const callAs = text(raw, 'call-as')
  if (callAs !== '' && accounts.length > 0) {
    throw new InputError(
      `Input 'call-as' applies to service-managed stack sets ('organizational-units') only; a self-managed stack set ('accounts') is always called as SELF: remove 'call-as'.`
    )
  }
  if (callAs !== '' && callAs !== 'SELF' && callAs !== 'DELEGATED_ADMIN') {
    throw new InputError(`Input 'call-as' must be SELF or DELEGATED_ADMIN, got '${callAs}'.`)
  }
  return {
    permissionModel: accounts.length > 0 ? 'SELF_MANAGED' : 'SERVICE_MANAGED',
    accounts,
    organizationalUnits,
    callAs: callAs
  }
}

function checkEach(input: InputName, values: string[], pattern: RegExp, what: string): void {
  values.forEach((value, index) => {
    if (!pattern.test(value)) {
      throw new InputError(`Input '${input}' has '${value}', which is not ${what}.`)
    }
    if (values.indexOf(value) !== index) {
      throw new InputError(`Input '${input}' lists ${value} twice: list each once.`)
    }
  })
}

/** The roles of self-managed permissions and auto-deployment of service-managed ones. */
function readRoles(
  raw: RawInputs,
  model: StackSetSettings['permissionModel']
): Pick<StackSetSettings, 'administrationRoleArn' | 'executionRoleName' | 'autoDeployment'> {
  const administrationRoleArn = text(raw, 'administration-role-arn')
  const executionRoleName = text(raw, 'execution-role-name')
  const auto = text(raw, 'auto-deployment')
  if (model === 'SERVICE_MANAGED') {
    for (const input of ['administration-role-arn', 'execution-role-name'] as const) {
      if (text(raw, input) !== '') {
        throw new InputError(
          `Input '${input}' applies to self-managed stack sets ('accounts') only; with 'organizational-units' StackSets uses its service-linked roles: remove '${input}'.`
        )
      }
    }
  } else if (auto !== '') {
    throw new InputError(
      `Input 'auto-deployment' applies to service-managed stack sets ('organizational-units') only; a self-managed stack set deploys to the 'accounts' listed: remove 'auto-deployment'.`
    )
  }
  if (administrationRoleArn !== '' && !ROLE_ARN.test(administrationRoleArn)) {
    throw new InputError(
      `Input 'administration-role-arn' ('${administrationRoleArn}') is not an IAM role ARN such as arn:aws:iam::123456789012:role/AWSCloudFormationStackSetAdministrationRole.`
    )
  }
  if (executionRoleName !== '' && !ROLE_NAME.test(executionRoleName)) {
    throw new InputError(
      `Input 'execution-role-name' ('${executionRoleName}') is not a role name: 1 to 64 of letters, digits and _+=,.@- (a name, not an ARN).`
    )
  }
  return {
    administrationRoleArn,
    executionRoleName,
    autoDeployment: model === 'SERVICE_MANAGED' && flag(raw, 'auto-deployment', true)
  }
}

/** The operation preferences; `region-order` must name only regions in `regions`. */
function readPreferences(raw: RawInputs, regions: string[]): OperationPreferences {
  const regionConcurrency = oneOf(raw, 'region-concurrency', ['SEQUENTIAL', 'PARALLEL'])
  const concurrencyMode = oneOf(raw, 'concurrency-mode', [
    'STRICT_FAILURE_TOLERANCE',
    'SOFT_FAILURE_TOLERANCE'
  ])
  const regionOrder = list(raw, 'region-order')
  regionOrder.forEach((region, index) => {
    if (!regions.includes(region)) {
      throw new InputError(
        `Input 'region-order' has ${region}, which is not one of 'regions' (${regions.join(', ')}): order only the regions deployed.`
      )
    }
    if (regionOrder.indexOf(region) !== index) {
      throw new InputError(`Input 'region-order' lists ${region} twice: list each region once.`)
    }
  })
  const maxConcurrent = countOrPercentage(raw, 'max-concurrent', 1)
  const failureTolerance = countOrPercentage(raw, 'failure-tolerance', 0)
  return {
    ...(maxConcurrent ? { maxConcurrent } : {}),
    ...(failureTolerance ? { failureTolerance } : {}),
    ...(regionConcurrency ? { regionConcurrency } : {}),
    ...(concurrencyMode ? { concurrencyMode } : {}),
    regionOrder
  }
}

function oneOf<T extends string>(raw: RawInputs, input: InputName, values: T[]): T | undefined {
  const value = text(raw, input)
  if (value === '') return undefined
  if (!(values as string[]).includes(value)) {
    throw new InputError(`Input '${input}' must be ${values.join(' or ')}, got '${value}'.`)
  }
  return value as T
}

/**
 * A count (`3`) or a percentage (`25%`), never both: CloudFormation refuses a count and a
 * percentage together, so one input holds either. `min` is 1 for concurrency, 0 for tolerance.
 */
function countOrPercentage(
  raw: RawInputs,
  input: InputName,
  min: number
): CountOrPercentage | undefined {
  const value = text(raw, input)
  if (value === '') return undefined
  const match = /^(\d+)(%?)$/.exec(value)
  const number = Number(match?.[1])
  if (match === null || number < min || (match[2] === '%' && number > 100)) {
    throw new InputError(
      `Input '${input}' must be a count (a whole number, at least ${min}) or a percentage of each region's accounts (${min}% to 100%), one of the two, got '${value}'.`
    )
  }
  return match[2] === '%' ? { percentage: number } : { count: number }
}

/** `repository-policy`: `update` (add the pull statements when missing) or `check` (refuse). */
function readRepositoryPolicy(raw: RawInputs): boolean {
  const value = text(raw, 'repository-policy') || 'update'
  if (value !== 'update' && value !== 'check') {
    throw new InputError(`Input 'repository-policy' must be update or check, got '${value}'.`)
  }
  return value === 'update'
}
