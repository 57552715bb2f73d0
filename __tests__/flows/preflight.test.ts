/**
 * Preflight through run(): what fails a run before its first write.
 */
import { describe, expect, it } from '@jest/globals'
import { CreateChangeSetCommand } from '@aws-sdk/client-cloudformation'
import { GetBucketLocationCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import {
  BUCKET,
  cfn,
  commands,
  failure,
  installRunHarness,
  REGION,
  runAction,
  s3,
  useDocker
} from '../../__fixtures__/run-harness.js'

installRunHarness()

describe('preflight', () => {
  it('fails when the Docker engine is not running (checked beside the AWS reads), before any write', async () => {
    useDocker({ noDaemon: true })
    await runAction()

    expect(failure()).toMatch(
      /^The Docker engine is not running or not reachable \(docker version: Cannot connect/
    )
    expect(commands()).toEqual(['version'])
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })

  it('fails before the build and the push when the bucket is in another region', async () => {
    s3.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'eu-central-1' })
    useDocker()
    await runAction()

    expect(failure()).toBe(
      `Input 'bucket': S3 bucket '${BUCKET}' is in eu-central-1, but the stack deploys to ${REGION}; CloudFormation needs the template in the same region: use a bucket in ${REGION}, or set 'region' to eu-central-1.`
    )
    expect(process.exitCode).toBe(1)
    expect(commands()).toEqual(['version'])
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })
})
