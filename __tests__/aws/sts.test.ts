import { beforeEach, describe, expect, it } from '@jest/globals'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { mockClient } from 'aws-sdk-client-mock'
import 'aws-sdk-client-mock-jest'
import { getAccountId } from '../../src/aws/sts.js'
import { ACCOUNT_ID, awsError } from '../../__fixtures__/aws.js'

const sts = mockClient(STSClient)
const client = new STSClient({ region: 'eu-west-1' })

beforeEach(() => {
  sts.reset()
})

describe('getAccountId', () => {
  it('returns the account of the credentials in use', async () => {
    sts.on(GetCallerIdentityCommand).resolves({
      Account: ACCOUNT_ID,
      Arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/deploy/gha`
    })
    await expect(getAccountId(client)).resolves.toBe(ACCOUNT_ID)
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1)
  })

  it.each([
    [
      'points to configure-aws-credentials when there are no credentials',
      awsError('CredentialsProviderError', 'Could not load credentials from any providers'),
      'No AWS credentials: add aws-actions/configure-aws-credentials before this step (Could not load credentials from any providers).'
    ],
    [
      'names the call when STS fails for another reason',
      awsError('AccessDenied', 'User is not authorized to perform sts:GetCallerIdentity'),
      "Could not read the caller's AWS identity (sts:GetCallerIdentity): User is not authorized to perform sts:GetCallerIdentity"
    ]
  ])('%s', async (_title, error, message) => {
    sts.on(GetCallerIdentityCommand).rejects(error)
    await expect(getAccountId(client)).rejects.toThrow(message)
  })

  it('fails when STS answers without an account id', async () => {
    sts.on(GetCallerIdentityCommand).resolves({})
    await expect(getAccountId(client)).rejects.toThrow(
      "Could not read the caller's AWS identity (sts:GetCallerIdentity): STS returned no account id."
    )
  })
})
