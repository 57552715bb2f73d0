/**
 * stack-set.ts: the stack-set inputs, and every combination CloudFormation would refuse, refused
 * before any write with a message that names the input.
 */
import { describe, expect, it } from '@jest/globals'
import {
  createRawInputs,
  inputError,
  inputsParser,
  useWorkspace
} from '../../__fixtures__/inputs.js'
import { STACK_SET_TEMPLATE } from '../../__fixtures__/stack-sets.js'
import type { RawInputs } from '../../src/inputs/raw.js'
import { readStackSet } from '../../src/inputs/stack-set.js'

const REGIONS = ['us-east-1', 'us-west-2']

/** Raw inputs of a self-managed stack set; `overrides` replace single inputs. */
function raw(overrides: Partial<RawInputs> = {}): RawInputs {
  return createRawInputs({
    'stack-name': '',
    'stack-set-name': 'hello-org',
    accounts: '123456789012, 210987654321',
    ...overrides
  })
}

const OU = 'ou-ab12-cdefgh34'

describe('readStackSet', () => {
  it('is undefined without stack-set-name', () => {
    expect(readStackSet(createRawInputs(), REGIONS)).toBeUndefined()
  })

  it('reads a self-managed stack set with its preferences', () => {
    expect(
      readStackSet(
        raw({
          'max-concurrent': '25%',
          'failure-tolerance': '1',
          'region-concurrency': 'PARALLEL',
          'concurrency-mode': 'SOFT_FAILURE_TOLERANCE',
          'region-order': 'us-west-2\nus-east-1',
          'administration-role-arn': 'arn:aws:iam::123456789012:role/StackSetAdmin',
          'execution-role-name': 'StackSetExec'
        }),
        REGIONS
      )
    ).toEqual({
      name: 'hello-org',
      permissionModel: 'SELF_MANAGED',
      accounts: ['123456789012', '210987654321'],
      organizationalUnits: [],
      callAs: '',
      administrationRoleArn: 'arn:aws:iam::123456789012:role/StackSetAdmin',
      executionRoleName: 'StackSetExec',
      autoDeployment: false,
      preferences: {
        maxConcurrent: { percentage: 25 },
        failureTolerance: { count: 1 },
        regionConcurrency: 'PARALLEL',
        concurrencyMode: 'SOFT_FAILURE_TOLERANCE',
        regionOrder: ['us-west-2', 'us-east-1']
      },
      managedExecution: false,
      retainStacks: false,
      updateRepositoryPolicy: true
    })
  })

  it('reads a service-managed stack set: auto-deployment on by default', () => {
    expect(
      readStackSet(
        raw({ accounts: '', 'organizational-units': OU, 'call-as': 'DELEGATED_ADMIN' }),
        REGIONS
      )
    ).toMatchObject({
      permissionModel: 'SERVICE_MANAGED',
      organizationalUnits: [OU],
      callAs: 'DELEGATED_ADMIN',
      autoDeployment: true
    })
  })

  it.each<[string, Partial<RawInputs>, string]>([
    [
      'a bad name',
      { 'stack-set-name': '1hello' },
      "Input 'stack-set-name' ('1hello') is not a valid stack set name: start with a letter, use only letters, digits and '-', at most 128 characters."
    ],
    [
      'no targets',
      { accounts: '' },
      "Input 'stack-set-name' needs targets: list account ids in 'accounts' (self-managed permissions) or OU ids in 'organizational-units' (service-managed)."
    ],
    [
      'accounts and OUs',
      { 'organizational-units': OU },
      "Inputs 'accounts' and 'organizational-units' are both set: give 'accounts' for a self-managed stack set, or 'organizational-units' for a service-managed one (AWS Organizations), not both."
    ],
    [
      'a bad account',
      { accounts: '12345' },
      "Input 'accounts' has '12345', which is not a 12-digit account id."
    ],
    [
      'an account twice',
      { accounts: '123456789012,123456789012' },
      "Input 'accounts' lists 123456789012 twice: list each once."
    ],
    [
      'a bad OU',
      { accounts: '', 'organizational-units': 'ou-x' },
      "Input 'organizational-units' has 'ou-x', which is not an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)."
    ],
    [
      'call-as with self-managed',
      { 'call-as': 'SELF' },
      "Input 'call-as' applies to service-managed stack sets ('organizational-units') only; a self-managed stack set ('accounts') is always called as SELF: remove 'call-as'."
    ],
    [
      'a bad call-as',
      { accounts: '', 'organizational-units': OU, 'call-as': 'ADMIN' },
      "Input 'call-as' must be SELF or DELEGATED_ADMIN, got 'ADMIN'."
    ],
    [
      'auto-deployment with self-managed',
      { 'auto-deployment': 'true' },
      "Input 'auto-deployment' applies to service-managed stack sets ('organizational-units') only; a self-managed stack set deploys to the 'accounts' listed: remove 'auto-deployment'."
    ],
    [
      'an administration role with service-managed',
      {
        accounts: '',
        'organizational-units': OU,
        'administration-role-arn': 'arn:aws:iam::123456789012:role/A'
      },
      "Input 'administration-role-arn' applies to self-managed stack sets ('accounts') only; with 'organizational-units' StackSets uses its service-linked roles: remove 'administration-role-arn'."
    ],
    [
      'an execution role with service-managed',
      { accounts: '', 'organizational-units': OU, 'execution-role-name': 'Exec' },
      "Input 'execution-role-name' applies to self-managed stack sets ('accounts') only; with 'organizational-units' StackSets uses its service-linked roles: remove 'execution-role-name'."
    ],
    [
      'an execution role ARN instead of a name',
      { 'execution-role-name': 'arn:aws:iam::123456789012:role/Exec' },
      "Input 'execution-role-name' ('arn:aws:iam::123456789012:role/Exec') is not a role name: 1 to 64 of letters, digits and _+=,.@- (a name, not an ARN)."
    ],
    [
      'a count and a percentage together',
      { 'max-concurrent': '2,50%' },
      "Input 'max-concurrent' must be a count (a whole number, at least 1) or a percentage of each region's accounts (1% to 100%), one of the two, got '2,50%'."
    ],
    [
      'no concurrency',
      { 'max-concurrent': '0' },
      "Input 'max-concurrent' must be a count (a whole number, at least 1) or a percentage of each region's accounts (1% to 100%), one of the two, got '0'."
    ],
    [
      'a tolerance over 100%',
      { 'failure-tolerance': '101%' },
      "Input 'failure-tolerance' must be a count (a whole number, at least 0) or a percentage of each region's accounts (0% to 100%), one of the two, got '101%'."
    ],
    [
      'a region order outside regions',
      { 'region-order': 'eu-west-1' },
      "Input 'region-order' has eu-west-1, which is not one of 'regions' (us-east-1, us-west-2): order only the regions deployed."
    ],
    [
      'a bad region concurrency',
      { 'region-concurrency': 'ALL' },
      "Input 'region-concurrency' must be SEQUENTIAL or PARALLEL, got 'ALL'."
    ],
    [
      'stack-name beside it',
      { 'stack-name': 'hello' },
      "Input 'stack-name' does not apply with 'stack-set-name' (the instances\u2019 stacks are named by StackSets): remove it."
    ],
    [
      'termination protection',
      { 'termination-protection': 'true' },
      "Input 'termination-protection' does not apply with 'stack-set-name' (StackSets cannot protect the instances\u2019 stacks): remove it."
    ],
    [
      'review mode',
      { mode: 'review' },
      "Input 'mode' is 'review', but stack sets have no change sets to review: use 'mode: noop' to see what would change."
    ],
    [
      'a bad repository-policy',
      { 'repository-policy': 'add' },
      "Input 'repository-policy' must be update or check, got 'add'."
    ]
  ])('refuses %s', (_what, overrides, message) => {
    expect(inputError(() => readStackSet(raw(overrides), REGIONS))).toBe(message)
  })

  it('refuses stack-set inputs without stack-set-name', () => {
    expect(
      inputError(() => readStackSet(createRawInputs({ accounts: '123456789012' }), REGIONS))
    ).toBe(
      "Input 'accounts' applies to stack sets only: set 'stack-set-name', or remove 'accounts'."
    )
  })

  it('keeps termination-protection: false (its default) beside it', () => {
    expect(readStackSet(raw({ 'termination-protection': 'false' }), REGIONS)).toBeDefined()
  })
})

