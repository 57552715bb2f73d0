/**
 * The fault proxy's eventual-consistency and lost-response faults, run for real: the proxy
 * (local/fault-proxy.mjs) in front of a tiny fake CloudFormation on loopback, no moto.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { CloudFormationClient, CreateChangeSetCommand } from '@aws-sdk/client-cloudformation'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const STACK_ARN = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/app/0000-1111'

/** The fake CloudFormation: one stack per name, a status each, and every call it received. */
const statuses = new Map<string, string>()
const received: string[] = []
let upstream: Server
let proxy: ChildProcess
let proxyUrl: string
let dir: string

function describeAnswer(name: string): string {
  const status = statuses.get(name)
  return `<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>${name}</StackName><StackId>${STACK_ARN}</StackId><StackStatus>${status}</StackStatus><CreationTime>2024-05-01T12:00:00Z</CreationTime><Outputs><member><OutputKey>Url</OutputKey><OutputValue>u</OutputValue></member></Outputs></member></Stacks></DescribeStacksResult></DescribeStacksResponse>`
}

/** moto's stack set answers, in short: every operation SUCCEEDED at once. */
function stackSetAnswer(action: string, form: URLSearchParams): string | undefined {
  const op = form.get('OperationId') ?? ''
  const wrap = (inner: string) =>
    `<${action}Response><${action}Result>${inner}</${action}Result></${action}Response>`
  if (action === 'CreateStackInstances') return wrap(`<OperationId>${op}</OperationId>`)
  if (action === 'DescribeStackSetOperation')
    return wrap(
      `<StackSetOperation><OperationId>${op}</OperationId><Status>SUCCEEDED</Status></StackSetOperation>`
    )
  if (action === 'ListStackSetOperations')
    return wrap(
      '<Summaries><member><OperationId>op-1</OperationId><Status>SUCCEEDED</Status></member></Summaries>'
    )
  if (action === 'ListStackSetOperationResults')
    return wrap(
      ['111111111111', '222222222222']
        .map(
          (a) =>
            `<member><Account>${a}</Account><Region>us-west-2</Region><Status>SUCCEEDED</Status><AccountGateResult><Status>SKIPPED</Status></AccountGateResult></member>`
        )
        .join('')
    )
  return undefined
}

/** When the fake last executed a change set: moto writes the whole operation's events then. */
let executedAt = new Date(0)

/** The operation's events as moto leaves them at once, newest first. */
function eventsAnswer(name: string): string {
  const event = (id: string, logicalId: string, status: string) =>
    `<member><EventId>${id}</EventId><StackName>${name}</StackName><LogicalResourceId>${logicalId}</LogicalResourceId><ResourceStatus>${status}</ResourceStatus><Timestamp>${executedAt.toISOString()}</Timestamp></member>`
  const events = [
    event('4', name, 'UPDATE_COMPLETE'),
    event('3', 'Fn', 'UPDATE_COMPLETE'),
    event('2', 'Fn', 'UPDATE_IN_PROGRESS'),
    event('1', name, 'UPDATE_IN_PROGRESS')
  ]
  return `<DescribeStackEventsResponse><DescribeStackEventsResult><StackEvents>${events.join('')}</StackEvents></DescribeStackEventsResult></DescribeStackEventsResponse>`
}

