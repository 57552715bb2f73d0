/**
 * Secrets, proven on the whole action with the recording fake docker and debug logging on
 * (RUNNER_DEBUG=1, ACTIONS_STEP_DEBUG=true): the ECR password never reaches an argv, an
 * environment or the log unmasked, and lives only in a private DOCKER_CONFIG that is gone after
 * the run (also a failed one); NoEcho parameter values are masked before anything prints them and
 * never reach the summary; no value ever passes through a shell.
 */
import { afterEach, describe, expect, it, jest, test } from '@jest/globals'
import {
  CancelUpdateStackCommand,
  CreateChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand
} from '@aws-sdk/client-cloudformation'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { awsError } from '../__fixtures__/aws.js'
import type { FakeDockerOptions } from '../__fixtures__/fake-docker.js'
import {
  BUILD_AND_PUSH_COMMANDS,
  CHANGE_SET_ID,
  CHANGE_SET_NAME,
  createdStack,
  DB_PASSWORD,
  IMAGE_URI,
  PASSWORD,
  REGISTRY,
  STACK,
  STACK_ID,
  TEMPLATE,
  TOKEN,
  useHarness,
  type Harness
} from '../__fixtures__/fail-safe/harness.js'
import { FUNCTION_UPDATE } from '../__fixtures__/run-scenarios.js'

const h = useHarness()

const SECRETS = { password: PASSWORD, token: TOKEN }

/** Log lines holding `secret`, other than its own `::add-mask::` line. */
function unmasked(lines: string[], secret: string): string[] {
  return lines.filter((line) => line.includes(secret) && line !== `::add-mask::${secret}`)
}

/** A docker config of the user's own, as a runner may have one: the action must not touch it. */
function useOwnDockerConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'users-docker-config-'))
  process.env['DOCKER_CONFIG'] = dir
  return dir
}

describe('the ECR password', () => {
  it('never reaches an argv, an environment, stdout or stderr, even with debug logging on', async () => {
    const own = useOwnDockerConfig()
    const fake = h.useDocker()
    try {
      await h.run()

      expect(h.errors()).toEqual([])
      const calls = fake.calls()
      expect(calls.map((call) => call.argv[0])).toEqual(BUILD_AND_PUSH_COMMANDS)
      for (const call of calls) {
        for (const secret of Object.values(SECRETS)) {
          expect(call.argv.filter((arg) => arg.includes(secret))).toEqual([])
          expect(Object.entries(call.env).filter(([, value]) => value.includes(secret))).toEqual([])
        }
        // Only `docker login --password-stdin` reads stdin, and it gets the password there.
        expect(call.stdin).toBe(call.argv[0] === 'login' ? PASSWORD : null)
      }

      const lines = h.lines()
      // Debug logging really was on: every docker argv went to the log.
      expect(lines.filter((line) => line.startsWith('::debug::run: docker'))).toHaveLength(
        calls.length
      )
      expect(lines).toContain(`::add-mask::${PASSWORD}`)
      expect(lines).toContain(`::add-mask::${TOKEN}`)
      for (const secret of Object.values(SECRETS)) {
        expect(unmasked(lines, secret)).toEqual([])
        expect(h.outputs()).not.toContain(secret)
        expect(h.summary()).not.toContain(secret)
        expect(h.comments().join('\n')).not.toContain(secret)
        expect(
          Object.entries(process.env).filter(
            ([name, value]) => !name.startsWith('FAKE_DOCKER_') && value?.includes(secret)
          )
        ).toEqual([])
      }
      // The login went to neither the user's docker config nor the default one.
      expect(readdirSync(own)).toEqual([])
    } finally {
      rmSync(own, { recursive: true, force: true })
    }
  })

  it('lives in a private DOCKER_CONFIG that only build, login and push see, removed after the run', async () => {
    const own = useOwnDockerConfig()
    const fake = h.useDocker()
    try {
      await h.run()

      expect(h.errors()).toEqual([])
      const [login] = fake.callsOf('login')
      const config = login?.dockerConfig ?? ''
      expect(dirname(config)).toBe(tmpdir())
      expect(config).toMatch(/\/oci-stack-deploy-docker-[^/]+$/)
      expect(config.startsWith(h.workspace())).toBe(false)
      for (const call of fake.calls()) {
        // The build needs the login too (a registry build cache); tag, inspect and version keep
        // the user's own configuration.
        const needsLogin = ['build', 'login', 'push'].includes(call.argv[0] ?? '')
        expect([call.argv[0], call.dockerConfig]).toEqual([call.argv[0], needsLogin ? config : own])
      }
      expect(existsSync(config)).toBe(false)
      expect(process.env['DOCKER_CONFIG']).toBe(own)
    } finally {
      rmSync(own, { recursive: true, force: true })
    }
  })

  test.each<{
    name: string
    docker?: FakeDockerOptions
    aws?: (harness: Harness) => void
    error: string
  }>([
    {
      name: 'the registry refuses the login',
      docker: { password: 'another-password' },
      error: `docker login ${REGISTRY} failed (exit code 1): Error response from daemon: Get "https://${REGISTRY}/v2/": unauthorized: authentication required`
    },
    {
      name: 'the push fails twice',
      docker: { pushFail: true },
      error: `docker push ${IMAGE_URI} failed (exit code 1): denied: Your authorization token has expired. Reauthenticate and try again.`
    },
    {
      name: 'CloudFormation refuses the change set after the push',
      aws: (harness) =>
        harness.cfn
          .on(CreateChangeSetCommand)
          .rejects(awsError('ValidationError', 'Template format error: bad')),
      error: `CloudFormation refused the change set for ${STACK} (CreateChangeSet): Template format error: bad`
    }
  ])('is removed with its directory also when $name', async ({ docker, aws, error }) => {
    aws?.(h)
    const fake = h.useDocker(docker)
    await h.run()

    expect(h.errors()).toEqual([error])
    const configs = new Set(fake.callsOf('login').map((call) => call.dockerConfig ?? ''))
    expect(configs.size).toBe(1)
    for (const config of configs) {
      expect(config).toMatch(/oci-stack-deploy-docker-/)
      expect(existsSync(config)).toBe(false)
    }
    for (const secret of Object.values(SECRETS)) {
      expect(unmasked(h.lines(), secret)).toEqual([])
      expect(h.comments().join('\n')).not.toContain(secret)
    }
  })
})

