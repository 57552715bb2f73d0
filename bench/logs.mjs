// Reads the texts the bench collects from the local world, pure: the fault proxy's request log,
// the docker shim's log and the registry's log as timed calls, and the counts in the job summary
// and the legacy builder's output. Every figure module builds on these; typed by logs.d.mts.

/** Parses a Go duration (`12.5ms`, `850µs`, `1m2.3s`) into milliseconds. */
export function goDurationMs(text) {
  const unit = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
  let total = 0
  for (const [, n, u] of String(text).matchAll(/([\d.]+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(n) * unit[u]
  }
  return total
}

/** The fault proxy's request log (`GET /__faults/log`) as intervals in epoch ms. */
export function parseProxyLog(entries) {
  return entries.map((e) => {
    const start = Date.parse(e.time)
    return { ...e, start, end: start + e.ms }
  })
}

/**
 * The docker shim's log, one `<start ns> <end ns> <exit code> <arg1> <arg2>` line per call, as
 * {start, end, rc, command} (epoch ms); `command` keeps what tells the calls apart.
 */
export function parseDockerLog(text) {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [start, end, rc, a1 = '', a2 = ''] = line.split(' ')
      return {
        start: nsToMs(start),
        end: nsToMs(end),
        rc: Number(rc),
        command: dockerCommand(a1, a2)
      }
    })
}

/**
 * A docker call's name from its first two arguments: the command, with the subcommand of
 * `image` and `buildx`, and `build --help` (the builder check) apart from the build.
 */
export function dockerCommand(a1, a2 = '') {
  if (a1 === 'build') return a2 === '--help' ? 'build --help' : 'build'
  if (a1 === 'image' || a1 === 'buildx') return `${a1} ${a2}`
  return a1
}

/** Epoch nanoseconds (past 2⁵³, so through BigInt) as epoch milliseconds to the microsecond. */
function nsToMs(text) {
  return /^\d+$/.test(text) ? Number(BigInt(text) / 1000n) / 1000 : NaN
}

/** The `key=value` / `key="quoted value"` fields of one logrus text line. */
function logFields(line) {
  const fields = {}
  for (const [, key, value] of line.matchAll(/([\w.]+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    fields[key] = value.startsWith('"') ? value.slice(1, -1) : value
  }
  return fields
}

/** The completed requests in a piece of the registry's log, as intervals in epoch ms. */
export function parseRegistryLog(text) {
  const requests = []
  for (const line of text.split('\n')) {
    if (!/msg="response completed( with error)?"/.test(line)) continue
    const fields = logFields(line)
    // Date.parse keeps milliseconds only; the registry logs nanoseconds.
    const end = Date.parse(String(fields.time).replace(/(\.\d{3})\d+/, '$1'))
    requests.push({
      start: end - goDurationMs(fields['http.response.duration']),
      end,
      method: fields['http.request.method'],
      uri: fields['http.request.uri'] ?? '',
      status: Number(fields['http.response.status']),
      docker: /^docker\//.test(fields['http.request.useragent'] ?? '')
    })
  }
  return requests
}

/** A registry request that PUTs an image manifest. */
export const isManifestPut = (r) => r.method === 'PUT' && /\/manifests\//.test(r.uri)

/**
 * What docker did at the registry: blob uploads started (202), cross-repository mounts (201),
 * manifest PUTs.
 */
export function registryCounts(requests) {
  const byDocker = requests.filter((r) => r.docker)
  const uploads = byDocker.filter((r) => r.method === 'POST' && /\/blobs\/uploads\//.test(r.uri))
  return {
    blobUploads: uploads.filter((r) => r.status === 202).length,
    blobMounts: uploads.filter((r) => r.status === 201).length,
    manifestPuts: byDocker.filter(isManifestPut).length
  }
}

/** Phase → seconds from the job summary's Time table. */
export function summaryPhases(summary) {
  const time = summary.slice(summary.lastIndexOf('Time'))
  const phases = {}
  for (const [, name, seconds] of time.matchAll(/<tr><td>([^<]+)<\/td><td>([\d.]+)<\/td><\/tr>/g)) {
    phases[name] = Number(seconds)
  }
  return phases
}

/** The legacy builder's own log: steps in the Dockerfile and how many came from the cache. */
export function buildLogFigures(stdout) {
  return {
    cached: (stdout.match(/^ ---> Using cache$/gm) ?? []).length,
    steps: Number(/^Step \d+\/(\d+) :/m.exec(stdout)?.[1] ?? NaN)
  }
}
