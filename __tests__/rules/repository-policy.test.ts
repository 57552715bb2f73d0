/** The cross-account pull statements: which accounts lack them, and the policy with them added. */
import { describe, expect, it } from '@jest/globals'
import {
  accountsWithoutPull,
  pullStatements,
  withPullStatements
} from '../../src/rules/repository-policy.js'

const A = '111111111111'
const B = '222222222222'
const REGION = 'us-west-2'

describe('accountsWithoutPull', () => {
  it('lists every account when there is no policy', () => {
    expect(accountsWithoutPull(undefined, REGION, [A, B])).toEqual([A, B])
  })

  it('accepts the statements it writes, and nothing less', () => {
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: pullStatements(REGION, [A]) })
    expect(accountsWithoutPull(policy, REGION, [A, B])).toEqual([B])
    // Another region's Lambda condition does not count.
    expect(accountsWithoutPull(policy, 'us-east-1', [A])).toEqual([A])
  })

  it('needs the Lambda statement too', () => {
    const policy = JSON.stringify({ Statement: [pullStatements(REGION, [A])[0]] })
    expect(accountsWithoutPull(policy, REGION, [A])).toEqual([A])
  })
})

describe('withPullStatements', () => {
  it('keeps other statements and merges the accounts named before', () => {
    const other = { Sid: 'Mine', Effect: 'Allow', Principal: '*', Action: 'ecr:ListImages' }
    const before = JSON.stringify({ Statement: [other, ...pullStatements(REGION, [B])] })
    const after = JSON.parse(withPullStatements(before, REGION, [A])) as { Statement: unknown[] }
    expect(after.Statement).toEqual([other, ...pullStatements(REGION, [A, B])])
  })
})
