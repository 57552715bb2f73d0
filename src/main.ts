/**
 * The action: read the inputs, run the mode's flow, report. This is the one place that catches
 * and calls `core.setFailed` (through `forError`: no echoed text can start a workflow command); the session undoes what a run leaves behind however it ends.
 *
 *   deploy / review / noop   flows/deploy.ts: preflight (every region) → build or 'image' →
 *                            push or copy ∥ upload → change set → execute (regions side by side)
 *   delete / execute         flows/stack-only.ts: act on the existing stack only
 *   stack-set-name           flows/stack-set.ts: the same image, deployed by a StackSets operation
 */
import * as core from '@actions/core'
import * as log from './base/log.js'
import { createAwsClients, type AwsClients } from './aws/clients.js'
import { DEFAULT_WAIT, describeStack, type WaitOptions } from './aws/cloudformation/wait.js'
import { failedRegions, runDeployFlow } from './flows/deploy.js'
import type { ManifestReader } from './artifacts/flow-context.js'
import { getManifest } from './registry/manifests.js'
import { DEFAULT_REGISTRY_HTTP, type RegistryHttp } from './registry/http.js'
import { closeRegistryConnections } from './registry/transport.js'
import { execRunner, type Runner } from './docker/runner.js'
import { errorMessage, RegionsError } from './base/errors.js'
import { forError } from './base/untrusted.js'
import { getInputs, isStackOnly, type ActionInputs, type Inputs } from './inputs/inputs.js'
import { Phases } from './base/phases.js'
import type { CommentContent } from './report/pr-comment.js'
import { OutputSink } from './report/output-sink.js'
import { commentContent, reportFailure, setOutputs, writeSummary } from './report/report.js'
import type { Report } from './report/model.js'
import { summaryHeading } from './report/summary.js'
import { Session } from './base/session.js'
import { runDeleteFlow, runExecuteFlow } from './flows/stack-only.js'
import { runStackSetDeleteFlow, runStackSetFlow, stackSetFailure } from './flows/stack-set.js'
import { noEchoParameters } from './template/template.js'

/** What `run` uses from outside; tests replace any of it. */
export interface Dependencies {
  clients: (region: string, options: { httpProxy?: string }) => AwsClients
  runner: Runner
  wait: Omit<WaitOptions, 'timeoutMs'>
  /** Reads manifests from the registry. */
  getManifest: ManifestReader
  /** The registry HTTP API's transport: copies between registries, reading input 'image'. */
  registryHttp: RegistryHttp
  /** Signals that cancel a running update (none in tests). */
  signals: NodeJS.Signals[]
  /** Posts the sticky pull-request comment (skips events other than pull requests). */
  comment: (token: string, stackName: string, content: CommentContent) => Promise<unknown>
}

export async function run(overrides: Partial<Dependencies> = {}): Promise<void> {
  const deps = withDefaults(overrides)
  const session = new Session(deps.signals)
  const phases = new Phases()
  // Outputs are set as they become known, so a run that fails later still leaves them.
  const sink = new OutputSink()
  let inputs: ActionInputs | undefined
  let aws: AwsClients | undefined
  try {
    inputs = getInputs()
    const clients = clientsByRegion(deps, inputs.httpProxy)
    aws = clients(inputs.region)
    const report = await runMode(deps, inputs, { aws, clients, phases, session, sink })
    log.info(summaryHeading(report))
    setOutputs(report, sink)
    await writeSummary(report)
    const failed = failedRegions(report) ?? stackSetFailure(report)
    if (failed) throw failed
    await comment(deps, inputs, commentContent(report))
  } catch (error) {
    core.setFailed(forError(errorMessage(error)))
    if (inputs !== undefined) await reportRunFailure(deps, inputs, { aws, phases, sink }, error)
  } finally {
    session.dispose()
    // Nothing of the run may keep node alive after it: the exit follows the summary at once.
    closeRegistryConnections()
  }
}

