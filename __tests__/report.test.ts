import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import * as core from '@actions/core'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { captureStdout } from '../__fixtures__/aws.js'
import { outputsObject, setOutputs, writeSummary, type Report } from '../src/report.js'

const STACK_ID =
  'arn:aws:cloudformation:eu-west-2:123456789012:stack/Hello-Service/0a1b2c3d-0000-11ee-8000-0a1b2c3d4e5f'
const CHANGE_SET_ID =
  'arn:aws:cloudformation:eu-west-2:123456789012:changeSet/Hello-Service-b1/9f8e7d6c-0000-11ee-8000-0a1b2c3d4e5f'
const DIGEST = `sha256:${'ab'.repeat(32)}`

function report(overrides: Partial<Report> = {}): Report {
  return {
    buildId: 'b1',
    imageUri: '123456789012.dkr.ecr.eu-west-2.amazonaws.com/hello:b1',
    imageDigest: DIGEST,
    templateUrl:
      'https://artifacts.s3.eu-west-2.amazonaws.com/Hello-Service/b1/Hello-Service-cftemplate.yaml?versionId=v1',
    stackName: 'Hello-Service',
    stackId: STACK_ID,
    stackStatus: 'UPDATE_COMPLETE',
    changeSetId: CHANGE_SET_ID,
    noChanges: false,
    changes: [
      {
        action: 'Modify',
        logicalId: 'HelloFunction',
        type: 'AWS::Lambda::Function',
        replacement: 'False',
        physicalId: 'Hello-Service-HelloFunction-1'
      }
    ],
    outputs: [
      { OutputKey: 'FunctionName', OutputValue: 'Hello-Service-HelloFunction-1' },
      {
        OutputKey: 'ApiUrl',
        OutputValue: 'https://abc123.execute-api.eu-west-2.amazonaws.com/prod',
        Description: 'The <public> endpoint & its stage'
      }
    ],
    phases: [
      { name: 'Build image', seconds: 12.34 },
      { name: 'Deploy stack', seconds: 40 }
    ],
    ...overrides
  }
}

/** Parses the `name<<ghadelimiter_…` blocks @actions/core appends to GITHUB_OUTPUT. */
function readOutputs(file: string): Array<[string, string]> {
  const entries: Array<[string, string]> = []
  const lines = readFileSync(file, 'utf8').split('\n')
  for (let i = 0; i < lines.length; i++) {
    const header = /^(.+?)<<(ghadelimiter_[0-9a-f-]+)$/.exec(lines[i] ?? '')
    if (header === null) continue
    const [, name, delimiter] = header
    const end = lines.indexOf(delimiter ?? '', i + 1)
    entries.push([name ?? '', lines.slice(i + 1, end).join('\n')])
    i = end
  }
  return entries
}

let dir: string
let outputFile: string
let summaryFile: string
let stdout: ReturnType<typeof captureStdout>
const saved = { output: process.env['GITHUB_OUTPUT'], summary: process.env['GITHUB_STEP_SUMMARY'] }

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'report-test-'))
  outputFile = join(dir, 'output')
  // core.summary remembers the first path it sees, so one file serves the whole file.
  summaryFile = join(dir, 'summary.md')
  process.env['GITHUB_STEP_SUMMARY'] = summaryFile
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
  for (const [name, value] of [
    ['GITHUB_OUTPUT', saved.output],
    ['GITHUB_STEP_SUMMARY', saved.summary]
  ] as const) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

beforeEach(() => {
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  process.env['GITHUB_OUTPUT'] = outputFile
  core.summary.emptyBuffer()
  stdout = captureStdout()
})

afterEach(() => {
  stdout.restore()
})

