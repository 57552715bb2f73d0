/** Idempotency tokens: valid for CloudFormation, one per operation, stable within a run. */
import { describe, expect, it } from '@jest/globals'
import { requestToken, type TokenOperation } from '../../../src/aws/cloudformation/tokens.js'

const RUN = { GITHUB_RUN_ID: '9876543210', GITHUB_RUN_ATTEMPT: '2' }

describe('requestToken', () => {
  it.each<TokenOperation>(['create-change-set', 'execute', 'delete', 'delete-failed'])(
    'makes a %s token CloudFormation accepts, naming the run',
    (operation) => {
      const token = requestToken(operation, 'stack\nchange-set', RUN)
      expect(token).toMatch(new RegExp(`^oci-${operation}-9876543210-2-[0-9a-f]{16}$`))
      expect(token).toMatch(/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/)
    }
  )

  it('is the same for one call (the SDK retries with it) and differs per operation, subject and attempt', () => {
    const token = requestToken('execute', 's\ncs', RUN)
    expect(requestToken('execute', 's\ncs', RUN)).toBe(token)
    expect(requestToken('delete', 's\ncs', RUN)).not.toBe(token)
    expect(requestToken('execute', 's\ncs-2', RUN)).not.toBe(token)
    expect(requestToken('execute', 's\ncs', { ...RUN, GITHUB_RUN_ATTEMPT: '3' })).not.toBe(token)
  })

  it('stays within 128 valid characters whatever the environment holds', () => {
    const token = requestToken('create-change-set', 'x', {
      GITHUB_RUN_ID: '1'.repeat(300),
      GITHUB_RUN_ATTEMPT: '1/2 ü'
    })
    expect(token.length).toBeLessThanOrEqual(128)
    expect(token).toMatch(/^[a-zA-Z][-a-zA-Z0-9]*$/)
  })

  it('uses a per-process id outside Actions', () => {
    expect(requestToken('execute', 'x', {})).toMatch(
      /^oci-execute-local[0-9a-f]{8}-1-[0-9a-f]{16}$/
    )
  })
})
