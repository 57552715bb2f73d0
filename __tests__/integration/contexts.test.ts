/**
 * A runner whose engine is reached through a Docker context, not DOCKER_HOST: a context named
 * `world` pointing at the world's engine, selected with `docker context use`, DOCKER_HOST unset
 * and no engine on the default socket. Login, pull, push and build must all reach that engine.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBucket } from '../../local/action-runner.mjs'
import { deploy, expectSuccess, logOf, registryDigest, worldEnv } from './world.js'

const bucket = 'context-artifacts'
const engine = process.env['LOCAL_WORLD_ENGINE'] ?? 'legacy'
const unique = `${engine}-${Date.now().toString(36)}`
let config = ''

beforeAll(async () => {
  const { DOCKER_HOST } = worldEnv()
  await createBucket(bucket)
  config = mkdtempSync(join(tmpdir(), 'context-docker-config-'))
  // The world's config (it names the buildx plugin on BuildKit engines), then the context.
  const worldConfig = join(process.env['DOCKER_CONFIG'] ?? '', 'config.json')
  writeFileSync(
    join(config, 'config.json'),
    existsSync(worldConfig) ? readFileSync(worldConfig) : '{}'
  )
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: config }
  delete env['DOCKER_HOST']
  execFileSync('docker', ['context', 'create', 'world', '--docker', `host=${DOCKER_HOST}`], { env })
  execFileSync('docker', ['context', 'use', 'world'], { env, stdio: 'ignore' })
})

afterAll(() => {
  rmSync(config, { recursive: true, force: true })
})

describe('a Docker context instead of DOCKER_HOST', () => {
  it('deploys through the context `world`, with no engine on the default socket', async () => {
    expect(existsSync('/var/run/docker.sock')).toBe(false)
    expect(
      (JSON.parse(readFileSync(join(config, 'config.json'), 'utf8')) as { currentContext?: string })
        .currentContext
    ).toBe('world')
    const saved = { host: process.env['DOCKER_HOST'], config: process.env['DOCKER_CONFIG'] }
    delete process.env['DOCKER_HOST']
    process.env['DOCKER_CONFIG'] = config
    let digest: string | undefined
    try {
      const run = await deploy({
        bucket,
        'stack-name': `context-${unique}`,
        'build-id': `ctx-${unique}`
      })
      expectSuccess(run)
      digest = run.outputs['image-digest']
      // The deploy built and pushed through the context, not a default engine.
      expect(logOf(run)).not.toContain('Cannot connect to the Docker daemon')
    } finally {
      process.env['DOCKER_HOST'] = saved.host
      process.env['DOCKER_CONFIG'] = saved.config
    }
    expect(await registryDigest('spartaoci', `ctx-${unique}`)).toBe(digest)
  }, 300000)
})
