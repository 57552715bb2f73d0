/**
 * The modes against the local world: review then execute (two-step approval), noop, delete,
 * zip packages, extra image tags, and the checks that stop a push before it happens.
 */
import { beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { createZipArchive } from '../../__fixtures__/inputs.js'
import { createBucket } from '../../local/action-runner.mjs'
import {
  deploy,
  describeStackCli,
  expectSuccess,
  logOf,
  objectKeys,
  registryDigest,
  root,
  stackParameter,
  worldEnv
} from './world.js'

const bucket = 'integration-modes'
const versionedBucket = 'integration-versioned'
const unique = Date.now().toString(36)

function stackExists(stackName: string): boolean {
  try {
    return describeStackCli(stackName).StackStatus !== 'DELETE_COMPLETE'
  } catch {
    return false
  }
}

beforeAll(async () => {
  worldEnv()
  await createBucket(bucket)
  await createBucket(versionedBucket, { versioning: true })
})

describe('two-step approval: review, then execute-change-set', () => {
  const stackName = `review-${unique}`

  it('creates a change set without executing it, then executes it by id in a later run', async () => {
    expectSuccess(await deploy({ bucket, 'stack-name': stackName, 'build-id': 'review-1' }))
    const deployedImage = stackParameter(stackName, 'CodeImageURI')

    const review = await deploy({
      bucket,
      'stack-name': stackName,
      'build-id': 'review-2',
      mode: 'review'
    })
    expectSuccess(review)
    expect(review.outputs['has-changes']).toBe('true')
    expect(Number(review.outputs['changes-count'])).toBeGreaterThan(0)
    expect(review.outputs['changes-markdown']).toContain(
      '| Modify | HelloFunction | AWS::Lambda::Function |'
    )
    expect(review.summary).toContain(`Change set for ${stackName}: ready, not executed`)
    expect(logOf(review)).toContain(
      `Execute it with 'execute-change-set: ${review.outputs['change-set-id']}'`
    )
    // Nothing ran yet: the stack still holds the first image.
    expect(stackParameter(stackName, 'CodeImageURI')).toBe(deployedImage)

    const approved = await deploy({
      'stack-name': stackName,
      'execute-change-set': review.outputs['change-set-id'] as string,
      dockerfile: '',
      binary: '',
      template: ''
    })
    expectSuccess(approved)
    expect(approved.outputs['stack-status']).toBe('UPDATE_COMPLETE')
    expect(stackParameter(stackName, 'CodeImageURI')).toBe(review.outputs['image-uri-pinned'])
    expect(logOf(approved)).not.toContain('docker build')
  })

  it('refuses to execute a change set that no longer applies', async () => {
    const review = await deploy({
      bucket,
      'stack-name': stackName,
      'build-id': 'review-3',
      mode: 'review'
    })
    expectSuccess(review)
    // The stack changes in between: the reviewed change set is now out of date.
    expectSuccess(await deploy({ bucket, 'stack-name': stackName, 'build-id': 'review-4' }))
    const stale = await deploy({
      'stack-name': stackName,
      'execute-change-set': review.outputs['change-set-id'] as string,
      dockerfile: '',
      binary: '',
      template: ''
    })
    expect(stale.exitCode).toBe(1)
    expect(logOf(stale)).toMatch(/::error::.*change set/i)
    expect(stackParameter(stackName, 'CodeImageURI')).not.toBe(review.outputs['image-uri-pinned'])
  })
})

describe('noop', () => {
  it('builds and reads the label, but pushes, uploads and deploys nothing', async () => {
    const stackName = `noop-${unique}`
    const run = await deploy({
      bucket,
      'stack-name': stackName,
      'build-id': 'noop-1',
      mode: 'noop'
    })
    expectSuccess(run)
    expect(run.outputs['image-uri']).toBe(`${worldEnv().LOCAL_REGISTRY_HOST}/spartaoci:noop-1`)
    expect(run.summary).toContain(`Noop for ${stackName}`)
    expect(await registryDigest('spartaoci', 'noop-1')).toBeNull()
    expect(stackExists(stackName)).toBe(false)
    expect(objectKeys(bucket, `${stackName}/`)).toEqual([])
  })
})

describe('delete (PR preview clean-up)', () => {
  it('deletes a preview stack, and deleting it again is success', async () => {
    const stackName = `preview-${unique}`
    expectSuccess(
      await deploy({
        bucket,
        'stack-name': 'preview',
        'stack-name-suffix': unique,
        'build-id': 'pr-1'
      })
    )
    expect(stackExists(stackName)).toBe(true)

    const removed = await deploy({
      'stack-name': 'preview',
      'stack-name-suffix': unique,
      mode: 'delete',
      dockerfile: '',
      binary: '',
      template: ''
    })
    expectSuccess(removed)
    expect(removed.summary).toContain(`Deleted ${stackName}`)
    expect(stackExists(stackName)).toBe(false)

    const again = await deploy({
      'stack-name': stackName,
      mode: 'delete',
      dockerfile: '',
      binary: '',
      template: ''
    })
    expectSuccess(again)
    expect(again.outputs['stack-status']).toBe('DOES_NOT_EXIST')
  })
})

describe('zip packages', () => {
  it('uploads the package under the build id and hands its key and version to the template', async () => {
    const dir = mkdtempSync(join(root, '.zip-test-'))
    try {
      const archive = join(dir, 'function.zip')
      writeFileSync(archive, createZipArchive({ bootstrap: '#!/bin/sh\necho hello\n' }))
      const stackName = `zip-${unique}`
      const run = await deploy({
        dockerfile: '',
        binary: '',
        'create-repository': 'false',
        'code-archive': relative(root, archive),
        template: '__fixtures__/integration/zip-template.yaml',
        bucket: versionedBucket,
        'stack-name': stackName,
        'build-id': 'zip-1',
        'parameter-overrides': `ArtifactBucket=${versionedBucket}`
      })
      expectSuccess(run)
      expect(run.outputs['archive-key']).toBe(`${stackName}/zip-1/function.zip`)
      expect(run.outputs['archive-version']).not.toBe('')
      expect(stackParameter(stackName, 'CodeArtifactS3Key')).toBe(run.outputs['archive-key'])
      expect(stackParameter(stackName, 'CodeArtifactS3ObjectVersion')).toBe(
        run.outputs['archive-version']
      )
      expect(run.outputs['template-url']).toContain('?versionId=')
      expect(logOf(run)).not.toContain('docker')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('release pipelines and Lambda-ready checks', () => {
  it('pushes extra tags for the same digest', async () => {
    const stackName = `release-${unique}`
    const run = await deploy({
      bucket,
      'stack-name': stackName,
      'build-id': 'rel-1',
      'image-tags': `v1.2.3-${unique}, stable-${unique}`
    })
    expectSuccess(run)
    for (const tag of [`v1.2.3-${unique}`, `stable-${unique}`, 'rel-1']) {
      expect(await registryDigest('spartaoci', tag)).toBe(run.outputs['image-digest'])
    }
  })

  it('refuses an arm64 function for an x86_64 image before pushing anything', async () => {
    const stackName = `arch-${unique}`
    const run = await deploy({
      bucket,
      'stack-name': stackName,
      'build-id': 'arch-1',
      template: '__fixtures__/integration/arm64-template.yaml'
    })
    expect(run.exitCode).toBe(1)
    expect(logOf(run)).toMatch(/::error::.*HelloFunction.*arm64/)
    expect(await registryDigest('spartaoci', 'arch-1')).toBeNull()
    expect(stackExists(stackName)).toBe(false)
  })
})