describe('the private DOCKER_CONFIG on a cancelled workflow', () => {
  afterEach(() => {
    jest.restoreAllMocks()
  })

  it('is gone before the process exits', async () => {
    const signal = 'SIGUSR2'
    const existing = createdStack({ StackStatus: 'UPDATE_COMPLETE' })
    h.cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({ Stacks: [existing] })
    h.cfn
      .on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_NAME })
      .rejects(awsError('ChangeSetNotFoundException', 'none'))
    let executed = false
    let signalled = false
    let cancelled = false
    h.cfn.on(ExecuteChangeSetCommand).callsFake(() => {
      executed = true
      return {}
    })
    h.cfn.on(CancelUpdateStackCommand).callsFake(() => {
      cancelled = true
      return {}
    })
    const before = process.listeners(signal)
    let polls = 0
    // The runner cancels the job while the action waits for its update.
    h.cfn.on(DescribeStacksCommand, { StackName: STACK_ID }).callsFake(() => {
      if (executed && !signalled) {
        signalled = true
        process.listeners(signal).find((listener) => !before.includes(listener))?.(signal)
      }
      polls += 1
      if (polls > 50) throw new Error('the cancel never came')
      const status = cancelled ? 'UPDATE_ROLLBACK_COMPLETE' : 'UPDATE_IN_PROGRESS'
      return { Stacks: [{ ...existing, StackStatus: status }] }
    })
    const fake = h.useDocker()
    const atExit: Array<{ code: unknown; configExists: boolean }> = []
    jest.spyOn(process, 'exit').mockImplementation(((code: unknown) => {
      const config = fake.callsOf('login')[0]?.dockerConfig ?? ''
      atExit.push({ code, configExists: config === '' || existsSync(config) })
    }) as never)

    await h.run({ signals: [signal] })
    await new Promise((resolve) => setImmediate(resolve))

    expect(signalled).toBe(true)
    expect(h.cfn.commandCalls(CancelUpdateStackCommand)).toHaveLength(1)
    expect(atExit).toEqual([{ code: 1, configExists: false }])
  })
})