function withDefaults(overrides: Partial<Dependencies>): Dependencies {
  return {
    clients: createAwsClients,
    runner: execRunner,
    wait: DEFAULT_WAIT,
    getManifest: (login, repository, reference) => getManifest(login, repository, reference),
    registryHttp: DEFAULT_REGISTRY_HTTP,
    signals: ['SIGINT', 'SIGTERM'],
    comment: postCommentOnPullRequests,
    ...overrides
  }
}

/** What every mode shares within one run. */
interface RunState {
  aws: AwsClients
  clients: (region: string) => AwsClients
  phases: Phases
  session: Session
  sink: OutputSink
}

/** The mode's flow: delete or execute act on the stack alone; the others deploy. */
async function runMode(deps: Dependencies, inputs: ActionInputs, state: RunState): Promise<Report> {
  const wait = { ...deps.wait, timeoutMs: inputs.timeoutMinutes * 60_000 }
  const { aws, phases, session, sink } = state
  if (isStackOnly(inputs)) {
    const ctx = { inputs, aws, wait, phases, session, sink }
    if (inputs.stackSet) return runStackSetDeleteFlow(ctx)
    return inputs.mode === 'delete' ? runDeleteFlow(ctx) : runExecuteFlow(ctx)
  }
  maskNoEchoValues(inputs)
  const run = inputs.stackSet ? runStackSetFlow : runDeployFlow
  return run({
    inputs,
    ...state,
    runner: deps.runner,
    wait,
    getManifest: deps.getManifest,
    registryHttp: deps.registryHttp
  })
}

/** After setFailed: the failure summary (a fan-out's own summary already shows each region) and the comment. */
async function reportRunFailure(
  deps: Dependencies,
  inputs: ActionInputs,
  state: { aws: AwsClients | undefined; phases: Phases; sink: OutputSink },
  error: unknown
): Promise<void> {
  const { stackName } = inputs
  if (!(error instanceof RegionsError)) {
    const cfn = state.aws?.cloudformation
    await reportFailure(error, {
      mode: inputs.mode,
      stackName,
      phases: state.phases,
      sink: state.sink,
      ...(cfn && {
        readStackStatus: async () =>
          (await describeStack(cfn, stackName))?.StackStatus ?? 'DOES_NOT_EXIST'
      })
    })
  }
  await comment(deps, inputs, { stackName, state: 'failed', error: errorMessage(error) })
}

/** The clients of each region, made once per region. */
function clientsByRegion(deps: Dependencies, httpProxy: string): (region: string) => AwsClients {
  const made = new Map<string, AwsClients>()
  return (region) => {
    let clients = made.get(region)
    if (clients === undefined) {
      clients = deps.clients(region, { httpProxy })
      made.set(region, clients)
    }
    return clients
  }
}

/** The sticky pull-request comment; never fails the step. */
async function comment(
  deps: Dependencies,
  inputs: ActionInputs,
  content: CommentContent
): Promise<void> {
  if (!inputs.prComment || inputs.mode === 'noop') return
  try {
    await deps.comment(inputs.githubToken, inputs.stackName, content)
  } catch (error) {
    log.warning(`Could not update the pull-request comment: ${errorMessage(error)}`)
  }
}

/**
 * The pull-request comment, whose GitHub client (Octokit) is loaded only on the events that
 * comment: every other run starts without it.
 */
async function postCommentOnPullRequests(
  token: string,
  stackName: string,
  content: CommentContent
): Promise<unknown> {
  const event = process.env['GITHUB_EVENT_NAME'] ?? ''
  if (event !== 'pull_request' && event !== 'pull_request_target') return 'skipped'
  const { postPullRequestComment } = await import('./report/pr-comment.js')
  return postPullRequestComment(token, stackName, content)
}

/** NoEcho parameter values given as overrides never reach the log. */
function maskNoEchoValues(inputs: Inputs): void {
  for (const name of noEchoParameters(inputs.template)) {
    const value = inputs.parameterOverrides.get(name)
    if (value) log.secret(value)
  }
}