function stackName(value: string | null): string {
  return /:stack\/([^/]+)\//.exec(value ?? '')?.[1] ?? value ?? ''
}

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      const action = form.get('Action') ?? ''
      const name = stackName(form.get('StackName'))
      received.push(`${action} ${name}`)
      let body = `<${action}Response><${action}Result/></${action}Response>`
      if (action === 'DescribeStacks' && name.startsWith('new-') && !statuses.has(name)) {
        res.writeHead(400, { 'content-type': 'text/xml' })
        res.end(
          `<ErrorResponse><Error><Code>ValidationError</Code><Message>Stack with id ${name} does not exist</Message></Error></ErrorResponse>`
        )
        return
      }
      if (action === 'DescribeStacks') body = describeAnswer(name)
      body = stackSetAnswer(action, form) ?? body
      if (action === 'DescribeChangeSet') {
        body = `<DescribeChangeSetResponse><DescribeChangeSetResult><ChangeSetName>cs</ChangeSetName><Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus></DescribeChangeSetResult></DescribeChangeSetResponse>`
      }
      if (action === 'DescribeStackEvents') body = eventsAnswer(name)
      if (action === 'ExecuteChangeSet') executedAt = new Date()
      if (action === 'ExecuteChangeSet') statuses.set(name, 'UPDATE_IN_PROGRESS')
      if (action === 'DeleteStack') statuses.set(name, 'DELETE_IN_PROGRESS')
      if (action === 'CreateChangeSet') {
        statuses.set(name, 'REVIEW_IN_PROGRESS')
        body = `<CreateChangeSetResponse><CreateChangeSetResult><Id>arn:aws:cloudformation:eu-west-1:123456789012:changeSet/cs/1</Id><StackId>${STACK_ARN}</StackId></CreateChangeSetResult></CreateChangeSetResponse>`
      }
      res.writeHead(200, {
        'content-type': 'text/xml',
        'x-amzn-requestid': `req-${received.length}`
      })
      res.end(body)
    })
  })
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  dir = mkdtempSync(join(tmpdir(), 'fault-proxy-test-'))
  const portFile = join(dir, 'port')
  proxy = spawn(
    process.execPath,
    [
      'local/fault-proxy.mjs',
      '--target',
      `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      '--port-file',
      portFile
    ],
    { stdio: 'ignore' }
  )
  for (let i = 0; i < 200; i++) {
    try {
      proxyUrl = `http://127.0.0.1:${readFileSync(portFile, 'utf8').trim()}`
      break
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
})

