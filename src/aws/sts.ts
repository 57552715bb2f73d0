/** The caller's identity (STS). */
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts'
import { awsErrorName, DeployError, errorMessage } from '../base/errors.js'

/** The account id of the credentials in use (Sparta: `AWS_ACCOUNT_ID`). */
export async function getAccountId(sts: STSClient): Promise<string> {
  try {
    const identity = await sts.send(new GetCallerIdentityCommand({}))
    if (identity.Account === undefined) throw new DeployError('STS returned no account id.')
    return identity.Account
  } catch (error) {
    const name = awsErrorName(error)
    if (name === 'CredentialsProviderError' || /credential/i.test(errorMessage(error))) {
      throw new DeployError(
        `No AWS credentials: add aws-actions/configure-aws-credentials before this step (${errorMessage(error)}).`
      )
    }
    throw new DeployError(
      `Could not read the caller's AWS identity (sts:GetCallerIdentity): ${errorMessage(error)}`
    )
  }
}
