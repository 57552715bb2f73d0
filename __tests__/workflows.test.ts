/**
 * The workflows we ship (examples/workflows/*.yml, which docs/WORKFLOWS.md explains) and the repository's own
 * (.github/workflows/*.yml): actionlint finds what GitHub would reject, and a schema check finds what actionlint
 * cannot know about this action: a `with:` key it does not declare, an output it never sets.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from '@jest/globals'
import { parse, parseDocument } from 'yaml'

const ACTIONLINT = join(
  process.cwd(),
  'node_modules',
  '@tktco',
  'node-actionlint',
  'bin',
  'node-actionlint.js'
)

const action = parse(readFileSync('action.yml', 'utf8')) as {
  inputs: Record<string, unknown>
  outputs: Record<string, unknown>
}
/** The example workflows deploy examples/hello, whose stack outputs become step outputs under their own keys. */
const stackOutputs = Object.keys(
  (
    parseDocument(readFileSync('examples/hello/template.yaml', 'utf8')).toJS() as {
      Outputs: object
    }
  ).Outputs
)

const workflowFiles = ['examples/workflows', '.github/workflows'].flatMap((dir) =>
  readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => join(dir, name))
)

type Mapping = Record<string, unknown>
const isMapping = (value: unknown): value is Mapping =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** A step that runs this action: the repository itself, or the published action at any version. */
function isThisAction(uses: unknown): boolean {
  return typeof uses === 'string' && (uses === './' || /(^|\/)oci-stack-deploy@/.test(uses))
}

/** Every string anywhere inside a value (expressions live in strings). */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap(strings)
  if (isMapping(value)) return Object.values(value).flatMap(strings)
  return []
}

/** `needs:` as a list: one job id, or several. */
function list(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : []
}

/**
 * The workflow-schema essentials plus this action's contract. Returns one line per problem, empty when the
 * workflow is sound.
 */
function checkWorkflow(text: string): string[] {
  const problems: string[] = []
  const workflow: unknown = parse(text)
  if (!isMapping(workflow)) return ['the workflow is not a mapping']
  if (workflow['on'] === undefined) problems.push("no 'on': the workflow has no trigger")
  const jobs = workflow['jobs']
  if (!isMapping(jobs) || Object.keys(jobs).length === 0) return [...problems, "no 'jobs'"]

  for (const [jobId, job] of Object.entries(jobs)) {
    if (!isMapping(job)) {
      problems.push(`job ${jobId} is not a mapping`)
      continue
    }
    if (job['runs-on'] === undefined) problems.push(`job ${jobId} has no 'runs-on'`)
    const needs = list(job['needs'])
    for (const need of needs)
      if (!(need in jobs))
        problems.push(`job ${jobId} needs '${need}', which is not a job of this workflow`)

    const steps = job['steps']
    if (!Array.isArray(steps) || steps.length === 0) {
      problems.push(`job ${jobId} has no steps`)
      continue
    }
    const ourSteps = new Set<string>()
    const stepIds = new Set<string>()
    steps.forEach((step: unknown, index) => {
      const where = `job ${jobId} step ${index + 1}`
      if (!isMapping(step)) {
        problems.push(`${where} is not a mapping`)
        return
      }
      if (('uses' in step ? 1 : 0) + ('run' in step ? 1 : 0) !== 1)
        problems.push(`${where} must have exactly one of 'uses' and 'run'`)
      if (typeof step['id'] === 'string') stepIds.add(step['id'])
      if (!isThisAction(step['uses'])) return
      if (typeof step['id'] === 'string') ourSteps.add(step['id'])
      const withKeys = isMapping(step['with']) ? Object.keys(step['with']) : []
      for (const key of withKeys)
        if (!(key in action.inputs))
          problems.push(`${where}: input '${key}' is not declared in action.yml`)
    })

    for (const text of strings(job)) {
      for (const [, stepId, output] of text.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        if (!stepIds.has(stepId!))
          problems.push(`job ${jobId}: steps.${stepId} is not a step of this job`)
        else if (
          ourSteps.has(stepId!) &&
          !(output! in action.outputs) &&
          !stackOutputs.includes(output!)
        )
          problems.push(
            `job ${jobId}: steps.${stepId}.outputs.${output} is neither an output of action.yml nor a stack output of examples/hello`
          )
      }
      for (const [, needId, output] of text.matchAll(/needs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        const needed = jobs[needId!]
        if (!needs.includes(needId!))
          problems.push(`job ${jobId}: needs.${needId} is not in its 'needs'`)
        else if (
          !isMapping(needed) ||
          !isMapping(needed['outputs']) ||
          !(output! in needed['outputs'])
        )
          problems.push(
            `job ${jobId}: needs.${needId}.outputs.${output} is not an output of job ${needId}`
          )
      }
    }
  }
  return problems
}

const folders: string[] = []
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true })
})

/** actionlint (compiled to WebAssembly, so it runs offline) over one glob. */
function actionlint(pattern: string): { status: number | null; stdout: string } {
  const result = spawnSync(process.execPath, [ACTIONLINT, pattern], {
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' }
  })
  return { status: result.status, stdout: result.stdout + result.stderr }
}

const GOOD = `
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    outputs:
      image-uri: \${{ steps.deploy.outputs.image-uri }}
    steps:
      - id: deploy
        uses: your-org/oci-stack-deploy@v1
        with:
          stack-name: hello
  after:
    needs: deploy
    runs-on: ubuntu-latest
    steps:
      - run: echo "\${{ needs.deploy.outputs.image-uri }}"
`

