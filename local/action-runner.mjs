// Runs the bundled action as GitHub does: `node dist/index.js` with INPUT_* variables and the
// GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, then reads what it wrote. Shared by the demo, the
// integration tests and the benchmark; it only sets what a runner sets, never a test-only input.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3'
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'

/** Parses a GITHUB_OUTPUT file (`name<<delimiter` blocks and `name=value` lines). */
export function parseOutputFile(text) {
  const outputs = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const value = []
      while (++i < lines.length && lines[i] !== delimiter) value.push(lines[i])
      outputs[name] = value.join('\n')
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return outputs
}

/**
 * Runs `node dist/index.js` in `root` with the given inputs.
 * options.env: extra environment; options.stdio 'inherit' streams the log (it is then not captured);
 * options.signal: { pattern, delayMs, name } kills the run with a signal once its log matches.
 * The result's `timing` holds epoch milliseconds: spawned, first stdout byte (null when inherited
 * or silent), exited.
 */
export async function runAction(root, inputs, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'action-run-'))
  const outputFile = join(dir, 'output')
  const summaryFile = join(dir, 'summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const env = {
    ...process.env,
    GITHUB_WORKSPACE: root,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_ACTIONS: 'true',
    ...(options.env ?? {})
  }
  for (const key of Object.keys(env)) if (key.startsWith('INPUT_')) delete env[key]
  for (const [name, value] of Object.entries(inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  const spawnedAt = Date.now()
  let firstOutputAt = null
  let exitedAt = null
  const child = spawn(process.execPath, [join(root, 'dist', 'index.js')], {
    cwd: root,
    env,
    stdio:
      options.stdio === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  // options.signal: sent once stdout matches, as a cancelled workflow does (the runner sends
  // SIGINT, then SIGTERM).
  const signal = options.signal
  let signalled = false
  child.stdout?.on('data', (chunk) => {
    firstOutputAt ??= Date.now()
    stdout += chunk
    if (signal && !signalled && signal.pattern.test(stdout)) {
      signalled = true
      setTimeout(() => child.kill(signal.name ?? 'SIGTERM'), signal.delayMs ?? 0)
    }
  })
  child.on('exit', () => (exitedAt = Date.now()))
  child.stderr?.on('data', (chunk) => (stderr += chunk))
  const exitCode = await new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve(code ?? 1))
  })
  const result = {
    exitCode,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    timing: { spawnedAt, firstOutputAt, exitedAt: exitedAt ?? Date.now() }
  }
  rmSync(dir, { recursive: true, force: true })
  return result
}

/**
 * Creates an S3 bucket in the local world's region, or `region` (optionally versioned), as the
 * world's account or as `credentials` (from assumeRole); existing is fine.
 */
export async function createBucket(bucket, { versioning = false, region, credentials } = {}) {
  const bucketRegion = region ?? process.env.AWS_REGION ?? 'us-east-1'
  const s3 = quietly(
    () => new S3Client({ region: bucketRegion, ...(credentials ? { credentials } : {}) })
  )
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(bucketRegion === 'us-east-1'
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: bucketRegion } })
      })
    )
  } catch (error) {
    if (error?.name !== 'BucketAlreadyOwnedByYou' && error?.name !== 'BucketAlreadyExists')
      throw error
  }
  if (versioning) {
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: bucket,
        VersioningConfiguration: { Status: 'Enabled' }
      })
    )
  }
  s3.destroy()
}

/**
 * Credentials in another account of the local world, as a release job gets them: STS AssumeRole
 * into `arn:aws:iam::<account>:role/<role>`, asked of moto directly (LOCAL_MOTO_URL, so the fault
 * proxy's log holds only the action's calls). moto issues keys that it then takes as that
 * account's; the role need not exist. Returns SDK credentials; credentialsEnv turns them into the
 * variables aws-actions/configure-aws-credentials exports.
 */
export async function assumeRole(
  account,
  { role = 'release-deployer', sessionName = 'local-world' } = {}
) {
  const sts = quietly(
    () =>
      new STSClient({
        region: process.env.AWS_REGION ?? 'us-east-1',
        ...(process.env.LOCAL_MOTO_URL ? { endpoint: process.env.LOCAL_MOTO_URL } : {})
      })
  )
  try {
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${account}:role/${role}`,
        RoleSessionName: sessionName
      })
    )
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
      throw new Error(`AssumeRole into ${account} returned no credentials`)
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken
    }
  } finally {
    sts.destroy()
  }
}

/** The environment of a step that runs with `credentials` (for runAction's options.env). */
export function credentialsEnv(credentials) {
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken
  }
}

/**
 * Makes an SDK client without the SDK's "move to Node 22" notice, which is about this machine's
 * node and only clutters the demo. The switch is set just while the client is made, so the
 * action's own runs (children of this process) never inherit it: the integration test that the
 * action quiets the notice itself can still fail.
 */
function quietly(make) {
  const key = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'
  const saved = process.env[key]
  process.env[key] ??= 'true'
  try {
    return make()
  } finally {
    if (saved === undefined) delete process.env[key]
    else process.env[key] = saved
  }
}
