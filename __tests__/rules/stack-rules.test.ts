import { describe, expect, it } from '@jest/globals'
import type { Stack } from '@aws-sdk/client-cloudformation'
import { DeployError } from '../../src/base/errors.js'
import {
  blockedStackError,
  buildParameters,
  changeSetWait,
  type ChangeSetWait,
  defaultChangeSetName,
  disabledRollbackHint,
  expressWarnings,
  rollbackWasDisabled,
  isEmptyChangeSet,
  isFailedState,
  isSettled,
  missingParameters,
  overlappingChangeSet,
  parameterChanges,
  planStack,
  previousParameterKeys,
  recoveryHint,
  rollbackConfiguration,
  settledOutcome,
  stackChanged,
  type SettleEvidence,
  type ParameterChange,
  type StackPlan
} from '../../src/rules/stack-rules.js'

describe('planStack', () => {
  it.each<[string | undefined, StackPlan]>([
    [undefined, { kind: 'create' }],
    ['DELETE_COMPLETE', { kind: 'create' }],
    ['REVIEW_IN_PROGRESS', { kind: 'create' }],
    ['ROLLBACK_COMPLETE', { kind: 'recreate' }],
    ['CREATE_IN_PROGRESS', { kind: 'wait', status: 'CREATE_IN_PROGRESS' }],
    ['UPDATE_IN_PROGRESS', { kind: 'wait', status: 'UPDATE_IN_PROGRESS' }],
    [
      'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
      { kind: 'wait', status: 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS' }
    ],
    ['UPDATE_ROLLBACK_IN_PROGRESS', { kind: 'wait', status: 'UPDATE_ROLLBACK_IN_PROGRESS' }],
    [
      'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
      { kind: 'wait', status: 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS' }
    ],
    ['ROLLBACK_IN_PROGRESS', { kind: 'wait', status: 'ROLLBACK_IN_PROGRESS' }],
    ['DELETE_IN_PROGRESS', { kind: 'wait', status: 'DELETE_IN_PROGRESS' }],
    ['IMPORT_IN_PROGRESS', { kind: 'wait', status: 'IMPORT_IN_PROGRESS' }],
    ['CREATE_COMPLETE', { kind: 'update' }],
    ['UPDATE_COMPLETE', { kind: 'update' }],
    ['UPDATE_ROLLBACK_COMPLETE', { kind: 'update' }],
    ['IMPORT_COMPLETE', { kind: 'update' }],
    ['IMPORT_ROLLBACK_COMPLETE', { kind: 'update' }],
    ['CREATE_FAILED', { kind: 'blocked', status: 'CREATE_FAILED' }],
    ['ROLLBACK_FAILED', { kind: 'blocked', status: 'ROLLBACK_FAILED' }],
    ['DELETE_FAILED', { kind: 'blocked', status: 'DELETE_FAILED' }],
    ['UPDATE_ROLLBACK_FAILED', { kind: 'blocked', status: 'UPDATE_ROLLBACK_FAILED' }],
    ['IMPORT_ROLLBACK_FAILED', { kind: 'blocked', status: 'IMPORT_ROLLBACK_FAILED' }]
  ])('plans %s as %j', (status, plan) => {
    expect(planStack(status)).toEqual(plan)
  })
})

describe('planStack with DisableRollback (fix forward)', () => {
  it.each<[string, boolean, StackPlan]>([
    ['CREATE_FAILED', true, { kind: 'update' }],
    ['CREATE_FAILED', false, { kind: 'blocked', status: 'CREATE_FAILED' }],
    ['UPDATE_FAILED', true, { kind: 'update' }],
    ['UPDATE_FAILED', false, { kind: 'update' }],
    ['ROLLBACK_FAILED', true, { kind: 'blocked', status: 'ROLLBACK_FAILED' }],
    ['DELETE_FAILED', true, { kind: 'blocked', status: 'DELETE_FAILED' }],
    ['UPDATE_ROLLBACK_FAILED', true, { kind: 'blocked', status: 'UPDATE_ROLLBACK_FAILED' }],
    ['ROLLBACK_COMPLETE', true, { kind: 'recreate' }],
    ['CREATE_IN_PROGRESS', true, { kind: 'wait', status: 'CREATE_IN_PROGRESS' }]
  ])('plans %s with DisableRollback %s as %j', (status, disableRollback, plan) => {
    expect(planStack(status, disableRollback)).toEqual(plan)
  })
})

describe('isSettled', () => {
  it.each([
    ['CREATE_COMPLETE', true],
    ['UPDATE_COMPLETE', true],
    ['UPDATE_ROLLBACK_COMPLETE', true],
    ['UPDATE_ROLLBACK_FAILED', true],
    ['ROLLBACK_COMPLETE', true],
    ['DELETE_COMPLETE', true],
    ['REVIEW_IN_PROGRESS', true],
    ['CREATE_IN_PROGRESS', false],
    ['UPDATE_IN_PROGRESS', false],
    ['UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', false],
    ['UPDATE_ROLLBACK_IN_PROGRESS', false],
    ['ROLLBACK_IN_PROGRESS', false],
    ['DELETE_IN_PROGRESS', false]
  ])('%s settled: %j', (status, settled) => {
    expect(isSettled(status)).toBe(settled)
  })
})

describe('isFailedState', () => {
  it.each([
    ['CREATE_FAILED', true],
    ['ROLLBACK_COMPLETE', true],
    ['ROLLBACK_FAILED', true],
    ['DELETE_FAILED', true],
    ['UPDATE_ROLLBACK_COMPLETE', true],
    ['UPDATE_ROLLBACK_FAILED', true],
    ['IMPORT_ROLLBACK_COMPLETE', true],
    ['IMPORT_ROLLBACK_FAILED', true],
    ['CREATE_COMPLETE', false],
    ['UPDATE_COMPLETE', false],
    ['IMPORT_COMPLETE', false],
    ['UPDATE_IN_PROGRESS', false]
  ])('%s failed: %j', (status, failed) => {
    expect(isFailedState(status)).toBe(failed)
  })
})

describe('isEmptyChangeSet', () => {
  it.each<[string | undefined, string | undefined, boolean]>([
    [
      'FAILED',
      "The submitted information didn't contain changes. Submit different information to create a change set.",
      true
    ],
    ['FAILED', 'No updates are to be performed.', true],
    [
      'FAILED',
      'Template format error: Unresolved resource dependencies [Missing] in the Resources block of the template',
      false
    ],
    ['FAILED', 'Parameters: [CodeImageURI] must have values', false],
    ['FAILED', undefined, false],
    ['CREATE_COMPLETE', 'No updates are to be performed.', false],
    [undefined, undefined, false]
  ])('status %s with reason %j is empty: %j', (status, reason, empty) => {
    expect(isEmptyChangeSet(status, reason)).toBe(empty)
  })
})

describe('recoveryHint', () => {
  it('tells how to leave UPDATE_ROLLBACK_FAILED with continue-update-rollback', () => {
    expect(recoveryHint('UPDATE_ROLLBACK_FAILED')).toBe(
      'The stack is stuck in UPDATE_ROLLBACK_FAILED: fix the resources that could not be rolled back (its stack events name them), then run `aws cloudformation continue-update-rollback --stack-name <stack>` (optionally with --resources-to-skip) before deploying again.'
    )
  })

  it.each([
    ['ROLLBACK_COMPLETE', 'the next run deletes and recreates the stack'],
    ['ROLLBACK_FAILED', 'Delete the stack'],
    ['DELETE_FAILED', 'Delete the stack'],
    ['UPDATE_ROLLBACK_COMPLETE', 'The previous version of the stack is still in place.']
  ])('for %s says %j', (status, hint) => {
    expect(recoveryHint(status)).toContain(hint)
  })
})

describe('buildParameters', () => {
  const declared = ['CodeImageURI', 'Stage', 'DbPassword', 'Memory']
  const image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/svc:abc'

  it('sends the image and the overrides, UsePreviousValue only for keys the stack has', () => {
    expect(
      buildParameters(
        declared,
        new Map([
          ['CodeImageURI', image],
          ['Stage', 'prod']
        ]),
        new Set(['CodeImageURI', 'Stage', 'DbPassword'])
      )
    ).toEqual([
      { ParameterKey: 'CodeImageURI', ParameterValue: image },
      { ParameterKey: 'Stage', ParameterValue: 'prod' },
      { ParameterKey: 'DbPassword', UsePreviousValue: true }
    ])
  })

  it('omits parameters with neither override nor previous value (their Default applies)', () => {
    expect(buildParameters(declared, new Map([['CodeImageURI', image]]), new Set())).toEqual([
      { ParameterKey: 'CodeImageURI', ParameterValue: image }
    ])
  })

  it('always sends the new image even when the stack had one', () => {
    expect(buildParameters(['Image'], new Map([['Image', image]]), new Set(['Image']))).toEqual([
      { ParameterKey: 'Image', ParameterValue: image }
    ])
  })

  it('keeps an empty override value rather than the previous one', () => {
    expect(
      buildParameters(
        declared,
        new Map([
          ['CodeImageURI', image],
          ['Memory', '']
        ]),
        new Set(['Memory'])
      )
    ).toContainEqual({ ParameterKey: 'Memory', ParameterValue: '' })
  })

  it('does not send a previous parameter the new template no longer declares', () => {
    const keys = buildParameters(
      ['CodeImageURI'],
      new Map([['CodeImageURI', image]]),
      new Set(['Gone'])
    ).map((p) => p.ParameterKey)
    expect(keys).toEqual(['CodeImageURI'])
  })
})

describe('missingParameters', () => {
  const declared = {
    CodeImageURI: {},
    Stage: { Default: 'dev' },
    Empty: { Default: '' },
    DbPassword: {},
    ApiKey: {}
  }

  it('lists declared parameters without Default, value or previous value (the image counts once the action fills it)', () => {
    expect(missingParameters(declared, new Map([['CodeImageURI', '']]), new Set())).toEqual([
      'DbPassword',
      'ApiKey'
    ])
  })

  it('counts overrides and previous values as given', () => {
    expect(
      missingParameters(
        declared,
        new Map([
          ['CodeImageURI', ''],
          ['DbPassword', 'x']
        ]),
        new Set(['ApiKey'])
      )
    ).toEqual([])
  })
})

describe('defaultChangeSetName', () => {
  const VALID = /^[a-zA-Z][-a-zA-Z0-9]*$/

  it.each([
    ['hello', 'abc123', 'hello-abc123'],
    ['hello', 'feature/login', 'hello-feature-login'],
    ['hello', 'v1.2.3_rc', 'hello-v1-2-3-rc'],
    ['hello', '--x--', 'hello-x'],
    ['hello-', '-x', 'hello-x'],
    ['hello', '///', 'hello']
  ])('names stack %j, build %j %j', (stackName, buildId, expected) => {
    expect(defaultChangeSetName(stackName, buildId)).toBe(expected)
    expect(expected).toMatch(VALID)
  })

  it('gives the same name for the same stack and build id', () => {
    expect(defaultChangeSetName('hello', 'abc')).toBe(defaultChangeSetName('hello', 'abc'))
  })

  it('gives different names for different build ids', () => {
    expect(defaultChangeSetName('hello', 'abc')).not.toBe(defaultChangeSetName('hello', 'abd'))
  })

  it('hashes a long name down to 128 valid characters, stable and distinct', () => {
    const stack = 's'.repeat(100)
    const a = defaultChangeSetName(stack, 'b'.repeat(100))
    const b = defaultChangeSetName(stack, `${'b'.repeat(99)}c`)
    expect(a).toHaveLength(128)
    expect(a).toMatch(VALID)
    expect(a).toMatch(/^s{100}-b{18}-[0-9a-f]{8}$/)
    expect(b).toHaveLength(128)
    expect(a).not.toBe(b)
    expect(defaultChangeSetName(stack, 'b'.repeat(100))).toBe(a)
  })

  it('stays valid for a 128-character stack name', () => {
    const name = defaultChangeSetName('a'.repeat(128), 'x')
    expect(name).toMatch(/^a{119}-[0-9a-f]{8}$/)
    expect(name).toMatch(VALID)
  })

  it('keeps a name of exactly 128 characters as is', () => {
    const name = defaultChangeSetName('s'.repeat(100), 'b'.repeat(27))
    expect(name).toBe(`${'s'.repeat(100)}-${'b'.repeat(27)}`)
    expect(name).toHaveLength(128)
  })
})

describe('parameterChanges', () => {
  it.each<
    [
      string,
      Parameters<typeof parameterChanges>[0],
      Parameters<typeof parameterChanges>[1],
      ParameterChange[]
    ]
  >([
    [
      'nothing changed',
      [{ ParameterKey: 'A', ParameterValue: '1' }],
      [{ ParameterKey: 'A', ParameterValue: '1' }],
      []
    ],
    [
      'a changed value',
      [{ ParameterKey: 'A', ParameterValue: '1' }],
      [{ ParameterKey: 'A', ParameterValue: '2' }],
      [{ key: 'A', old: '1', new: '2' }]
    ],
    ['a new parameter', [], [{ ParameterKey: 'B', ParameterValue: 'x' }], [{ key: 'B', new: 'x' }]],
    [
      'a removed parameter',
      [{ ParameterKey: 'C', ParameterValue: 'y' }],
      [],
      [{ key: 'C', old: 'y' }]
    ],
    [
      'NoEcho values on both sides (unknown, never shown)',
      [{ ParameterKey: 'Secret', ParameterValue: '****' }],
      [{ ParameterKey: 'Secret', ParameterValue: '****' }],
      []
    ],
    [
      'a new NoEcho parameter, still masked',
      [],
      [{ ParameterKey: 'Secret', ParameterValue: '****' }],
      [{ key: 'Secret', new: '****' }]
    ],
    [
      'UsePreviousValue without a value',
      [{ ParameterKey: 'A', ParameterValue: '1' }],
      [{ ParameterKey: 'A', UsePreviousValue: true }],
      []
    ],
    [
      'an empty value replacing one',
      [{ ParameterKey: 'A', ParameterValue: '1' }],
      [{ ParameterKey: 'A', ParameterValue: '' }],
      [{ key: 'A', old: '1', new: '' }]
    ]
  ])('%s', (_, current, proposed, expected) => {
    expect(parameterChanges(current, proposed)).toEqual(expected)
  })
})

describe('rollbackConfiguration', () => {
  const ALARM_ARN = 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors'

  it('makes each alarm a trigger, with the monitoring time only when given', () => {
    expect(rollbackConfiguration([ALARM_ARN, `${ALARM_ARN}-2`])).toEqual({
      RollbackTriggers: [
        { Arn: ALARM_ARN, Type: 'AWS::CloudWatch::Alarm' },
        { Arn: `${ALARM_ARN}-2`, Type: 'AWS::CloudWatch::Alarm' }
      ]
    })
    expect(rollbackConfiguration([ALARM_ARN], 0)).toHaveProperty('MonitoringTimeInMinutes', 0)
  })
})

describe('disabledRollbackHint', () => {
  it.each([
    ['UPDATE_FAILED', 'Fix the cause and deploy again'],
    ['CREATE_FAILED', 'the next deploy updates this stack in place (fix forward)']
  ])('explains %s', (status, text) => {
    expect(disabledRollbackHint(status)).toContain(text)
    expect(disabledRollbackHint(status)).toContain('rollback-stack --stack-name <stack>')
  })

  it('has nothing to add for rolled-back states', () => {
    expect(disabledRollbackHint('UPDATE_ROLLBACK_COMPLETE')).toBeUndefined()
  })

  it.each(['UPDATE_FAILED', 'CREATE_FAILED'])(
    'never points an express stack (%s) at RollbackStack, which it cannot use',
    (status) => {
      const hint = disabledRollbackHint(status, true)
      expect(hint).toContain('fix forward')
      expect(hint).toContain('deploy the last good build again')
      expect(hint).not.toContain('rollback-stack --stack-name')
    }
  )
})

describe('rollbackWasDisabled', () => {
  it.each<[string, Partial<Stack> | undefined, boolean]>([
    ['no stack', undefined, false],
    ['DisableRollback true', { DisableRollback: true }, true],
    ['standard, rollback on', { DisableRollback: false }, false],
    [
      'express, DisableRollback left out (AWS disables)',
      { DeploymentConfig: { Mode: 'EXPRESS' } },
      true
    ],
    [
      'express, rollback on',
      { DeploymentConfig: { Mode: 'EXPRESS', DisableRollback: false } },
      false
    ],
    ['STANDARD config', { DeploymentConfig: { Mode: 'STANDARD' } }, false]
  ])('%s → %s', (_, stack, disabled) => {
    expect(rollbackWasDisabled(stack as Stack | undefined)).toBe(disabled)
  })
})

describe('expressWarnings', () => {
  it('names the custom resource types, once each, and warns about disable-rollback', () => {
    const warnings = expressWarnings(
      [
        'AWS::Lambda::Function',
        'Custom::Seed',
        'AWS::CloudFormation::CustomResource',
        'Custom::Seed'
      ],
      true
    )
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toContain('(Custom::Seed, AWS::CloudFormation::CustomResource)')
    expect(warnings[1]).toMatch(/^express with disable-rollback:/)
  })

  it('has nothing to say about a plain template with rollback on', () => {
    expect(expressWarnings(['AWS::Lambda::Function', 'AWS::IAM::Role'], false)).toEqual([])
  })
})

describe('blockedStackError', () => {
  it('names the stack and its state, and says how to get out of it', () => {
    const error = blockedStackError('hello-svc', 'UPDATE_ROLLBACK_FAILED')

    expect(error).toBeInstanceOf(DeployError)
    expect(error.message).toBe(
      `Stack hello-svc is in UPDATE_ROLLBACK_FAILED and cannot be updated. ${recoveryHint('UPDATE_ROLLBACK_FAILED')}`
    )
  })
})

describe('previousParameterKeys', () => {
  const PARAMETERS = [
    { ParameterKey: 'CodeImageURI', ParameterValue: 'old' },
    { ParameterKey: 'MemorySize', ParameterValue: '512' }
  ]

  it.each<[StackPlan, string[]]>([
    [{ kind: 'update' }, ['CodeImageURI', 'MemorySize']],
    [{ kind: 'wait', status: 'UPDATE_IN_PROGRESS' }, ['CodeImageURI', 'MemorySize']],
    [{ kind: 'create' }, []],
    [{ kind: 'recreate' }, []],
    [{ kind: 'blocked', status: 'DELETE_FAILED' }, []]
  ])('%j keeps the keys %j', (plan, keys) => {
    expect([...previousParameterKeys(plan, PARAMETERS)]).toEqual(keys)
  })

  it('has no keys for a stack without parameters', () => {
    expect(previousParameterKeys({ kind: 'update' }, undefined)).toEqual(new Set())
  })
})

describe('changeSetWait', () => {
  it.each<[string | undefined, ChangeSetWait]>([
    ['CREATE_COMPLETE', { kind: 'ready' }],
    ['FAILED', { kind: 'failed' }],
    ['CREATE_PENDING', { kind: 'wait' }],
    ['CREATE_IN_PROGRESS', { kind: 'wait' }],
    ['DELETE_PENDING', { kind: 'unexpected', status: 'DELETE_PENDING' }],
    ['DELETE_IN_PROGRESS', { kind: 'unexpected', status: 'DELETE_IN_PROGRESS' }],
    ['DELETE_COMPLETE', { kind: 'unexpected', status: 'DELETE_COMPLETE' }],
    ['DELETE_FAILED', { kind: 'unexpected', status: 'DELETE_FAILED' }],
    ['SOMETHING_NEW', { kind: 'unexpected', status: 'SOMETHING_NEW' }],
    [undefined, { kind: 'unexpected', status: 'unknown' }]
  ])('decides a change set in %s: %j', (status, decision) => {
    expect(changeSetWait(status)).toEqual(decision)
  })
})

describe('settledOutcome after our own write', () => {
  const none: SettleEvidence = { seenInProgress: false, newestEventAfterCall: false }
  it.each<[string, SettleEvidence | undefined, 'settled' | 'wait']>([
    ['UPDATE_COMPLETE', undefined, 'settled'],
    ['UPDATE_IN_PROGRESS', undefined, 'wait'],
    ['UPDATE_COMPLETE', { ...none, changedSinceCall: false }, 'wait'],
    ['UPDATE_COMPLETE', { ...none, changedSinceCall: false, newestEventAfterCall: true }, 'wait'],
    ['UPDATE_COMPLETE', { ...none, changedSinceCall: true }, 'settled'],
    ['UPDATE_COMPLETE', { ...none, seenInProgress: true, changedSinceCall: false }, 'settled'],
    ['REVIEW_IN_PROGRESS', { ...none, changedSinceCall: false }, 'wait'],
    ['UPDATE_IN_PROGRESS', { ...none, seenInProgress: true, changedSinceCall: true }, 'wait'],
    ['UPDATE_COMPLETE', none, 'wait'],
    ['UPDATE_COMPLETE', { ...none, newestEventAfterCall: true }, 'settled'],
    ['DELETE_COMPLETE', { ...none, changedSinceCall: true }, 'settled'],
    // The stack's own events said how it ended: only a read that agrees counts.
    ['REVIEW_IN_PROGRESS', { ...none, seenInProgress: true }, 'wait'],
    ['REVIEW_IN_PROGRESS', { ...none, changedSinceCall: true, newestEventAfterCall: true }, 'wait'],
    [
      'REVIEW_IN_PROGRESS',
      { ...none, seenInProgress: true, eventStatus: 'CREATE_COMPLETE' },
      'wait'
    ],
    ['CREATE_COMPLETE', { ...none, eventStatus: 'CREATE_COMPLETE' }, 'settled'],
    [
      'UPDATE_COMPLETE',
      { ...none, seenInProgress: true, eventStatus: 'UPDATE_ROLLBACK_COMPLETE' },
      'wait'
    ],
    ['UPDATE_ROLLBACK_COMPLETE', { ...none, eventStatus: 'UPDATE_ROLLBACK_COMPLETE' }, 'settled']
  ])('%s with %j is %s', (status, evidence, outcome) => {
    expect(settledOutcome(status, evidence)).toBe(outcome)
  })
})

describe('stackChanged', () => {
  const t1 = new Date('2024-05-01T12:00:00Z')
  const t2 = new Date('2024-05-01T12:05:00Z')
  const base = { StackStatus: 'UPDATE_COMPLETE' as const, LastUpdatedTime: t1, ChangeSetId: 'cs-1' }
  it.each<[string, Record<string, unknown>, boolean]>([
    ['an identical read (a stale one)', {}, false],
    ['the same time as another Date object', { LastUpdatedTime: new Date(t1.getTime()) }, false],
    ['another status', { StackStatus: 'DELETE_COMPLETE' }, true],
    ['a newer last update', { LastUpdatedTime: t2 }, true],
    ['another change set', { ChangeSetId: 'cs-2' }, true],
    ['a deletion time', { DeletionTime: t2 }, true]
  ])('%s: %s', (_name, overrides, changed) => {
    expect(stackChanged(base, { ...base, ...overrides })).toBe(changed)
  })
})

describe('overlappingChangeSet', () => {
  it.each<[string | undefined, boolean]>([
    [undefined, false],
    ['', false],
    ['arn:cs/ours', false],
    ['arn:cs/theirs', true]
  ])('stack last ran %s: %s', (lastRun, overlapping) => {
    expect(overlappingChangeSet(lastRun, 'arn:cs/ours')).toBe(overlapping)
  })
})