describe('setOutputs', () => {
  it('writes every fixed output, the outputs JSON and one output per stack output', () => {
    setOutputs(report())
    expect(readOutputs(outputFile)).toEqual([
      ['image-uri', '123456789012.dkr.ecr.eu-west-2.amazonaws.com/hello:b1'],
      ['image-digest', DIGEST],
      ['build-id', 'b1'],
      [
        'template-url',
        'https://artifacts.s3.eu-west-2.amazonaws.com/Hello-Service/b1/Hello-Service-cftemplate.yaml?versionId=v1'
      ],
      ['stack-id', STACK_ID],
      ['stack-status', 'UPDATE_COMPLETE'],
      ['change-set-id', CHANGE_SET_ID],
      [
        'outputs',
        '{"FunctionName":"Hello-Service-HelloFunction-1","ApiUrl":"https://abc123.execute-api.eu-west-2.amazonaws.com/prod"}'
      ],
      ['FunctionName', 'Hello-Service-HelloFunction-1'],
      ['ApiUrl', 'https://abc123.execute-api.eu-west-2.amazonaws.com/prod']
    ])
    expect(stdout.lines().join('\n')).not.toContain('::warning::')
  })

  it('keeps a multi-line stack output value whole', () => {
    setOutputs(report({ outputs: [{ OutputKey: 'Pem', OutputValue: 'line 1\nline 2' }] }))
    expect(readOutputs(outputFile)).toContainEqual(['Pem', 'line 1\nline 2'])
  })

  it("warns about a stack output named like one of the action's outputs and does not override it", () => {
    setOutputs(
      report({
        outputs: [
          { OutputKey: 'stack-id', OutputValue: 'from-the-stack' },
          { OutputKey: 'Other', OutputValue: 'x' }
        ]
      })
    )
    const outputs = readOutputs(outputFile)
    expect(outputs.filter(([name]) => name === 'stack-id')).toEqual([['stack-id', STACK_ID]])
    expect(outputs).toContainEqual(['outputs', '{"stack-id":"from-the-stack","Other":"x"}'])
    expect(outputs).toContainEqual(['Other', 'x'])
    expect(stdout.lines().join('\n')).toContain(
      "::warning::Stack output 'stack-id' has the name of one of the action's outputs; read it from 'outputs' instead."
    )
  })
})

describe('outputsObject', () => {
  it('maps keys to values and skips outputs without a key', () => {
    expect(
      outputsObject([
        { OutputKey: 'A', OutputValue: '1' },
        { OutputValue: 'orphan' },
        { OutputKey: 'B' }
      ])
    ).toEqual({ A: '1', B: '' })
  })
})

describe('writeSummary', () => {
  it('renders the image, changes, outputs and phase tables', async () => {
    await writeSummary(report())
    const summary = readFileSync(summaryFile, 'utf8')
    expect(summary).toContain('<h2>Deployed Hello-Service: UPDATE_COMPLETE</h2>')
    expect(summary).toContain(
      '<tr><td>Image</td><td><code>123456789012.dkr.ecr.eu-west-2.amazonaws.com/hello:b1</code></td></tr>'
    )
    expect(summary).toContain(`<tr><td>Digest</td><td><code>${DIGEST}</code></td></tr>`)
    expect(summary).toContain(`<tr><td>Stack</td><td><code>${STACK_ID}</code></td></tr>`)
    expect(summary).toContain(
      '<tr><td>Template</td><td><a href="https://artifacts.s3.eu-west-2.amazonaws.com/Hello-Service/b1/Hello-Service-cftemplate.yaml?versionId=v1">'
    )
    expect(summary).toContain(
      '<tr><td>Modify</td><td>HelloFunction</td><td>AWS::Lambda::Function</td><td>False</td></tr>'
    )
    expect(summary).toContain(
      '<tr><td>FunctionName</td><td><code>Hello-Service-HelloFunction-1</code></td>'
    )
    expect(summary).toContain('<tr><td>Build image</td><td>12.3</td></tr>')
    expect(summary).toContain('<tr><td>Total</td><td>52.3</td></tr>')
  })

  it('makes URL outputs clickable and escapes HTML in descriptions', async () => {
    await writeSummary(report())
    expect(readFileSync(summaryFile, 'utf8')).toContain(
      '<tr><td>ApiUrl</td>' +
        '<td><a href="https://abc123.execute-api.eu-west-2.amazonaws.com/prod">https://abc123.execute-api.eu-west-2.amazonaws.com/prod</a></td>' +
        '<td>The &lt;public&gt; endpoint &amp; its stage</td></tr>'
    )
  })

  it('escapes HTML in output values, URL-looking ones included', async () => {
    await writeSummary(
      report({
        outputs: [
          { OutputKey: 'Plain', OutputValue: '<img src=x onerror=alert(1)>' },
          { OutputKey: 'Link', OutputValue: 'https://example.com/"><script>alert(1)</script>' }
        ]
      })
    )
    const summary = readFileSync(summaryFile, 'utf8')
    expect(summary).not.toContain('<script>')
    expect(summary).not.toContain('<img')
    expect(summary).toContain('<td><code>&lt;img src=x onerror=alert(1)&gt;</code></td>')
    expect(summary).toContain(
      '<a href="https://example.com/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">'
    )
  })

  it('says so when there were no changes and the stack has no outputs', async () => {
    await writeSummary(report({ noChanges: true, changes: [], outputs: [] }))
    const summary = readFileSync(summaryFile, 'utf8')
    expect(summary).toContain('<h2>Deployed Hello-Service: no changes</h2>')
    expect(summary).toContain('None: the stack already matched.')
    expect(summary).toContain('The stack has no outputs.')
  })
})
