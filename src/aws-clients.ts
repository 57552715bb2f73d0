/**
 * Builds the SDK clients once, all alike: region, retry mode, user agent. The SDK's own retries
 * (adaptive mode: back-off plus client-side rate limiting) cover throttling and 5xx answers.
 * `AWS_ENDPOINT_URL` is honoured by the SDK itself.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation'
import { ECRClient } from '@aws-sdk/client-ecr'
import { S3Client } from '@aws-sdk/client-s3'
import { STSClient } from '@aws-sdk/client-sts'

/** The four clients the action uses. */
export interface AwsClients {
  sts: STSClient
  ecr: ECRClient
  s3: S3Client
  cloudformation: CloudFormationClient
}

/** Attempts per call, the first included. */
export const MAX_ATTEMPTS = 8

export function createAwsClients(region: string): AwsClients {
  const config = {
    region,
    maxAttempts: MAX_ATTEMPTS,
    retryMode: 'adaptive',
    customUserAgent: 'oci-stack-deploy'
  }
  return {
    sts: new STSClient(config),
    ecr: new ECRClient(config),
    s3: new S3Client(config),
    cloudformation: new CloudFormationClient(config)
  }
}
