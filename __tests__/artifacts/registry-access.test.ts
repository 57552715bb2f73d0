/**
 * Registry access through run(): the password only on stdin and masked, one fresh login after a
 * refused push, and the private DOCKER_CONFIG removed however the run ends.
 */
import { describe, expect, it } from '@jest/globals'
import { CreateChangeSetCommand } from '@aws-sdk/client-cloudformation'
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr'
import { existsSync, readFileSync } from 'node:fs'
import {
  BUILD_COMMANDS,
  cfn,
  commands,
  DB_PASSWORD,
  ecr,
  failure,
  harness,
  IMAGE_URI,
  installRunHarness,
  PASSWORD,
  readOutputs,
  runAction,
  summary,
  TOKEN,
  useDocker
} from '../../__fixtures__/run-harness.js'

installRunHarness()

describe('registry access', () => {
  it('never lets the registry password out: not in argv, not in any env, only masked in the log', async () => {
    const fake = useDocker()
    await runAction()
    expect(failure()).toBeUndefined()

    for (const call of fake.calls()) {
      expect(call.argv.join(' ')).not.toContain(PASSWORD)
      expect(Object.entries(call.env).filter(([, value]) => value.includes(PASSWORD))).toEqual([])
      if (call.argv[0] !== 'login') expect(call.stdin).toBeNull()
    }
    const leaked = Object.entries(process.env).filter(
      ([name, value]) => !name.startsWith('FAKE_DOCKER_') && value?.includes(PASSWORD)
    )
    expect(leaked).toEqual([])
    const lines = harness.stdout.lines()
    expect(lines).toContain(`::add-mask::${PASSWORD}`)
    expect(lines).toContain(`::add-mask::${TOKEN}`)
    expect(lines).toContain(`::add-mask::${DB_PASSWORD}`)
    expect(lines.some((line) => line.startsWith('::debug::run: docker'))).toBe(true)
    for (const secret of [PASSWORD, TOKEN, DB_PASSWORD]) {
      expect(lines.filter((l) => l.includes(secret) && !l.startsWith('::add-mask::'))).toEqual([])
    }
    expect(readFileSync(harness.outputFile, 'utf8')).not.toContain(PASSWORD)
    expect(summary()).not.toContain(PASSWORD)
  })

  it('logs in again and pushes once more when the first push is refused', async () => {
    const fake = useDocker({ pushFailOnce: true })
    await runAction()

    expect(failure()).toBeUndefined()
    expect(commands()).toEqual([...BUILD_COMMANDS, 'login', 'tag', 'push', 'login', 'push'])
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(2)
    expect(fake.callsOf('login').map((c) => c.stdin)).toEqual([PASSWORD, PASSWORD])
    expect(readOutputs()['image-uri']).toBe(IMAGE_URI)
  })

  it('removes the private DOCKER_CONFIG when the push fails', async () => {
    const fake = useDocker({ pushFail: true })
    await runAction()

    expect(failure()).toBe(
      `docker push ${IMAGE_URI} failed (exit code 1): denied: Your authorization token has expired. Reauthenticate and try again.`
    )
    expect(process.exitCode).toBe(1)
    const configs = new Set(fake.callsOf('login').map((c) => c.dockerConfig))
    expect(configs.size).toBe(1)
    for (const dir of configs) expect(existsSync(dir ?? '')).toBe(false)
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0)
  })
})
