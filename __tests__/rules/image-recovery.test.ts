/** The recovery a failure gets when the image a stack needs is gone. */
import { describe, expect, it } from '@jest/globals'
import { deletedImageRecovery, missingImage } from '../../src/rules/image-recovery.js'

const DIGEST = `sha256:${'1e'.repeat(32)}`
const URI = `123456789012.dkr.ecr.us-east-1.amazonaws.com/svc@${DIGEST}`
const ROLLBACK = {
  logicalId: 'Fn',
  type: 'AWS::Lambda::Function',
  status: 'UPDATE_FAILED',
  reason: `Resource handler returned message: "Source image ${URI} does not exist. Provide a valid source image. (Service: Lambda, Status Code: 400)"`
}

describe('missingImage', () => {
  it.each([
    [ROLLBACK.reason, URI],
    ['The function is trying to use a deleted image.', undefined],
    ['Lambda cannot initialize the provided container image. Verify the image.', undefined],
    ['StateReasonCode: ImageDeleted', undefined]
  ])('reads %s', (reason, image) => {
    expect(missingImage([{ logicalId: 'Fn', reason }])).toEqual({
      logicalIds: ['Fn'],
      ...(image ? { image, digest: DIGEST } : {})
    })
  })

  it('ignores other failures', () => {
    expect(
      missingImage([{ logicalId: 'B', reason: 'Bucket my-bucket does not exist' }])
    ).toBeUndefined()
    expect(missingImage([{ logicalId: 'B' }])).toBeUndefined()
  })
})

describe('deletedImageRecovery', () => {
  it('names the digest, the copy, and continue-update-rollback with the resources to skip', () => {
    const steps = deletedImageRecovery(
      'svc',
      'UPDATE_ROLLBACK_FAILED',
      [ROLLBACK],
      [`210987654321.dkr.ecr.eu-west-1.amazonaws.com/svc@${DIGEST}`]
    )
    expect(steps).toEqual([
      `The image ${URI} is gone from ECR (a lifecycle rule, or a delete): Fn could not use it. 'protect-images: true' keeps it next time (docs/RELEASE.md#keeping-images-for-rollback).`,
      `A copy may still be at: 210987654321.dkr.ecr.eu-west-1.amazonaws.com/svc@${DIGEST}. Copy it back under its digest, e.g. \`crane copy <copy>@${DIGEST} 123456789012.dkr.ecr.us-east-1.amazonaws.com/svc:restored\` (crane and regctl keep the digest; docker pull/push may not).`,
      'Then run `aws cloudformation continue-update-rollback --stack-name svc`. If the image cannot be put back: `aws cloudformation continue-update-rollback --stack-name svc --resources-to-skip Fn` (the skipped resources no longer match the template: deploy again right after).'
    ])
  })

  it('leaves the next step to the caller after a failed update that rolled back', () => {
    const steps = deletedImageRecovery('svc', 'UPDATE_ROLLBACK_COMPLETE', [
      { logicalId: 'Fn', reason: 'The function is trying to use a deleted image.' }
    ])
    expect(steps[0]).toContain('The image is gone from ECR')
    expect(steps[1]).toContain('Find a copy of that exact digest')
    expect(steps).toHaveLength(2)
  })

  it('is empty when no image is missing', () => {
    expect(
      deletedImageRecovery('svc', 'UPDATE_ROLLBACK_FAILED', [{ logicalId: 'X', reason: 'quota' }])
    ).toEqual([])
  })
})