afterAll(async () => {
  proxy.kill('SIGTERM')
  await new Promise((resolve) => proxy.once('exit', resolve))
  await new Promise((resolve) => upstream.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

beforeEach(async () => {
  await fetch(`${proxyUrl}/__faults`, { method: 'DELETE' })
  statuses.clear()
  received.length = 0
})

/** One query-protocol call through the proxy, as the SDK sends it (a form body). */
async function call(action: string, params: Record<string, string> = {}): Promise<string> {
  const response = await fetch(proxyUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: new URLSearchParams({ Action: action, Version: '2010-05-15', ...params }).toString()
  })
  return response.text()
}

async function statusOf(name: string): Promise<string> {
  return /<StackStatus>([^<]*)</.exec(await call('DescribeStacks', { StackName: name }))?.[1] ?? ''
}

async function addRule(rule: object): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${proxyUrl}/__faults/rules`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(rule)
  })
  return { status: response.status, body: await response.json() }
}

async function faultLog(): Promise<Array<Record<string, unknown>>> {
  return (await (await fetch(`${proxyUrl}/__faults/log`)).json()) as Array<Record<string, unknown>>
}

describe('stale-reads', () => {
  it.each([
    ['ExecuteChangeSet', 'UPDATE_COMPLETE', 'UPDATE_IN_PROGRESS', { StackName: 'app' }],
    ['DeleteStack', 'UPDATE_COMPLETE', 'DELETE_IN_PROGRESS', { StackName: STACK_ARN }],
    ['DeleteStack', 'ROLLBACK_COMPLETE', 'DELETE_IN_PROGRESS', { StackName: 'app' }],
    ['CreateChangeSet', 'UPDATE_COMPLETE', 'REVIEW_IN_PROGRESS', { StackName: 'app' }]
  ])(
    'replays the answer from before %s (%s) to the next 2 DescribeStacks, then reads through',
    async (write, before, after, params) => {
      statuses.set('app', before)
      await addRule({ staleReads: { stackName: 'app', count: 2 } })
      expect(await statusOf('app')).toBe(before)
      await call(write, params)
      expect(statuses.get('app')).toBe(after)

      expect([await statusOf('app'), await statusOf('app'), await statusOf('app')]).toEqual([
        before,
        before,
        after
      ])
      // The stale answers never reached the target.
      expect(received).toEqual(['DescribeStacks app', `${write} app`, 'DescribeStacks app'])
      expect((await faultLog()).map((e) => [e['operation'], e['stale']])).toEqual([
        ['DescribeStacks', false],
        [write, false],
        ['DescribeStacks', true],
        ['DescribeStacks', true],
        ['DescribeStacks', false]
      ])
    }
  )

  it('leaves reads of the stack alone after a write to another stack', async () => {
    statuses.set('app', 'UPDATE_COMPLETE')
    statuses.set('other', 'UPDATE_COMPLETE')
    await addRule({ staleReads: { stackName: 'app', count: 2 } })
    await statusOf('other')
    await call('ExecuteChangeSet', { StackName: 'other' })
    expect(await statusOf('other')).toBe('UPDATE_IN_PROGRESS')
  })

  it('re-arms on every write and shows what is left in the rules', async () => {
    statuses.set('app', 'UPDATE_COMPLETE')
    const { body } = await addRule({ staleReads: { stackName: 'app', count: 1 } })
    const id = (body as { ids: number[] }).ids[0]
    await statusOf('app')
    await call('ExecuteChangeSet', { StackName: 'app' })
    const rules = (await (await fetch(`${proxyUrl}/__faults/rules`)).json()) as Array<
      Record<string, unknown>
    >
    expect(rules).toEqual([
      expect.objectContaining({ id, staleRemaining: 1, armedAfter: 'ExecuteChangeSet' })
    ])
    expect(await statusOf('app')).toBe('UPDATE_COMPLETE')
    expect(await statusOf('app')).toBe('UPDATE_IN_PROGRESS')
    statuses.set('app', 'UPDATE_COMPLETE')
    await statusOf('app')
    await call('DeleteStack', { StackName: 'app' })
    expect(await statusOf('app')).toBe('UPDATE_COMPLETE')
    expect(await statusOf('app')).toBe('DELETE_IN_PROGRESS')
  })

  it('as beforeChangeSet: after ExecuteChangeSet of a new stack, reads show REVIEW_IN_PROGRESS without outputs', async () => {
    await addRule({ staleReads: { stackName: 'new-app', count: 2, as: 'beforeChangeSet' } })
    await call('DescribeStacks', { StackName: 'new-app' }).catch(() => '')
    await call('CreateChangeSet', { StackName: 'new-app' })
    await call('ExecuteChangeSet', { StackName: STACK_ARN.replace('/app/', '/new-app/') })

    const reads = [
      await call('DescribeStacks', { StackName: 'new-app' }),
      await call('DescribeStacks', { StackName: 'new-app' }),
      await call('DescribeStacks', { StackName: 'new-app' })
    ]
    expect(reads.map((r) => /<StackStatus>([^<]*)</.exec(r)?.[1])).toEqual([
      'REVIEW_IN_PROGRESS',
      'REVIEW_IN_PROGRESS',
      'UPDATE_IN_PROGRESS'
    ])
    expect(reads.map((r) => r.includes('<Outputs>'))).toEqual([false, false, true])
    expect((await faultLog()).filter((e) => e['stale']).length).toBe(2)
  })

  it('as beforeChangeSet: after ExecuteChangeSet of an existing stack, reads show it as before CreateChangeSet', async () => {
    statuses.set('app', 'UPDATE_COMPLETE')
    await addRule({ staleReads: { stackName: 'app', count: 1, as: 'beforeChangeSet' } })
    await statusOf('app')
    await call('CreateChangeSet', { StackName: 'app' })
    expect(await statusOf('app')).toBe('UPDATE_COMPLETE') // stale after CreateChangeSet, as before
    expect(await statusOf('app')).toBe('REVIEW_IN_PROGRESS')
    await call('ExecuteChangeSet', { StackName: 'app' })
    expect(await statusOf('app')).toBe('UPDATE_COMPLETE')
    expect(await statusOf('app')).toBe('UPDATE_IN_PROGRESS')
  })

  it.each([
    [
      { staleReads: { stackName: 'app', count: 1, as: 'later' } },
      'staleReads.as must be "beforeChangeSet" when given'
    ],
    [{ staleReads: { count: 2 } }, 'staleReads needs stackName and count > 0'],
    [{ staleReads: { stackName: 'app', count: 0 } }, 'staleReads needs stackName and count > 0'],
    [
      { staleReads: { stackName: 'app', count: 1, operations: ['DescribeStacks'] } },
      'staleReads.operations must be a list of ExecuteChangeSet, DeleteStack, CreateChangeSet, UpdateStack, CreateStack'
    ],
    [{ dropResponse: true }, 'dropResponse rule needs "operation"']
  ])('refuses the rule %j', async (rule, error) => {
    expect(await addRule(rule)).toEqual({ status: 400, body: { error } })
  })
})

describe('drop-response', () => {
  it('forwards the call, then drops the answer: the target acted, the client saw the connection die', async () => {
    statuses.set('app', 'UPDATE_COMPLETE')
    await addRule({ operation: 'ExecuteChangeSet', dropResponse: true, times: 1 })
    await expect(call('ExecuteChangeSet', { StackName: 'app' })).rejects.toThrow('fetch failed')
    expect(received).toEqual(['ExecuteChangeSet app'])
    expect(statuses.get('app')).toBe('UPDATE_IN_PROGRESS')
    // Only once ("times": 1): the next call is answered.
    await expect(call('ExecuteChangeSet', { StackName: 'app' })).resolves.toContain(
      'ExecuteChangeSetResponse'
    )
    expect((await faultLog()).map((e) => [e['operation'], e['status'], e['dropped']])).toEqual([
      ['ExecuteChangeSet', 200, true],
      ['ExecuteChangeSet', 200, false]
    ])
  })

  it('makes the real SDK retry a call that already took effect, and the retry is answered', async () => {
    await addRule({ operation: 'CreateChangeSet', dropResponse: true, times: 1 })
    const cfn = new CloudFormationClient({
      region: 'eu-west-1',
      endpoint: proxyUrl,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 3
    })
    try {
      const answer = await cfn.send(
        new CreateChangeSetCommand({ StackName: 'app', ChangeSetName: 'cs', TemplateURL: 'x' })
      )
      expect(answer.StackId).toBe(STACK_ARN)
      expect(answer.$metadata.attempts).toBe(2)
    } finally {
      cfn.destroy()
    }
    expect(received).toEqual(['CreateChangeSet app', 'CreateChangeSet app'])
    expect((await faultLog()).map((e) => [e['service'], e['operation'], e['dropped']])).toEqual([
      ['cloudformation', 'CreateChangeSet', true],
      ['cloudformation', 'CreateChangeSet', false]
    ])
  })
})

describe('stall', () => {
  it('accepts the call and never answers nor forwards it; the next call is answered', async () => {
    statuses.set('app', 'UPDATE_COMPLETE')
    await addRule({ operation: 'DescribeStacks', stall: true, times: 1 })
    const controller = new AbortController()
    const stalled = fetch(proxyUrl, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams({ Action: 'DescribeStacks', StackName: 'app' }).toString()
    })
    const outcome = await Promise.race([
      stalled.then(() => 'answered'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 500))
    ])
    expect(outcome).toBe('still waiting')
    controller.abort()
    await expect(stalled).rejects.toThrow()
    expect(received).toEqual([])
    expect(await statusOf('app')).toBe('UPDATE_COMPLETE')
    expect((await faultLog()).map((e) => [e['operation'], e['stalled']])).toEqual([
      ['DescribeStacks', true],
      ['DescribeStacks', false]
    ])
  })

  it('refuses a stall rule without an operation', async () => {
    expect(await addRule({ stall: true })).toEqual({
      status: 400,
      body: { error: 'stall rule needs "operation"' }
    })
  })
})

describe('region', () => {
  /** A query call signed (as far as the proxy reads it: the SigV4 credential scope) for `region`. */
  async function callIn(region: string, action: string, name: string): Promise<string> {
    const response = await fetch(proxyUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/${region}/cloudformation/aws4_request, SignedHeaders=host, Signature=0`
      },
      body: new URLSearchParams({ Action: action, StackName: name }).toString()
    })
    return /<StackStatus>([^<]*)</.exec(await response.text())?.[1] ?? ''
  }

  it('holds a stack in one region only, from that region execute on', async () => {
    statuses.set('app', 'UPDATE_COMPLETE')
    await addRule({
      holdStatus: {
        stackName: 'app',
        status: 'UPDATE_IN_PROGRESS',
        seconds: 30,
        startOn: 'execute',
        region: 'us-west-2'
      }
    })
    await callIn('us-east-1', 'ExecuteChangeSet', 'app')
    statuses.set('app', 'UPDATE_COMPLETE')
    // us-east-1's execute does not start the us-west-2 hold.
    expect(await callIn('us-west-2', 'DescribeStacks', 'app')).toBe('UPDATE_COMPLETE')
    await callIn('us-west-2', 'ExecuteChangeSet', 'app')
    statuses.set('app', 'UPDATE_COMPLETE')
    expect([
      await callIn('us-west-2', 'DescribeStacks', 'app'),
      await callIn('us-east-1', 'DescribeStacks', 'app')
    ]).toEqual(['UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE'])
    expect((await faultLog()).map((e) => [e['region'], e['operation'], e['held']])).toEqual([
      ['us-east-1', 'ExecuteChangeSet', false],
      ['us-west-2', 'DescribeStacks', false],
      ['us-west-2', 'ExecuteChangeSet', false],
      ['us-west-2', 'DescribeStacks', true],
      ['us-east-1', 'DescribeStacks', false]
    ])
  })

  it('fails the calls signed for the rule region only', async () => {
    statuses.set('app', 'UPDATE_COMPLETE')
    await addRule({ operation: 'DescribeStacks', error: '5xx', region: 'us-west-2' })
    expect(await callIn('us-east-1', 'DescribeStacks', 'app')).toBe('UPDATE_COMPLETE')
    expect(await callIn('us-west-2', 'DescribeStacks', 'app')).toBe('')
    expect((await faultLog()).map((e) => [e['region'], e['status']])).toEqual([
      ['us-east-1', 200],
      ['us-west-2', 500]
    ])
  })

  it('refuses a region that is not a region name', async () => {
    expect(await addRule({ operation: 'DescribeStacks', error: '5xx', region: 'US West' })).toEqual(
      {
        status: 400,
        body: { error: 'region must be a region name such as "us-west-2"' }
      }
    )
  })
})

