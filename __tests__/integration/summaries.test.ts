/**
 * What runs leave for a person, read from the files the bundled action wrote in the local world:
 * the job summary (GITHUB_STEP_SUMMARY, checked element by element), the outputs of a run that
 * failed after the push, and the log lines that must say one true thing.
 */
import { describe, expect, it } from '@jest/globals'
import { writeFileSync } from 'node:fs'
import { type ActionRun } from '../../local/action-runner.mjs'
import { htmlProblems } from '../../__fixtures__/html-check.js'
import { deploy, expectSuccess, logOf, useWorld, worldEnv } from './world.js'

const bucket = 'summaries-artifacts'
const unique = Date.now().toString(36)

useWorld(bucket)

/** Debugging aid: SUMMARIES_DUMP=<dir> keeps each run's log and summary. */
function dump(name: string, run: { stdout: string; summary: string }): void {
  const dir = process.env['SUMMARIES_DUMP']
  if (!dir) return
  writeFileSync(`${dir}/${name}.log`, run.stdout)
  writeFileSync(`${dir}/${name}.html`, run.summary)
}

/**
 * The run opens with the first phase's group and none of the action's own lines is blank (docker's
 * output, from the first `[command]` on, is docker's to format).
 */
function expectCleanStart(run: { stdout: string }): void {
  const lines = run.stdout.split('\n')
  expect(lines[0]).toBe('::group::Preflight checks')
  const ours = lines.slice(
    0,
    lines.findIndex((line) => line.startsWith('[command]'))
  )
  expect(ours.filter((line) => line.trim() === '')).toEqual([])
}

/**
 * Runs the action with `inputs` and expects it to succeed with a well-formed summary; its log and
 * summary are kept as `name` (see `dump`).
 */
async function deployWithSummary(name: string, inputs: Record<string, string>): Promise<ActionRun> {
  const run = await deploy(inputs)
  dump(name, run)
  expectSuccess(run)
  expect(htmlProblems(run.summary)).toEqual([])
  return run
}

