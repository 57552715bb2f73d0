/** Pure StackSets rules: preferences, the concurrency note, missing instances, operation ids, failures. */
import { describe, expect, it } from '@jest/globals'
import {
  concurrencyNote,
  isFinalOperation,
  missingInstances,
  operationFailure,
  operationIdFor,
  sdkPreferences,
  toleratedFailures,
  type OperationPreferences
} from '../../src/rules/stack-set.js'

const A = '111111111111'
const B = '222222222222'

describe('sdkPreferences', () => {
  it('is undefined when nothing was given', () => {
    expect(sdkPreferences({ regionOrder: [] })).toBeUndefined()
  })

  it('sends a count or a percentage, never both', () => {
    expect(
      sdkPreferences({
        maxConcurrent: { percentage: 50 },
        failureTolerance: { count: 0 },
        regionConcurrency: 'PARALLEL',
        concurrencyMode: 'SOFT_FAILURE_TOLERANCE',
        regionOrder: ['us-west-2']
      })
    ).toEqual({
      MaxConcurrentPercentage: 50,
      FailureToleranceCount: 0,
      RegionConcurrencyType: 'PARALLEL',
      ConcurrencyMode: 'SOFT_FAILURE_TOLERANCE',
      RegionOrder: ['us-west-2']
    })
  })
})

describe('concurrencyNote', () => {
  it.each<[string, OperationPreferences, boolean]>([
    ['strict, more than tolerance + 1', { maxConcurrent: { count: 5 }, regionOrder: [] }, true],
    [
      'strict, tolerance + 1',
      { maxConcurrent: { count: 2 }, failureTolerance: { count: 1 }, regionOrder: [] },
      false
    ],
    [
      'soft',
      { maxConcurrent: { count: 5 }, concurrencyMode: 'SOFT_FAILURE_TOLERANCE', regionOrder: [] },
      false
    ],
    ['a percentage', { maxConcurrent: { percentage: 50 }, regionOrder: [] }, false]
  ])('%s', (_what, preferences, noted) => {
    expect(concurrencyNote(preferences) !== undefined).toBe(noted)
  })
})

describe('missingInstances', () => {
  const self = {
    permissionModel: 'SELF_MANAGED' as const,
    accounts: [A, B],
    organizationalUnits: []
  }

  it('adds every account in every region to a new stack set', () => {
    expect(missingInstances(self, ['us-east-1', 'us-west-2'], [])).toEqual({
      targets: [A, B],
      regions: ['us-east-1', 'us-west-2']
    })
  })

  it('adds only what is missing', () => {
    const existing = [
      { account: A, region: 'us-east-1' },
      { account: B, region: 'us-east-1' },
      { account: A, region: 'us-west-2' }
    ]
    expect(missingInstances(self, ['us-east-1', 'us-west-2'], existing)).toEqual({
      targets: [B],
      regions: ['us-west-2']
    })
  })

  it('matches service-managed instances by OU', () => {
    const ou = {
      permissionModel: 'SERVICE_MANAGED' as const,
      accounts: [],
      organizationalUnits: ['ou-a']
    }
    expect(
      missingInstances(
        ou,
        ['us-east-1'],
        [{ account: A, region: 'us-east-1', organizationalUnitId: 'ou-a' }]
      )
    ).toEqual({ targets: [], regions: [] })
  })
})

describe('isFinalOperation', () => {
  it.each([
    ['RUNNING', false],
    ['QUEUED', false],
    ['STOPPING', false],
    ['SUCCEEDED', true],
    ['FAILED', true],
    ['STOPPED', true]
  ])('%s → %s', (status, final) => {
    expect(isFinalOperation(status)).toBe(final)
  })
})

describe('operationIdFor', () => {
  const env = { GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '1', GITHUB_JOB: 'deploy' }

  it('is the same for a retry and differs per step and run attempt', () => {
    const id = operationIdFor('svc', 'update', env, 'x')
    expect(id).toMatch(/^oci-update-[a-f0-9]{32}$/)
    expect(operationIdFor('svc', 'update', env, 'y')).toBe(id)
    expect(operationIdFor('svc', 'create-instances', env, 'x')).not.toBe(id)
    expect(operationIdFor('svc', 'update', { ...env, GITHUB_RUN_ATTEMPT: '2' }, 'x')).not.toBe(id)
  })

  it('uses the fallback outside Actions', () => {
    expect(operationIdFor('svc', 'update', {}, 'a')).not.toBe(
      operationIdFor('svc', 'update', {}, 'b')
    )
  })
})

describe('operationFailure', () => {
  const results = [
    { account: A, region: 'us-east-1', status: 'SUCCEEDED', reason: '', stackId: '' },
    { account: B, region: 'us-east-1', status: 'FAILED', reason: 'boom', stackId: '' }
  ]

  it('is undefined for a SUCCEEDED operation; its failures are warnings', () => {
    expect(
      operationFailure('svc', { id: 'op', action: 'CREATE', status: 'SUCCEEDED' }, results)
    ).toBeUndefined()
    expect(toleratedFailures(results)).toEqual([
      `Instance ${B} us-east-1 failed within the failure tolerance: boom.`
    ])
  })

  it('names the failed instances of a FAILED operation', () => {
    expect(
      operationFailure('svc', { id: 'op', action: 'CREATE', status: 'FAILED' }, results)?.message
    ).toBe(
      [
        'Stack set svc: operation op (CREATE) failed: more instances failed than the failure tolerance allows.',
        'Instances that did not succeed:',
        `  ${B} us-east-1: FAILED (boom)`,
        'See the instance table in the job summary, and the stack events in each account and region.'
      ].join('\n')
    )
  })
})