describe('hold-operation', () => {
  const statusOfOp = async () =>
    /<Status>([^<]*)</.exec(
      await call('DescribeStackSetOperation', { StackSetName: 'org', OperationId: 'op-1' })
    )?.[1]

  it('queues, runs, refuses an overlapping write, then fails one instance', async () => {
    await addRule({
      holdOperation: {
        stackSetName: 'org',
        seconds: 0.8,
        queuedSeconds: 0.3,
        status: 'FAILED',
        failInstance: { account: '222222222222', region: 'us-west-2', reason: 'boom' }
      }
    })
    await call('CreateStackInstances', { StackSetName: 'org', OperationId: 'op-1' })
    expect(await statusOfOp()).toBe('QUEUED')
    const overlap = await call('UpdateStackSet', { StackSetName: 'org:uuid', OperationId: 'op-2' })
    expect(overlap).toContain('<Code>OperationInProgressException</Code>')
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(await statusOfOp()).toBe('RUNNING')
    expect(await call('ListStackSetOperations', { StackSetName: 'org' })).toContain(
      '<Status>RUNNING</Status>'
    )
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(await statusOfOp()).toBe('FAILED')
    const results = await call('ListStackSetOperationResults', {
      StackSetName: 'org',
      OperationId: 'op-1'
    })
    expect(results).toContain(
      '<Account>222222222222</Account><Region>us-west-2</Region><Status>FAILED</Status><StatusReason>boom</StatusReason>'
    )
    expect(results).toContain(
      '<Account>111111111111</Account><Region>us-west-2</Region><Status>SUCCEEDED</Status>'
    )
    expect(received).not.toContain('UpdateStackSet ')
  })
})