describe('the summaries and the log of a stack from create to delete', () => {
  const stackName = `summaries-${unique}`
  /** The digest the stack runs after the redeploy; the delete names it. */
  let digest = ''
  /** Deletes the stack and its image (no build inputs). */
  const DELETE_WITH_IMAGE = {
    'stack-name': stackName,
    mode: 'delete',
    'delete-image': 'true',
    dockerfile: '',
    binary: '',
    template: ''
  }

  it('creates: a well-formed summary with the image, the stack and its outputs', async () => {
    const run = await deployWithSummary('create', {
      bucket,
      'stack-name': stackName,
      'build-id': 'sum-1'
    })
    expect(run.summary).toContain(`<h2>Deployed ${stackName}: CREATE_COMPLETE</h2>`)
    expect(run.summary).toContain(`<tr><td>Image</td><td><code>${run.outputs['image-uri']}</code>`)
    // The stack's Stage output has no Description: its cell is empty and closed.
    expect(run.summary).toContain('<td><code>dev</code></td><td></td></tr>')
    expectCleanStart(run)
    expect(logOf(run)).toContain(
      `Uploaded s3://${bucket}/${stackName}/sum-1/${stackName}-cftemplate.yaml`
    )
  })

  it('updates with a new build: a well-formed summary with the change and the parameter change', async () => {
    const run = await deployWithSummary('update', {
      bucket,
      'stack-name': stackName,
      'build-id': 'sum-2'
    })
    expect(run.summary).toContain(`<h2>Deployed ${stackName}: UPDATE_COMPLETE</h2>`)
    expect(run.summary).toContain('<h3>Parameter changes</h3>')
    expect(run.summary).toMatch(/<tr><td>CodeImageURI<\/td><td><code>[^<]+<\/code><\/td><td><code>/)
  })

  it('redeploys the same build: no changes, and the log does not claim an upload', async () => {
    const run = await deployWithSummary('redeploy', {
      bucket,
      'stack-name': stackName,
      'build-id': 'sum-2'
    })
    expect(run.summary).toContain(`<h2>Deployed ${stackName}: no changes</h2>`)
    expect(run.summary).toContain('None: the stack already matched.')
    digest = run.outputs['image-digest'] ?? ''
    const key = `s3://${bucket}/${stackName}/sum-2/${stackName}-cftemplate.yaml`
    expect(logOf(run)).toContain(`${key} already holds these bytes; not uploaded again.`)
    expect(logOf(run)).not.toMatch(/Uploaded (template|s3:)/)
    expectCleanStart(run)
  })

  it('deletes with delete-image: the summary and the log say the image was deleted', async () => {
    const run = await deployWithSummary('delete', DELETE_WITH_IMAGE)
    expect(run.summary).toContain(`<h2>Deleted ${stackName}: DELETE_COMPLETE</h2>`)
    expect(run.summary).not.toContain('<td>Template</td>')
    // The world's ECR knows the pushed image (the registries' pushes are mirrored into moto).
    const image = `${worldEnv().LOCAL_REGISTRY_HOST}/spartaoci@${digest}`
    expect(run.outputs['image-uri']).toBe(image)
    expect(run.summary).toContain(
      `<tr><td>Image</td><td>deleted from ECR: <code>${image}</code></td></tr>`
    )
    expect(logOf(run)).toContain(`Image: deleted ${image} from ECR.`)
  })

  it('deleting again: the image is named as not needed, never left unsaid', async () => {
    const run = await deployWithSummary('delete-again', DELETE_WITH_IMAGE)
    expect(logOf(run)).toMatch(/^Image: none deleted \(no stack/m)
  })
})

describe('a deploy that fails after the push', () => {
  const stackName = `failing-${unique}`

  it('leaves the outputs it knew and a failure summary naming the phase and the resource', async () => {
    const run = await deploy({
      bucket,
      'stack-name': stackName,
      'build-id': 'fail-1',
      template: '__fixtures__/integration/failing-template.yaml'
    })
    expect(run.exitCode).toBe(1)
    expect(logOf(run)).toContain(`::error::Stack ${stackName} ended in ROLLBACK_COMPLETE`)

    const { LOCAL_REGISTRY_HOST, LOCAL_ACCOUNT_ID } = worldEnv()
    expect(run.outputs['image-uri']).toBe(`${LOCAL_REGISTRY_HOST}/spartaoci:fail-1`)
    expect(run.outputs['image-digest']).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(run.outputs['template-url']).toBe(
      `https://${bucket}.s3.us-east-1.amazonaws.com/${stackName}/fail-1/${stackName}-cftemplate.yaml`
    )
    expect(run.outputs['stack-id']).toContain(`:${LOCAL_ACCOUNT_ID}:stack/${stackName}/`)
    expect(run.outputs['change-set-id']).toContain(':changeSet/')
    expect(run.outputs['stack-status']).toBeUndefined()

    // A sample for the README's "When a deploy fails", when asked for.
    const sample = process.env['FAILURE_SUMMARY_SAMPLE']
    if (sample) writeFileSync(sample, run.summary)

    expect(htmlProblems(run.summary)).toEqual([])
    expect(run.summary).toContain(`<h2>Deploy of ${stackName} failed: Deploy stack</h2>`)
    expect(run.summary).toContain('<tr><td>Failed phase</td><td>Deploy stack</td></tr>')
    expect(run.summary).toContain('<tr><td>Stack status now</td><td>ROLLBACK_COMPLETE</td></tr>')
    expect(run.summary).toContain('<h3>Failed resources</h3>')
    expect(run.summary).toMatch(/<td>CREATE_FAILED<\/td><td>[^<]*InvalidBucketName/)
    expect(run.summary).toContain(
      `<tr><td>Image</td><td><code>${run.outputs['image-uri']}</code></td></tr>`
    )
    expect(run.summary).toContain(
      `<tr><td>Stack id</td><td><code>${run.outputs['stack-id']}</code>`
    )
    expect(run.summary).toContain('<h3>What to do next</h3>')
    expect(run.summary).toContain('ROLLBACK_COMPLETE')
  })
})
