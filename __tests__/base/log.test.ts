/** log.ts: outside a region scope it is @actions/core; inside one every line carries the region. */
import { afterEach, beforeEach, describe, expect, it, test } from '@jest/globals'
import { captureStdout } from '../../__fixtures__/aws.js'
import { HOSTILE_ROWS, injectedCommands } from '../../__fixtures__/untrusted.js'
import * as log from '../../src/base/log.js'

let stdout: ReturnType<typeof captureStdout>
beforeEach(() => {
  process.env['RUNNER_DEBUG'] = '1'
  stdout = captureStdout()
})
afterEach(() => {
  stdout.restore()
  delete process.env['RUNNER_DEBUG']
})

describe('outside a region', () => {
  it('writes as @actions/core does, groups included', async () => {
    log.info('plain')
    log.warning('careful')
    log.debug('argv')
    await log.group('Phase', () => Promise.resolve(log.info('inside')))

    expect(stdout.lines()).toEqual([
      'plain',
      '::warning::careful',
      '::debug::argv',
      '::group::Phase',
      'inside',
      '::endgroup::'
    ])
    expect(log.prefix()).toBe('')
  })
})

describe('inside a region', () => {
  it('prefixes every line after the workflow command, multi-line messages line by line', async () => {
    await log.inRegion('us-east-1', async () => {
      log.info('one\ntwo')
      log.warning('careful')
      log.debug('argv')
      expect(log.prefix()).toBe('[us-east-1] ')
    })
    expect(stdout.lines()).toEqual([
      '[us-east-1] one',
      '[us-east-1] two',
      '::warning::[us-east-1] careful',
      '::debug::[us-east-1] argv'
    ])
  })

  it('turns a group into one line: regions side by side open no group', async () => {
    await Promise.all(
      ['eu-west-1', 'us-east-1'].map((region) =>
        log.inRegion(region, () =>
          log.group('Deploy stack', async () => {
            await new Promise((resolve) => setImmediate(resolve))
            log.info('done')
          })
        )
      )
    )
    const lines = stdout.lines()
    expect(lines.filter((l) => l.startsWith('::group::') || l === '::endgroup::')).toEqual([])
    expect([...lines].sort()).toEqual([
      '[eu-west-1] done',
      '[eu-west-1] ▸ Deploy stack',
      '[us-east-1] done',
      '[us-east-1] ▸ Deploy stack'
    ])
  })

  it('keeps each region its own across awaits that interleave', async () => {
    const tick = () => new Promise((resolve) => setImmediate(resolve))
    await Promise.all(
      ['a-1', 'b-2'].map((region) =>
        log.inRegion(region, async () => {
          for (let i = 0; i < 3; i++) {
            await tick()
            log.info(`step ${i}`)
          }
        })
      )
    )
    for (const line of stdout.lines()) expect(line).toMatch(/^\[(a-1|b-2)\] step \d$/)
    expect(stdout.lines().filter((l) => l.startsWith('[a-1]'))).toEqual([
      '[a-1] step 0',
      '[a-1] step 1',
      '[a-1] step 2'
    ])
  })
})

describe('untrusted text', () => {
  test.each(HOSTILE_ROWS)(
    '%s: no line of any kind starts a workflow command',
    async (_n, hostile) => {
      log.info(hostile)
      log.warning(hostile)
      log.debug(hostile)
      log.printCommand('docker', ['build', '--target', hostile])
      await log.group(hostile, () => Promise.resolve(log.info(`inside ${hostile}`)))
      await log.inRegion('eu-west-1', async () => {
        log.info(hostile)
        await log.group(hostile, () => Promise.resolve())
      })

      expect(injectedCommands(stdout.text())).toEqual([])
    }
  )

  it('prints a command on one line, each argument as given but its control characters', () => {
    log.printCommand('docker', [
      'build',
      '--target',
      'app\n::warning::PWNED',
      '--build-arg',
      'A=b c'
    ])
    expect(stdout.lines()).toEqual([
      '[command]docker build --target app␊::warning::PWNED --build-arg A=b c'
    ])
  })

  it('cuts long values in warnings, not in the log', () => {
    log.warning(`got ${'a'.repeat(100_000)}`)
    log.info('b'.repeat(5000))
    expect(stdout.lines()).toEqual([`::warning::got ${'a'.repeat(200)}…`, 'b'.repeat(5000)])
  })
})