describe('replication-status', () => {
  it("answers DescribeImageReplicationStatus in moto's place", async () => {
    await addRule({ replicationStatus: { regions: ['us-west-2'], registryId: '111111111111' } })
    const response = await fetch(proxyUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.DescribeImageReplicationStatus'
      },
      body: JSON.stringify({ repositoryName: 'svc', imageId: { imageDigest: 'sha256:00' } })
    })
    expect(await response.json()).toEqual({
      repositoryName: 'svc',
      imageId: { imageDigest: 'sha256:00' },
      replicationStatuses: [{ region: 'us-west-2', registryId: '111111111111', status: 'COMPLETE' }]
    })
  })
})

describe("timing (CloudFormation's own time)", () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
  const changeSetStatus = async () =>
    /<Status>([^<]*)</.exec(
      await call('DescribeChangeSet', {
        ChangeSetName: 'arn:aws:cloudformation:eu-west-1:123456789012:changeSet/cs/1'
      })
    )?.[1]
  const eventIds = async () =>
    [...(await call('DescribeStackEvents', { StackName: STACK_ARN })).matchAll(/<EventId>(\d)</g)]
      .map((m) => m[1])
      .join(',')

  it('is off until a rule is added', async () => {
    await call('CreateChangeSet', { StackName: 'app', ChangeSetName: 'cs' })
    expect(await changeSetStatus()).toBe('CREATE_COMPLETE')
  })

  it('makes the change set pending, then in progress, then ready (T1)', async () => {
    await addRule({ timing: { changeSetPending: 0.2, changeSet: 0.5 } })
    await call('CreateChangeSet', {
      StackName: 'app',
      ChangeSetName: 'cs',
      ChangeSetType: 'UPDATE'
    })
    expect(await changeSetStatus()).toBe('CREATE_PENDING')
    await sleep(250)
    expect(await changeSetStatus()).toBe('CREATE_IN_PROGRESS')
    await sleep(300)
    expect(await changeSetStatus()).toBe('CREATE_COMPLETE')
  })

  it.each([
    ['standard', {}, 700],
    ['express', { 'DeploymentConfig.Mode': 'EXPRESS' }, 300]
  ])(
    '%s: the stack is in progress for T2 (+ T3) and its events appear as they happen',
    async (_, extra, total) => {
      expect(
        (await addRule({ timing: { changeSet: 0, configure: 0.3, stabilise: 0.4 } })).status
      ).toBe(201)
      await call('CreateChangeSet', { StackName: 'app', ChangeSetName: 'cs', ...extra })
      await call('ExecuteChangeSet', { StackName: STACK_ARN, ChangeSetName: 'cs' })
      statuses.set('app', 'UPDATE_COMPLETE') // moto finishes at once
      const execute = (await faultLog()).find((e) => e['operation'] === 'ExecuteChangeSet')
      // No jitter: the logged end is the call's start plus T2 (+ T3) exactly.
      expect(Number(execute?.['modelEnd']) - Date.parse(String(execute?.['time']))).toBe(total)
      expect([await statusOf('app'), await eventIds()]).toEqual(['UPDATE_IN_PROGRESS', '2,1'])
      await sleep(total - 100)
      expect(await statusOf('app')).toBe('UPDATE_IN_PROGRESS')
      await sleep(200)
      expect([await statusOf('app'), await eventIds()]).toEqual(['UPDATE_COMPLETE', '4,3,2,1'])
    }
  )

  it('adds up to `jitter` s to the change set, and logs when it is ready', async () => {
    await addRule({ timing: { changeSetPending: 0, changeSet: 0.4, jitter: 0.4 } })
    await call('CreateChangeSet', { StackName: 'app', ChangeSetName: 'cs' })
    const entry = (await faultLog()).find((e) => e['operation'] === 'CreateChangeSet')
    const made = Date.parse(String(entry?.['time']))
    const ready = Number(entry?.['modelReady'])
    expect(ready - made).toBeGreaterThanOrEqual(400)
    expect(ready - made).toBeLessThanOrEqual(800 + 50)
    await sleep(Math.max(0, ready - Date.now() - 250))
    expect(await changeSetStatus()).toBe('CREATE_IN_PROGRESS')
    await sleep(Math.max(0, ready - Date.now() + 50))
    expect(await changeSetStatus()).toBe('CREATE_COMPLETE')
  })

  it('refuses a negative time', async () => {
    expect((await addRule({ timing: { configure: -1 } })).status).toBe(400)
  })
})
