/**
 * The fail-safe and secrets suites' view of the run() harness (`../run-harness.ts`): the same
 * workspace, inputs, AWS mocks and fake docker, plus what these suites read on top: stderr, every
 * AWS command sent, the pull-request comments asked for and workspace files written by a test.
 *
 * `useHarness()` registers the jest hooks; call it once at the top of a test file.
 */
import { afterEach, beforeEach, jest } from '@jest/globals'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Dependencies } from '../../src/main.js'
import {
  cfn,
  clients,
  commandMessages,
  commands,
  ecr,
  harness,
  installRunHarness,
  runAction,
  s3,
  setInputs,
  sts,
  summary,
  useDocker
} from '../run-harness.js'

export {
  ACCOUNT,
  BUCKET,
  BUILD_AND_PUSH_COMMANDS,
  BUILD_COMMANDS,
  BUILD_ID,
  CHANGE_SET_ID,
  CHANGE_SET_NAME,
  createdStack,
  DB_PASSWORD,
  IMAGE_URI,
  PASSWORD,
  REGION,
  REGISTRY,
  STACK,
  STACK_ID,
  TEMPLATE,
  TOKEN
} from '../run-harness.js'

/** Commands that change something in AWS: none may be sent for bad input. */
export const WRITE_COMMANDS = [
  'CreateChangeSetCommand',
  'ExecuteChangeSetCommand',
  'PutObjectCommand',
  'CreateRepositoryCommand',
  'DeleteStackCommand',
  'UpdateTerminationProtectionCommand',
  'BatchDeleteImageCommand',
  'DeleteChangeSetCommand',
  'CancelUpdateStackCommand',
  'DeleteObjectCommand',
  'DeleteObjectsCommand'
]

/**
 * The only commands the checks before the first write may send. GetAuthorizationToken is fetched
 * during the build so the push need not wait for it: a read, and no `docker login` follows it.
 */
export const PREFLIGHT_READS = [
  'GetAuthorizationTokenCommand',
  'GetCallerIdentityCommand',
  'HeadBucketCommand',
  'GetBucketLocationCommand',
  'GetBucketVersioningCommand',
  'DescribeStacksCommand',
  'DescribeRepositoriesCommand',
  'GetLifecyclePolicyCommand',
  'DescribeImagesCommand'
]

/** Installs the run() harness, plus stderr capture and comment recording, for one test file. */
export function useHarness() {
  installRunHarness()

  let stderr: string[] = []
  let stderrSpy: { mockRestore: () => void } | undefined
  /** What the action asked to post as the pull-request comment, in order. */
  const comments: unknown[] = []

  beforeEach(() => {
    comments.length = 0
    stderr = []
    stderrSpy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
      stderr.push(
        typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8')
      )
      return true
    })
  })

  afterEach(() => {
    stderrSpy?.mockRestore()
  })

  /** Writes a workspace file (creating its directories); returns its absolute path. */
  function write(path: string, content: string | Buffer): string {
    const absolute = join(harness.workspace, path)
    mkdirSync(dirname(absolute), { recursive: true })
    writeFileSync(absolute, content)
    return absolute
  }

  return {
    clients,
    sts,
    ecr,
    s3,
    cfn,
    workspace: () => harness.workspace,
    write,
    setInputs,
    useDocker,
    /** Every log line: stdout's, then stderr's. */
    lines: (): string[] => [
      ...harness.stdout.lines(),
      ...stderr
        .join('')
        .split(/\r?\n/)
        .filter((line) => line !== '')
    ],
    /** stdout and stderr as written (lone CRs included), for the injected-command check. */
    text: (): string => harness.stdout.text() + stderr.join(''),
    /** Every `::error::` message, unescaped. */
    errors: (): string[] => commandMessages('error'),
    /** Names of every command sent to the four clients, in client order. */
    awsCommands: (): string[] =>
      [sts, ecr, s3, cfn].flatMap((mock) =>
        mock.calls().map((call) => (call.args[0] as object).constructor.name)
      ),
    /** Docker subcommands run so far (`build`, `push`…). */
    dockerCommands: commands,
    summary,
    outputs: (): string => readFileSync(harness.outputFile, 'utf8'),
    /** Every pull-request comment the action asked for (none is posted), as JSON. */
    comments: (): string[] => comments.map((content) => JSON.stringify(content)),
    /** Runs the action with the mocked clients and no waiting; `overrides` replace dependencies. */
    run: (overrides: Partial<Dependencies> = {}): Promise<void> =>
      runAction({
        comment: async (_token, _stackName, content) => {
          comments.push(content)
        },
        ...overrides
      })
  }
}

export type Harness = ReturnType<typeof useHarness>
