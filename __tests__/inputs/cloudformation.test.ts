/**
 * cloudformation-inputs.ts: stack tags, change-set-name, notification-arns, rollback-alarms,
 * rollback-monitoring-minutes and deployment-mode, as parseInputs reads them.
 */
import { describe, expect, it } from '@jest/globals'
import { inputsParser, useWorkspace } from '../../__fixtures__/inputs.js'

const ws = useWorkspace()

const { parse, failure } = inputsParser(ws)

const topic = (n: number): string => `arn:aws:sns:eu-west-1:123456789012:deploys-${n}`
const alarm = (n: number): string => `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors-${n}`

describe('tags', () => {
  it('reads stack tags', () => {
    expect(parse({ tags: 'team=core\ncost-center=42' }).tags).toEqual([
      { key: 'team', value: 'core', line: 1 },
      { key: 'cost-center', value: '42', line: 2 }
    ])
  })

  it.each([
    ['team=core\naws:owner=me', 2, 'aws:owner'],
    [`${'k'.repeat(129)}=v`, 1, 'k'.repeat(129)],
    [`k=${'v'.repeat(257)}`, 1, 'k']
  ])('refuses the tags %#', (tags, line, key) => {
    expect(failure({ tags })).toBe(
      `Input 'tags' line ${line}: tag '${key}' is not allowed: keys are 1-128 characters not starting with 'aws:', values at most 256.`
    )
  })
})

describe('change-set-name', () => {
  it('takes a valid change set name', () => {
    expect(parse({ 'change-set-name': ' release-7 ' }).changeSetName).toBe('release-7')
    expect(parse({ 'change-set-name': `c${'1'.repeat(127)}` }).changeSetName).toHaveLength(128)
  })

  it.each(['release_7', '7-release', '-release', 'release.7', `c${'1'.repeat(128)}`])(
    'refuses the change set name %s',
    (name) => {
      expect(failure({ 'change-set-name': name })).toBe(
        `Input 'change-set-name' ('${name}') is not a valid change set name: start with a letter, use only letters, digits and '-', at most 128 characters.`
      )
    }
  )
})

describe('notification-arns', () => {
  it('reads up to 5 notification ARNs', () => {
    const five = [1, 2, 3, 4, 5].map(topic)
    expect(parse({ 'notification-arns': five.join(',\n') }).notificationArns).toEqual(five)
    expect(parse().notificationArns).toEqual([])
  })

  it.each([
    'arn:aws:sqs:eu-west-1:123456789012:queue',
    'deploys',
    'arn:aws:sns:eu-west-1:1234:deploys'
  ])('refuses the notification ARN %s', (arn) => {
    expect(failure({ 'notification-arns': `${topic(1)}\n${arn}` })).toBe(
      `Input 'notification-arns' has '${arn}', which is not an SNS topic ARN.`
    )
  })

  it('refuses more than 5 notification ARNs', () => {
    expect(failure({ 'notification-arns': [1, 2, 3, 4, 5, 6].map(topic).join('\n') })).toBe(
      "Input 'notification-arns' has 6 topics; CloudFormation takes at most 5."
    )
  })
})

describe('rollback-alarms', () => {
  it('reads up to 5 rollback alarms', () => {
    const five = [1, 2, 3, 4, 5].map(alarm)
    expect(parse({ 'rollback-alarms': five.join('\n') }).rollbackAlarms).toEqual(five)
    expect(parse().rollbackAlarms).toEqual([])
  })

  it.each([topic(1), 'errors', 'arn:aws:cloudwatch:eu-west-1:123:alarm:errors'])(
    'refuses the rollback alarm %s',
    (arn) => {
      expect(failure({ 'rollback-alarms': arn })).toBe(
        `Input 'rollback-alarms' has '${arn}', which is not a CloudWatch alarm ARN.`
      )
    }
  )

  it('refuses more than 5 rollback alarms', () => {
    expect(failure({ 'rollback-alarms': [1, 2, 3, 4, 5, 6].map(alarm).join(',') })).toBe(
      "Input 'rollback-alarms' has 6 alarms; CloudFormation takes at most 5."
    )
  })

  it.each([
    ['', 0],
    ['0', 0],
    ['30', 30],
    [' 180 ', 180]
  ])("reads rollback-monitoring-minutes '%s' as %d", (text, minutes) => {
    expect(parse({ 'rollback-monitoring-minutes': text }).rollbackMonitoringMinutes).toBe(minutes)
  })

  it.each(['181', 'x', '-1', '1.5', '30m'])('refuses rollback-monitoring-minutes %s', (text) => {
    expect(failure({ 'rollback-monitoring-minutes': text })).toBe(
      `Input 'rollback-monitoring-minutes' must be a whole number between 0 and 180, got '${text}'.`
    )
  })
})

describe('deployment-mode', () => {
  it('takes an empty deployment mode or REVERT_DRIFT', () => {
    expect(parse().deploymentMode).toBe('')
    expect(parse({ 'deployment-mode': ' REVERT_DRIFT ' }).deploymentMode).toBe('REVERT_DRIFT')
  })

  it.each(['revert_drift', 'FULL_REPLACEMENT', 'drift'])('refuses deployment-mode %s', (mode) => {
    expect(failure({ 'deployment-mode': mode })).toBe(
      `Input 'deployment-mode' must be empty or REVERT_DRIFT, got '${mode}'.`
    )
  })
})