describe('parseInputs with stack-set-name', () => {
  const ws = useWorkspace()
  const { parse, failure } = inputsParser(ws)

  it('names the stack after the stack set and needs one bucket for every region', () => {
    ws.write('service/template.yaml', STACK_SET_TEMPLATE)
    const inputs = parse({
      'stack-name': '',
      'stack-set-name': 'hello-org',
      accounts: '123456789012',
      regions: 'us-east-1,us-west-2',
      region: ''
    })
    expect(inputs).toMatchObject({
      stackName: 'hello-org',
      regions: REGIONS,
      bucket: 'my-artifacts'
    })
    expect(inputs.stackSet?.accounts).toEqual(['123456789012'])
  })

  it('refuses a template that does not build the URI from the image parameters', () => {
    expect(
      failure({ 'stack-name': '', 'stack-set-name': 'hello-org', accounts: '123456789012' })
    ).toContain(
      "Input 'stack-set-name': the template service/template.yaml does not declare ImageRegistryAccount, ImageRepository, ImageDigest."
    )
  })

  it('refuses an override of an image parameter the action fills', () => {
    ws.write('service/template.yaml', STACK_SET_TEMPLATE)
    expect(
      failure({
        'stack-name': '',
        'stack-set-name': 'hello-org',
        accounts: '123456789012',
        'parameter-overrides': 'ImageDigest=sha256:00'
      })
    ).toBe(
      "Input 'parameter-overrides' sets 'ImageDigest', the image parameter the action fills with the pushed image URI: remove it."
    )
  })
})