describe('NoEcho parameters', () => {
  /** An existing stack, as an emulator that does not mask NoEcho values (moto) describes it. */
  function unmaskingService(oldValue: string): void {
    const existing = createdStack({
      StackStatus: 'UPDATE_COMPLETE',
      Parameters: [
        { ParameterKey: 'CodeImageURI', ParameterValue: `${REGISTRY}/hello-service:previous` },
        { ParameterKey: 'Stage', ParameterValue: 'prod' },
        { ParameterKey: 'DbPassword', ParameterValue: oldValue }
      ]
    })
    // As CloudFormation answers: the stack as it was until our change set runs, then updated by it.
    let executed = false
    h.cfn.on(ExecuteChangeSetCommand).callsFake(() => {
      executed = true
      return {}
    })
    h.cfn.on(DescribeStacksCommand).callsFake(() => ({
      Stacks: [
        executed
          ? {
              ...existing,
              LastUpdatedTime: new Date('2024-05-01T12:05:00Z'),
              ChangeSetId: CHANGE_SET_ID
            }
          : existing
      ]
    }))
    h.cfn
      .on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_NAME })
      .rejects(awsError('ChangeSetNotFoundException', 'none'))
    h.cfn.on(DescribeChangeSetCommand, { ChangeSetName: CHANGE_SET_ID }).resolves({
      ChangeSetId: CHANGE_SET_ID,
      StackId: STACK_ID,
      Status: 'CREATE_COMPLETE',
      ExecutionStatus: 'AVAILABLE',
      Parameters: [
        { ParameterKey: 'CodeImageURI', ParameterValue: IMAGE_URI },
        { ParameterKey: 'Stage', ParameterValue: 'prod' },
        { ParameterKey: 'DbPassword', ParameterValue: DB_PASSWORD }
      ],
      Changes: [FUNCTION_UPDATE]
    })
  }

  test.each(['deploy', 'review'])(
    'masks a value given in parameter-overrides before any line shows it, and keeps it out of the summary (mode %s)',
    async (mode) => {
      const old = 'old-db-pass-77'
      unmaskingService(old)
      h.setInputs({ mode })
      h.useDocker()
      await h.run()

      expect(h.errors()).toEqual([])
      const lines = h.lines()
      const mask = lines.indexOf(`::add-mask::${DB_PASSWORD}`)
      expect(mask).toBeGreaterThanOrEqual(0)
      expect(lines.findIndex((line) => line.includes(DB_PASSWORD))).toBe(mask)
      // The value reached CloudFormation as given.
      expect(
        h.cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input.Parameters
      ).toContainEqual({
        ParameterKey: 'DbPassword',
        ParameterValue: DB_PASSWORD
      })
      // The parameter table is there, without the NoEcho values, old or new.
      const summary = h.summary()
      expect(summary).toContain('<h3>Parameter changes</h3>')
      expect(summary).toContain('<td>CodeImageURI</td>')
      // Both sides read '****', as CloudFormation itself shows them: no row for DbPassword.
      expect(summary).not.toContain('<td>DbPassword</td>')
      expect(h.comments()).toHaveLength(1)
      for (const value of [DB_PASSWORD, old]) {
        expect(summary).not.toContain(value)
        expect(h.outputs()).not.toContain(value)
        expect(h.comments()[0]).not.toContain(value)
        expect(unmasked(lines, value)).toEqual([])
      }
    }
  )

  it('masks a value given in a parameter file', async () => {
    h.write('params/prod.json', JSON.stringify({ DbPassword: 'from-a-file-91c2', Stage: 'prod' }))
    h.setInputs({ 'parameter-overrides': 'params/prod.json' })
    h.useDocker()
    await h.run()

    expect(h.errors()).toEqual([])
    const lines = h.lines()
    expect(lines.find((line) => line.includes('from-a-file-91c2'))).toBe(
      '::add-mask::from-a-file-91c2'
    )
    expect(h.summary()).not.toContain('from-a-file-91c2')
  })
})

describe('no shell anywhere', () => {
  it('hands values with shell metacharacters to docker and CloudFormation unchanged, running none of them', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'no-shell-'))
    const pwned = join(scratch, 'pwned')
    const hostile = `$(touch ${pwned}-1); touch ${pwned}-2 && echo \`touch ${pwned}-3\`; rm -rf ${scratch}`
    const template = TEMPLATE.replace(
      "AWSTemplateFormatVersion: '2010-09-09'",
      `AWSTemplateFormatVersion: '2010-09-09'\nDescription: "${hostile.replace(/"/g, '\\"')}"`
    )
    h.write('template.yaml', template)
    h.setInputs({
      'parameter-overrides': `DbPassword=${DB_PASSWORD}\nStage=${hostile}`,
      'build-args': `GREETING=${hostile}`,
      tags: `team=${hostile}`
    })
    const fake = h.useDocker()
    try {
      await h.run()

      expect(h.errors()).toEqual([])
      expect(fake.callsOf('build')[1]?.argv).toContain(`GREETING=${hostile}`)
      const input = h.cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input
      expect(input?.Parameters).toContainEqual({ ParameterKey: 'Stage', ParameterValue: hostile })
      expect(input?.Tags).toContainEqual({ Key: 'team', Value: hostile })
      const body = h.s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Body as Uint8Array
      expect(Buffer.from(body).equals(readFileSync(join(h.workspace(), 'template.yaml')))).toBe(
        true
      )
      expect(readdirSync(scratch)).toEqual([])
    } finally {
      rmSync(scratch, { recursive: true, force: true })
    }
  })
})
