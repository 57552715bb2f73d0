import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import * as core from '@actions/core'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { captureStdout } from '../../__fixtures__/aws.js'
import { readOutputEntries } from '../../__fixtures__/github-output.js'
import type { ResourceChangeRow } from '../../src/aws/cloudformation/types.js'
import { htmlProblems } from '../../__fixtures__/html-check.js'
import { OutputSink } from '../../src/report/output-sink.js'
import { capSummary, MAX_SUMMARY_BYTES } from '../../src/report/summary.js'
import {
  blankReport,
  changesMarkdown,
  changesSummary,
  outputsObject,
  setOutputs,
  writeFailureSummary,
  writeSummary
} from '../../src/report/report.js'
import type { Report } from '../../src/report/model.js'

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
    expect(readOutputEntries(outputFile)).toEqual([
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
    expect(readOutputEntries(outputFile)).toContainEqual(['Pem', 'line 1\nline 2'])
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
    const outputs = readOutputEntries(outputFile)
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
    for (const part of [
      '<h2>Deployed Hello-Service: UPDATE_COMPLETE</h2>',
      '<tr><td>Image</td><td><code>123456789012.dkr.ecr.eu-west-2.amazonaws.com/hello:b1</code></td></tr>',
      `<tr><td>Digest</td><td><code>${DIGEST}</code></td></tr>`,
      `<tr><td>Stack</td><td><code>${STACK_ID}</code></td></tr>`,
      '<tr><td>Template</td><td><a href="https://artifacts.s3.eu-west-2.amazonaws.com/Hello-Service/b1/Hello-Service-cftemplate.yaml?versionId=v1">',
      '<tr><td>Modify</td><td>HelloFunction</td><td>AWS::Lambda::Function</td><td>False</td></tr>',
      '<tr><td>FunctionName</td><td><code>Hello-Service-HelloFunction-1</code></td>',
      '<tr><td>Build image</td><td>12.3</td></tr>',
      '<tr><td>Total</td><td>52.3</td></tr>'
    ]) {
      expect(summary).toContain(part)
    }
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

const NESTED_ROWS: ResourceChangeRow[] = [
  {
    action: 'Modify',
    logicalId: 'Network',
    type: 'AWS::CloudFormation::Stack',
    replacement: 'False',
    physicalId: 'arn:aws:cloudformation:eu-west-2:123456789012:stack/Hello-Service-Network/1'
  },
  {
    action: 'Add',
    logicalId: 'Endpoint',
    type: 'AWS::EC2::VPCEndpoint',
    replacement: '',
    physicalId: '',
    parent: 'Network'
  },
  {
    action: 'Remove',
    logicalId: 'SubnetC',
    type: 'AWS::EC2::Subnet',
    replacement: 'True',
    physicalId: 'subnet-1',
    parent: 'Network/Subnets'
  }
]

describe('changesSummary', () => {
  it('keeps action, logical id, type, replacement and the parent of nested rows', () => {
    expect(changesSummary(NESTED_ROWS)).toEqual([
      {
        action: 'Modify',
        logicalId: 'Network',
        type: 'AWS::CloudFormation::Stack',
        replacement: 'False'
      },
      {
        action: 'Add',
        logicalId: 'Endpoint',
        type: 'AWS::EC2::VPCEndpoint',
        replacement: '',
        parent: 'Network'
      },
      {
        action: 'Remove',
        logicalId: 'SubnetC',
        type: 'AWS::EC2::Subnet',
        replacement: 'True',
        parent: 'Network/Subnets'
      }
    ])
    expect(changesSummary(NESTED_ROWS)[0]).not.toHaveProperty('parent')
  })
})

describe('changesMarkdown', () => {
  it('renders a table with nested rows as Parent / Child', () => {
    expect(changesMarkdown(NESTED_ROWS)).toBe(
      [
        '| Action | Logical id | Type | Replacement |',
        '| --- | --- | --- | --- |',
        '| Modify | Network | AWS::CloudFormation::Stack | False |',
        '| Add | Network / Endpoint | AWS::EC2::VPCEndpoint | - |',
        '| Remove | Network / Subnets / SubnetC | AWS::EC2::Subnet | True |'
      ].join('\n')
    )
  })

  it('escapes pipes and keeps each cell on one line', () => {
    const rows: ResourceChangeRow[] = [
      { action: 'Add', logicalId: 'A|B', type: 'Custom::X\nY', replacement: '', physicalId: '' }
    ]
    expect(changesMarkdown(rows).split('\n')[2]).toBe('| Add | A\\|B | Custom::X<br>Y | - |')
  })

  it('says there are no changes, and still lists parameter changes', () => {
    expect(changesMarkdown([])).toBe('No resource changes.')
    expect(
      changesMarkdown(
        [],
        [
          { key: 'MemorySize', old: '512', new: '1024' },
          { key: 'Stage', new: 'a|b' },
          { key: 'Legacy', old: 'x' },
          { key: 'Suffix', old: '-old', new: '' }
        ]
      )
    ).toBe(
      [
        'No resource changes.',
        '',
        '| Parameter | Old value | New value |',
        '| --- | --- | --- |',
        '| MemorySize | 512 | 1024 |',
        '| Stage | (not set) | a\\|b |',
        '| Legacy | x | (removed) |',
        '| Suffix | -old | (empty) |'
      ].join('\n')
    )
  })
})

describe('setOutputs: changes', () => {
  it('writes has-changes, changes-count, changes-summary and changes-markdown when asked', () => {
    setOutputs(
      report({
        changeOutputs: true,
        changes: NESTED_ROWS,
        parameterChanges: [{ key: 'MemorySize', old: '512', new: '1024' }]
      })
    )
    const outputs = readOutputEntries(outputFile)
    const names = outputs.map(([name]) => name)
    expect(names.slice(0, 11)).toEqual([
      'image-uri',
      'image-digest',
      'build-id',
      'template-url',
      'stack-id',
      'stack-status',
      'change-set-id',
      'has-changes',
      'changes-count',
      'changes-summary',
      'changes-markdown'
    ])
    const get = (name: string): string | undefined => outputs.find(([n]) => n === name)?.[1]
    expect(get('has-changes')).toBe('true')
    expect(get('changes-count')).toBe('3')
    expect(JSON.parse(get('changes-summary') ?? '')).toEqual(changesSummary(NESTED_ROWS))
    expect(get('changes-markdown')).toBe(
      changesMarkdown(NESTED_ROWS, [{ key: 'MemorySize', old: '512', new: '1024' }])
    )
    expect(get('changes-markdown')).toContain(
      '| Add | Network / Endpoint | AWS::EC2::VPCEndpoint | - |'
    )
  })

  it('says has-changes false for an empty change set', () => {
    setOutputs(report({ changeOutputs: true, noChanges: true, changes: [] }))
    const outputs = readOutputEntries(outputFile)
    expect(outputs).toContainEqual(['has-changes', 'false'])
    expect(outputs).toContainEqual(['changes-count', '0'])
    expect(outputs).toContainEqual(['changes-summary', '[]'])
    expect(outputs).toContainEqual(['changes-markdown', 'No resource changes.'])
  })

  it('writes no change outputs unless asked', () => {
    setOutputs(report())
    expect(readOutputEntries(outputFile).map(([name]) => name)).not.toContain('has-changes')
  })

  it('does not let a stack output named changes-count override the action output', () => {
    setOutputs(
      report({ changeOutputs: true, outputs: [{ OutputKey: 'changes-count', OutputValue: '99' }] })
    )
    expect(readOutputEntries(outputFile).filter(([name]) => name === 'changes-count')).toEqual([
      ['changes-count', '1']
    ])
  })
})

describe('writeSummary: changes', () => {
  it('shows nested changes with their parent and the parameter changes', async () => {
    await writeSummary(
      report({
        changes: NESTED_ROWS,
        parameterChanges: [
          { key: 'MemorySize', old: '512', new: '1024' },
          { key: 'Stage', new: '<prod>' }
        ]
      })
    )
    const summary = readFileSync(summaryFile, 'utf8')
    expect(summary).toContain(
      '<tr><td>Remove</td><td>Network / Subnets / SubnetC</td><td>AWS::EC2::Subnet</td><td>True</td></tr>'
    )
    expect(summary).toContain('<h3>Parameter changes</h3>')
    expect(summary).toContain(
      '<tr><td>MemorySize</td><td><code>512</code></td><td><code>1024</code></td></tr>'
    )
    expect(summary).toContain(
      '<tr><td>Stage</td><td><em>not set</em></td><td><code>&lt;prod&gt;</code></td></tr>'
    )
  })

  it('says a change set that was not executed is ready, not deployed', async () => {
    await writeSummary(report({ executed: false, stackStatus: 'REVIEW_IN_PROGRESS' }))
    const summary = readFileSync(summaryFile, 'utf8')
    expect(summary).toContain('<h2>Change set for Hello-Service: ready, not executed</h2>')
    expect(summary).not.toContain('<h3>Parameter changes</h3>')
  })
})

describe('summary HTML is well-formed', () => {
  const describedOutputs: Report['outputs'] = [
    { OutputKey: 'Stage', OutputValue: 'dev' },
    { OutputKey: 'Url', OutputValue: 'https://x.test/a?b=1&c=2', Description: 'a & b' }
  ]
  const kinds: Array<[string, () => Promise<boolean>]> = [
    ['deploy', () => writeSummary(report({ outputs: describedOutputs, changes: NESTED_ROWS }))],
    ['deploy without changes', () => writeSummary(report({ noChanges: true, changes: [] }))],
    [
      'review',
      () =>
        writeSummary(
          report({
            mode: 'review',
            executed: false,
            stackStatus: 'REVIEW_IN_PROGRESS',
            parameterChanges: [
              { key: 'Stage', new: '' },
              { key: 'Old', old: 'x' }
            ]
          })
        )
    ],
    [
      'delete',
      () =>
        writeSummary({
          ...blankReport('delete', 'Hello-Service', []),
          stackId: STACK_ID,
          stackStatus: 'DELETE_COMPLETE'
        })
    ],
    [
      'noop',
      () =>
        writeSummary({
          ...blankReport('noop', 'Hello-Service', [{ name: 'Build image', seconds: 1 }]),
          imageUri: 'x/hello:b1',
          noChanges: true
        })
    ],
    [
      'failure',
      () =>
        writeFailureSummary({
          stackName: 'Hello-Service',
          phase: 'Deploy stack',
          error: 'Stack Hello-Service ended in UPDATE_ROLLBACK_COMPLETE\n<b>&',
          stackStatus: 'UPDATE_ROLLBACK_COMPLETE',
          failedResources: [{ logicalId: 'Fn', type: 'AWS::Lambda::Function', reason: '' }],
          known: { imageUri: 'x/hello:b1', templateUrl: 'https://b.test/t.yaml' },
          phases: [{ name: 'Deploy stack', seconds: 3 }]
        })
    ]
  ]

  it.each(kinds)('%s', async (_kind, write) => {
    await expect(write()).resolves.toBe(true)
    const summary = readFileSync(summaryFile, 'utf8')
    expect(summary.length).toBeGreaterThan(0)
    expect(htmlProblems(summary)).toEqual([])
  })

  it('closes the cell of an output without a Description', async () => {
    await writeSummary(report({ outputs: [{ OutputKey: 'Stage', OutputValue: 'dev' }] }))
    expect(readFileSync(summaryFile, 'utf8')).toContain(
      '<tr><td>Stage</td><td><code>dev</code></td><td></td></tr>'
    )
  })

  it('the checker finds what it is for', () => {
    expect(htmlProblems('<table><tr><td><code>dev</code></td><td></tr></table>')).toEqual([
      '</tr> at 40 while <td> (at 36) is open',
      '</table> at 45 while <td> (at 36) is open',
      '<td> at 36 is never closed',
      '<tr> at 7 is never closed',
      '<table> at 0 is never closed'
    ])
    expect(htmlProblems('<td>a</td><p>x & y</p>')).toEqual([
      '<td> at 0 inside <document>',
      "unescaped '&' at 15"
    ])
  })
})

describe('writeSummary: delete', () => {
  const deleted = (overrides: Partial<Report> = {}): Report => ({
    ...blankReport('delete', 'Hello-Service', [{ name: 'Delete stack', seconds: 9 }]),
    stackId: STACK_ID,
    stackStatus: 'DELETE_COMPLETE',
    executed: true,
    ...overrides
  })

  it('shows the stack, its final status and the image, never empty build rows', async () => {
    await writeSummary(deleted())
    const summary = readFileSync(summaryFile, 'utf8')
    expect(summary).toContain('<h2>Deleted Hello-Service: DELETE_COMPLETE</h2>')
    expect(summary).toContain('<tr><td>Stack</td><td><code>Hello-Service</code></td></tr>')
    expect(summary).toContain(`<tr><td>Stack id</td><td><code>${STACK_ID}</code></td></tr>`)
    expect(summary).toContain('<tr><td>Final status</td><td>DELETE_COMPLETE</td></tr>')
    expect(summary).toContain(
      '<tr><td>Image</td><td>kept (delete-image is off, or the stack named no image of this region)</td></tr>'
    )
    for (const empty of ['Digest', 'Build id', 'Template', 'Changes', 'Stack outputs']) {
      expect(summary).not.toContain(`>${empty}<`)
    }
  })

  it.each<[Report['imageCleanup'], string]>([
    ['deleted', 'deleted from ECR: <code>1.dkr.ecr.eu-west-2.amazonaws.com/hello:b1</code>'],
    [
      'not-found',
      'not found in ECR (already deleted?): <code>1.dkr.ecr.eu-west-2.amazonaws.com/hello:b1</code>'
    ],
    ['kept', 'kept <code>1.dkr.ecr.eu-west-2.amazonaws.com/hello:b1</code>'],
    [undefined, 'deleted from ECR: <code>1.dkr.ecr.eu-west-2.amazonaws.com/hello:b1</code>']
  ])('says the image was %s', async (imageCleanup, text) => {
    await writeSummary(
      deleted({
        imageUri: '1.dkr.ecr.eu-west-2.amazonaws.com/hello:b1',
        ...(imageCleanup ? { imageCleanup } : {})
      })
    )
    expect(readFileSync(summaryFile, 'utf8')).toContain(`<tr><td>Image</td><td>${text}</td></tr>`)
  })

  it('says when there was no stack to delete', async () => {
    await writeSummary(deleted({ stackId: '', stackStatus: 'DOES_NOT_EXIST', executed: false }))
    const summary = readFileSync(summaryFile, 'utf8')
    expect(summary).toContain('<h2>Stack Hello-Service did not exist: nothing to delete</h2>')
    expect(summary).not.toContain('Stack id')
  })
})

describe('writeSummary never fails a finished deploy', () => {
  it('warns when GITHUB_STEP_SUMMARY is not set', async () => {
    await expect(writeSummary(report(), { env: {} })).resolves.toBe(false)
    expect(stdout.lines()).toContain(
      '::warning::No job summary written: GITHUB_STEP_SUMMARY is not set (the Actions runner sets it). The deploy itself is not affected.'
    )
  })

  it('warns when the summary file cannot be written', async () => {
    await expect(writeSummary(report(), { env: { GITHUB_STEP_SUMMARY: dir } })).resolves.toBe(false)
    expect(stdout.lines().join('\n')).toContain(
      `::warning::Could not write the job summary to ${dir}: EISDIR`
    )
  })

  it('keeps a huge change table under GitHub limit by leaving the longest table out', async () => {
    const changes: ResourceChangeRow[] = Array.from({ length: 12_000 }, (_, i) => ({
      action: 'Add',
      logicalId: `Queue${i}`.padEnd(60, 'x'),
      type: 'AWS::SQS::Queue',
      replacement: '',
      physicalId: ''
    }))
    const parameterChanges = Array.from({ length: 300 }, (_, i) => ({ key: `P${i}`, new: 'v' }))
    await writeSummary(report({ changes, parameterChanges }))
    const summary = readFileSync(summaryFile, 'utf8')
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(MAX_SUMMARY_BYTES)
    expect(summary).toContain(
      "<p><strong>Shortened:</strong> the summary would exceed GitHub's 1 MiB limit, so these tables were left out: changes (12000 rows). The step outputs and the log hold them in full.</p>"
    )
    expect(summary).toContain(
      "<p>The changes table (12000 rows) was left out to keep the summary under GitHub's limit.</p>"
    )
    // The smaller tables stay.
    expect(summary).toContain('<tr><td>P299</td><td><em>not set</em><td>'.slice(0, 20))
    expect(summary).toContain('<tr><td>Build image</td><td>12.3</td></tr>')
    expect(htmlProblems(summary)).toEqual([])
  })

  it('drops tables largest first until the rest fits', () => {
    const html = capSummary(
      [
        { html: '<h2>H</h2>' },
        { html: `<table>${'a'.repeat(500)}</table>`, drop: { what: 'big', rows: 50 } },
        { html: `<table>${'b'.repeat(300)}</table>`, drop: { what: 'middle', rows: 30 } },
        { html: `<table>${'c'.repeat(10)}</table>`, drop: { what: 'small', rows: 1 } }
      ],
      500
    )
    expect(html).toContain('left out: big (50 rows), middle (30 rows).')
    expect(html).toContain('c'.repeat(10))
    expect(Buffer.byteLength(html)).toBeLessThanOrEqual(500)
  })
})

describe('writeFailureSummary', () => {
  it('shows the failed phase, the error, the failing resources, the stack now, what was done and what next', async () => {
    await writeFailureSummary({
      stackName: 'Hello-Service',
      phase: 'Deploy stack',
      error: 'Stack Hello-Service ended in UPDATE_ROLLBACK_FAILED',
      stackStatus: 'UPDATE_ROLLBACK_FAILED',
      failedResources: [
        {
          logicalId: 'HelloFunction',
          type: 'AWS::Lambda::Function',
          status: 'UPDATE_FAILED',
          reason: 'Resource handler returned message: "<denied>"'
        }
      ],
      known: { imageUri: 'x/hello:b1', imageDigest: DIGEST, stackId: STACK_ID },
      phases: [{ name: 'Deploy stack', seconds: 2 }]
    })
    const summary = readFileSync(summaryFile, 'utf8')
    expect(summary).toContain('<h2>Deploy of Hello-Service failed: Deploy stack</h2>')
    expect(summary).toContain('<tr><td>Failed phase</td><td>Deploy stack</td></tr>')
    expect(summary).toContain('<tr><td>Stack status now</td><td>UPDATE_ROLLBACK_FAILED</td></tr>')
    expect(summary).toContain(
      '<pre><code>Stack Hello-Service ended in UPDATE_ROLLBACK_FAILED</code></pre>'
    )
    expect(summary).toContain(
      '<tr><td>HelloFunction</td><td>AWS::Lambda::Function</td><td>UPDATE_FAILED</td><td>Resource handler returned message: &quot;&lt;denied&gt;&quot;</td></tr>'
    )
    expect(summary).toContain('<h3>Done before the failure</h3>')
    expect(summary).toContain('<tr><td>Image</td><td><code>x/hello:b1</code></td></tr>')
    expect(summary).toContain(`<tr><td>Stack id</td><td><code>${STACK_ID}</code></td></tr>`)
    expect(summary).not.toContain('<td>Template</td>')
    expect(summary).toContain(
      '<li>The stack is stuck in UPDATE_ROLLBACK_FAILED: fix the resources that could not be rolled back (its stack events name them), then run <code>aws cloudformation continue-update-rollback --stack-name Hello-Service</code>'
    )
    expect(summary).toContain('<li>Fix the cause named above and run the workflow again.</li>')
    expect(htmlProblems(summary)).toEqual([])
  })

  it('says the status is unknown and leaves out what was not done', async () => {
    await writeFailureSummary({
      stackName: 'Hello-Service',
      phase: 'Build image',
      error: 'docker build failed',
      nextSteps: ['Fix the `Dockerfile`.']
    })
    const summary = readFileSync(summaryFile, 'utf8')
    expect(summary).toContain(
      '<tr><td>Stack status now</td><td>unknown (could not be read)</td></tr>'
    )
    expect(summary).not.toContain('Done before the failure')
    expect(summary).not.toContain('Failed resources')
    expect(summary).toContain('<ul><li>Fix the <code>Dockerfile</code>.</li></ul>')
  })

  it('never throws', async () => {
    await expect(
      writeFailureSummary({ stackName: 'S', phase: 'P', error: 'e' }, { env: {} })
    ).resolves.toBe(false)
  })
})

describe('OutputSink', () => {
  it('sets each output once it is known, and setOutputs does not write it again', () => {
    const sink = new OutputSink()
    sink.image({ imageUri: 'x/hello:b1', imageDigest: DIGEST, imageUriPinned: `x/hello@${DIGEST}` })
    sink.template('https://b.test/t.yaml')
    sink.stack('')
    expect(readOutputEntries(outputFile)).toEqual([
      ['image-uri', 'x/hello:b1'],
      ['image-digest', DIGEST],
      ['image-uri-pinned', `x/hello@${DIGEST}`],
      ['template-url', 'https://b.test/t.yaml']
    ])
    sink.stack(STACK_ID)
    sink.changeSet(CHANGE_SET_ID)
    expect(sink.known()).toEqual({
      imageUri: 'x/hello:b1',
      imageDigest: DIGEST,
      imageUriPinned: `x/hello@${DIGEST}`,
      templateUrl: 'https://b.test/t.yaml',
      stackId: STACK_ID,
      changeSetId: CHANGE_SET_ID
    })
    setOutputs(
      report({
        imageUri: 'x/hello:b1',
        imageUriPinned: `x/hello@${DIGEST}`,
        templateUrl: 'https://b.test/t.yaml',
        outputs: []
      }),
      sink
    )
    const names = readOutputEntries(outputFile).map(([name]) => name)
    expect(names).toEqual([
      'image-uri',
      'image-digest',
      'image-uri-pinned',
      'template-url',
      'stack-id',
      'change-set-id',
      'build-id',
      'stack-status',
      'outputs'
    ])
  })

  it('writes an output again when its value changed', () => {
    const written: Array<[string, string]> = []
    const sink = new OutputSink((name, value) => written.push([name, value]))
    sink.archive('pkg/b1.zip', undefined)
    sink.archive('pkg/b1.zip', 'v2')
    expect(written).toEqual([
      ['archive-key', 'pkg/b1.zip'],
      ['archive-version', ''],
      ['archive-version', 'v2']
    ])
    expect(sink.get('archive-version')).toBe('v2')
  })
})