describe('the shipped workflows', () => {
  it('include the examples docs/WORKFLOWS.md links and the repository workflows', () => {
    expect(workflowFiles).toEqual(
      expect.arrayContaining([
        'examples/workflows/deploy.yml',
        'examples/workflows/release.yml',
        'examples/workflows/preview.yml',
        'examples/workflows/two-step-approval.yml',
        'examples/workflows/matrix-regions.yml',
        'examples/workflows/image-uri-to-later-job.yml',
        '.github/workflows/ci.yml',
        '.github/workflows/check-dist.yml'
      ])
    )
    const docs = readFileSync('docs/WORKFLOWS.md', 'utf8')
    for (const file of workflowFiles.filter(
      (f) => f.startsWith('examples/') && !f.endsWith('/deploy.yml')
    ))
      expect(docs).toContain(`(../${file})`)
  })

  it.each(workflowFiles)('%s passes the schema and action contract check', (file) => {
    expect(checkWorkflow(readFileSync(file, 'utf8'))).toEqual([])
  })

  it('the README documents every input and output of action.yml', () => {
    const readme = readFileSync('README.md', 'utf8')
    const undocumented = [...Object.keys(action.inputs), ...Object.keys(action.outputs)].filter(
      (name) => !new RegExp(`^\\| \`${name}\`|^\\| \`[^|]*, \`${name}\``, 'm').test(readme)
    )
    expect(undocumented).toEqual([])
  })

  it('the README shows examples/workflows/deploy.yml as it is', () => {
    const readme = readFileSync('README.md', 'utf8')
    expect(readme).toContain(
      '```yaml\n' + readFileSync('examples/workflows/deploy.yml', 'utf8') + '```'
    )
  })

  it('the self-test job runs this action with uses: ./ and checks its outputs in a later step', () => {
    const ci = parse(readFileSync('.github/workflows/ci.yml', 'utf8')) as {
      jobs: Record<string, { steps: Mapping[] }>
    }
    const steps = ci.jobs['self-test']!.steps
    const self = steps.findIndex((step) => step['uses'] === './')
    expect(self).toBeGreaterThan(0)
    expect(steps[self]!['id']).toBe('deploy')
    const later = steps
      .slice(self + 1)
      .flatMap(strings)
      .join('\n')
    expect(later).toContain('steps.deploy.outputs.stack-status')
    expect(later).toContain('steps.deploy.outputs.image-uri')
  })

  it('pass actionlint', () => {
    const result = actionlint('{examples,.github}/workflows/*.yml')
    expect(result.stdout).toContain(`Checking ${workflowFiles.length} workflow file(s)...`)
    expect(result.stdout).toContain('All workflow files passed lint checks')
    expect(result.status).toBe(0)
  }, 60_000)
})

describe('checkWorkflow', () => {
  it('accepts a sound workflow', () => {
    expect(checkWorkflow(GOOD)).toEqual([])
  })

  it.each<[string, string | RegExp, string, string]>([
    ['a workflow without a trigger', 'on: push\n', '', "no 'on': the workflow has no trigger"],
    ['a job without runs-on', / {4}runs-on: ubuntu-latest\n/, '', "job deploy has no 'runs-on'"],
    [
      'a step with both uses and run',
      'uses: your-org/oci-stack-deploy@v1',
      'uses: your-org/oci-stack-deploy@v1\n        run: echo',
      "job deploy step 1 must have exactly one of 'uses' and 'run'"
    ],
    [
      'an input the action does not declare',
      'stack-name: hello',
      'stack-name: hello\n          s3-bucket: b',
      "job deploy step 1: input 's3-bucket' is not declared in action.yml"
    ],
    [
      'an output the action never sets',
      'steps.deploy.outputs.image-uri',
      'steps.deploy.outputs.image-url',
      'job deploy: steps.deploy.outputs.image-url is neither an output of action.yml nor a stack output of examples/hello'
    ],
    [
      'a step id that does not exist',
      'steps.deploy.outputs',
      'steps.build.outputs',
      'job deploy: steps.build is not a step of this job'
    ],
    [
      'needs naming a job that does not exist',
      'needs: deploy',
      'needs: [deploy, test]',
      "job after needs 'test', which is not a job of this workflow"
    ],
    [
      'a job output that is not declared',
      'needs.deploy.outputs.image-uri',
      'needs.deploy.outputs.digest',
      'job after: needs.deploy.outputs.digest is not an output of job deploy'
    ]
  ])('rejects %s', (_case, search, replacement, problem) => {
    expect(checkWorkflow(GOOD.replace(search, replacement))).toEqual([problem])
  })

  it('checks the inputs of a local uses: ./ step too', () => {
    const local = GOOD.replace('your-org/oci-stack-deploy@v1', './').replace(
      'stack-name:',
      'stack:'
    )
    expect(checkWorkflow(local)).toEqual([
      "job deploy step 1: input 'stack' is not declared in action.yml"
    ])
  })

  it('actionlint rejects a broken workflow, naming the problem', () => {
    const folder = mkdtempSync(join(tmpdir(), 'workflows-'))
    folders.push(folder)
    writeFileSync(join(folder, 'bad.yml'), GOOD.replace('needs: deploy', 'needs: test'))
    const result = actionlint(join(folder, '*.yml'))
    expect(result.stdout).toContain(
      'job "after" needs job "test" which does not exist in this workflow'
    )
    expect(result.status).toBe(1)
  }, 60_000)
})
