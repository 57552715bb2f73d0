/**
 * Org scale against the local world: examples/hello deployed as a stack set (input
 * `stack-set-name`) to both accounts in both regions, the fault proxy giving the operations
 * CloudFormation's queueing, run time, overlapping calls and a failing instance (moto runs them at
 * once), and moto's instance stacks patched to follow updates (local/moto_launcher.py patch 10).
 * The tests run in order: create, update while another run's operation is in progress, a failing
 * instance within and beyond the tolerance, delete.
 */
import { describe, expect, it } from '@jest/globals'
import type { ActionRun, Credentials } from '../../local/action-runner.mjs'
import {
  accountBCredentials,
  addFault,
  awsCli,
  deploy,
  describeStackCli,
  expectSuccess,
  logOf,
  useWorld,
  worldNames
} from './world.js'

const unique = Date.now().toString(36)
const stackSet = `org-${unique}`
const bucket = `org-${unique}`

useWorld(bucket, { clearFaultRules: true })

interface Instance {
  account: string
  region: string
  status: string
  reason: string
  stackId: string
  imageUri: string
}

function inputs(buildId: string, extra: Record<string, string> = {}): Record<string, string> {
  const { a, b, region1, region2 } = worldNames()
  return {
    template: 'examples/hello/stack-set.yaml',
    bucket,
    regions: `${region1},${region2}`,
    'stack-set-name': stackSet,
    accounts: `${a},${b}`,
    'build-id': buildId,
    'failure-tolerance': '1',
    'max-concurrent': '2',
    ...extra
  }
}

function instancesOf(run: ActionRun): Instance[] {
  return JSON.parse(run.outputs['instances'] ?? '[]') as Instance[]
}

/** Each instance's stack, read in its own account and region, runs its own region's image. */
function expectEachStackRuns(run: ActionRun, digest: string, accountB: Credentials): void {
  const { a } = worldNames()
  const instances = instancesOf(run)
  expect(instances).toHaveLength(4)
  for (const i of instances) {
    const stack = describeStackCli(i.stackId, {
      region: i.region,
      ...(i.account === a ? {} : { credentials: accountB })
    })
    const deployed = stack.Outputs?.find((o) => o.OutputKey === 'DeployedImage')?.OutputValue
    expect(deployed).toBe(`${a}.dkr.ecr.${i.region}.amazonaws.com/spartaoci@${digest}`)
  }
}

describe('stack sets', () => {
  let accountB: Credentials
  let digest = ''

  it('creates 2 accounts x 2 regions through a queued, then running operation', async () => {
    accountB = await accountBCredentials()
    // RUNNING lasts 2.5 s, longer than any poll interval of the first 5 s (0.2 s growing by half),
    // so a poll sees it even on a loaded machine.
    await addFault({ holdOperation: { stackSetName: stackSet, seconds: 4, queuedSeconds: 1.5 } })
    const run = await deploy(inputs(`ss1-${unique}`))
    expectSuccess(run)
    digest = run.outputs['image-digest'] ?? ''
    expect(run.stdout).toMatch(
      /operation \S+ QUEUED\n[\s\S]*operation \S+ RUNNING\n[\s\S]*operation \S+ SUCCEEDED/
    )
    expectEachStackRuns(run, digest, accountB)
    const { b, region2 } = worldNames()
    const policy = awsCli(['ecr', 'get-repository-policy', '--repository-name', 'spartaoci'], {
      region: region2
    }) as { policyText: string }
    expect(policy.policyText).toContain(`arn:aws:lambda:${region2}:${b}:function:*`)
    expect(run.outputs['stack-set-id']).toMatch(new RegExp(`^${stackSet}:`))
  })

  it('updates every instance to a new digest; an overlapping run waits for it, then goes on', async () => {
    await addFault({ holdOperation: { stackSetName: stackSet, seconds: 8 } })
    // Each run changes the stack set (Stage differs), so whichever comes second must write too.
    // (The next test builds new digests: it cannot know which Stage came last.)
    const first = deploy(inputs(`ss2-${unique}`, { 'parameter-overrides': 'Stage=prod' }))
    const second = deploy(inputs(`ss2-${unique}`, { 'parameter-overrides': 'Stage=dev' }))
    const runs = await Promise.all([first, second])
    for (const run of runs) expectSuccess(run)
    // The run that waited updated last: every instance runs its digest (two builds side by side
    // may make two digests of one build id).
    const waited = runs.find((r) =>
      r.stdout.includes('is in progress; waiting for it before starting ours')
    )
    expect(waited).toBeDefined()
    const updated = waited?.outputs['image-digest'] ?? ''
    expect(updated).not.toBe(digest)
    expectEachStackRuns(waited as ActionRun, updated, accountB)
  })

  it('warns about a failing instance within the tolerance and fails beyond it, naming it', async () => {
    const { b, region2 } = worldNames()
    const failInstance = {
      account: b,
      region: region2,
      reason: 'Resource handler returned message: boom'
    }
    await addFault({ holdOperation: { stackSetName: stackSet, seconds: 1, failInstance } })
    const within = await deploy(inputs(`ss3-${unique}`))
    expectSuccess(within)
    expect(within.stdout).toContain(
      `Instance ${b} ${region2} failed within the failure tolerance: Resource handler returned message: boom.`
    )

    await addFault({
      holdOperation: { stackSetName: stackSet, seconds: 1, failInstance, status: 'FAILED' }
    })
    const beyond = await deploy(inputs(`ss4-${unique}`))
    expect(beyond.exitCode).toBe(1)
    expect(logOf(beyond)).toContain(
      `${b} ${region2}: FAILED (Resource handler returned message: boom)`
    )
    const row = instancesOf(beyond).find((i) => i.account === b && i.region === region2)
    expect(row).toMatchObject({
      status: 'FAILED',
      reason: 'Resource handler returned message: boom'
    })
  })

  it('deletes every instance, then the stack set', async () => {
    const { region1 } = worldNames()
    const before = awsCli([
      'cloudformation',
      'list-stack-instances',
      '--stack-set-name',
      stackSet
    ]) as {
      Summaries: Array<{ StackId: string; Region: string }>
    }
    const run = await deploy({
      ...inputs('unused'),
      mode: 'delete',
      template: '',
      dockerfile: '',
      binary: '',
      bucket: '',
      'build-id': '',
      'create-repository': ''
    })
    expectSuccess(run)
    const stack = before.Summaries.find((s) => s.Region === region1)?.StackId ?? ''
    const status = (): string => {
      try {
        return describeStackCli(stack).StackStatus
      } catch {
        return 'GONE'
      }
    }
    expect(['DELETE_COMPLETE', 'GONE']).toContain(status())
    expect(() =>
      awsCli(['cloudformation', 'describe-stack-set', '--stack-set-name', stackSet])
    ).toThrow()
  })
})
