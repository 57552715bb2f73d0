/**
 * bench/logs.mjs: reading the texts the bench collects, on the update run's log fixtures
 * (__fixtures__/bench/update-*), whose times count from T0.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import {
  goDurationMs,
  parseDockerLog,
  parseRegistryLog,
  registryCounts
} from '../../bench/logs.mjs'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')
const fixture = (name: string): string =>
  readFileSync(join(process.cwd(), '__fixtures__', 'bench', name), 'utf8')

describe('the logs', () => {
  it.each([
    ['12.5ms', 12.5],
    ['850µs', 0.85],
    ['850us', 0.85],
    ['1m2.5s', 62_500],
    ['250ns', 0.00025]
  ])('reads the Go duration %s as %d ms', (text, ms) => {
    expect(goDurationMs(text)).toBeCloseTo(ms, 9)
  })

  it('reads the docker shim log, keeping what tells the calls apart', () => {
    const calls = parseDockerLog(fixture('update-docker-log.txt'))
    expect(calls.map((c) => c.command)).toEqual([
      'version',
      'build --help',
      'build',
      'image inspect',
      'login',
      'tag',
      'push',
      'image inspect'
    ])
    expect(calls[2]).toEqual({ start: T0 + 500, end: T0 + 1500, rc: 0, command: 'build' })
  })

  it('reads completed registry requests, with nanosecond times and any Go duration', () => {
    const requests = parseRegistryLog(fixture('update-registry-log.txt'))
    expect(requests).toHaveLength(5)
    expect(requests[1]).toEqual({
      start: T0 + 1560,
      end: T0 + 1570,
      method: 'GET',
      uri: '/v2/hello/manifests/b1-2',
      status: 404,
      docker: false
    })
    expect(requests[3]).toMatchObject({
      start: T0 + 1955,
      uri: '/v2/hello/blobs/uploads/?from=other&mount=sha256:ab',
      docker: true
    })
  })

  it('tells blob uploads (202) from cross-repository mounts (201)', () => {
    expect(registryCounts(parseRegistryLog(fixture('update-registry-log.txt')))).toEqual({
      blobUploads: 1,
      blobMounts: 1,
      manifestPuts: 2
    })
  })
})
