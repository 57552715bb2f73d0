/**
 * The pipeline: inputs → preflight → build → push ∥ upload → deploy → outputs.
 * Every check that can fail runs before the first write (push, upload, repository, stack).
 * This is the one place that catches and calls `core.setFailed`.
 */
import * as core from '@actions/core'
import { createAwsClients, type AwsClients } from './aws-clients.js'
import { DEFAULT_WAIT, deployStack, describeStack, type WaitOptions } from './cloudformation.js'
import {
  buildImage,
  checkDockerEngine,
  createDockerConfig,
  execRunner,
  login,
  pushImage,
  tagImage,
  type DockerConfig,
  type Runner
} from './docker.js'
import { createRepository, getRegistryLogin, repositoryExists } from './ecr.js'
import { errorMessage, InputError } from './errors.js'
import { formatImageUri, localImageTag, resolveImageTarget } from './image-ref.js'
import { getInputs, type Inputs } from './inputs.js'
import { setOutputs, writeSummary } from './report.js'
import { checkBucket, templateKey, uploadTemplate } from './s3.js'
import {
  buildParameters,
  defaultChangeSetName,
  missingParameters,
  planStack
} from './stack-rules.js'
import { getAccountId } from './sts.js'
import { noEchoParameters } from './template.js'

/** What `run` uses from outside; tests replace any of it. */
export interface Dependencies {
  clients: (region: string) => AwsClients
  runner: Runner
  wait: Omit<WaitOptions, 'timeoutMs'>
}

/** Times each phase for the summary. */
class Phases {
  readonly done: Array<{ name: string; seconds: number }> = []
  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const start = Date.now()
    try {
      return await core.group(name, fn)
    } finally {
      this.done.push({ name, seconds: (Date.now() - start) / 1000 })
    }
  }
}

export async function run(overrides: Partial<Dependencies> = {}): Promise<void> {
  const deps: Dependencies = {
    clients: createAwsClients,
    runner: execRunner,
    wait: DEFAULT_WAIT,
    ...overrides
  }
  const phases = new Phases()
  let dockerConfig: DockerConfig | undefined
  try {
    const inputs = getInputs()
    maskNoEchoValues(inputs)
    const aws = deps.clients(inputs.region)

    const preflight = await phases.run('Preflight checks', async () => {
      await checkDockerEngine(deps.runner)
      const accountId = await getAccountId(aws.sts)
      core.info(`AWS account ${accountId}, region ${inputs.region}`)
      const [bucket, stack] = await Promise.all([
        checkBucket(aws.s3, inputs.bucket, inputs.region),
        describeStack(aws.cloudformation, inputs.stackName)
      ])
      const plan = planStack(stack?.StackStatus)
      const previous = new Set(
        plan.kind === 'update' || plan.kind === 'wait'
          ? (stack?.Parameters ?? []).map((p) => p.ParameterKey ?? '')
          : []
      )
      const missing = missingParameters(
        inputs.template.parameters,
        inputs.imageParameter,
        inputs.parameterOverrides,
        previous
      )
      if (missing.length > 0) {
        throw new InputError(
          `Template parameters ${missing.join(', ')} have no Default and no value: give them in 'parameter-overrides' (KEY=VALUE lines).`
        )
      }
      core.info(`Stack ${inputs.stackName}: ${stack?.StackStatus ?? 'does not exist yet'}`)
      return { accountId, bucket }
    })

    const built = await phases.run('Build image', () =>
      buildImage(deps.runner, {
        dockerfile: inputs.dockerfile,
        context: inputs.context,
        localTag: localImageTag(inputs.stackName, inputs.buildTag),
        buildArgs: [
          { key: 'AWS_ACCOUNT_ID', value: preflight.accountId },
          { key: 'AWS_REGION', value: inputs.region },
          { key: 'SPARTA_BINARY', value: inputs.binary },
          { key: 'SPARTA_ECR_LABEL_NAME', value: inputs.labelName },
          { key: 'SPARTA_BUILD_ID', value: inputs.buildTag },
          ...inputs.buildArgs
        ],
        platform: inputs.platform,
        target: inputs.target
      })
    )
    const target = resolveImageTarget(
      built.labels[inputs.labelName],
      inputs.labelName,
      inputs.buildTag,
      {
        accountId: preflight.accountId,
        region: inputs.region
      }
    )
    core.info(`Label ${inputs.labelName} → ECR repository ${target.repository}, tag ${target.tag}`)

    if (!(await repositoryExists(aws.ecr, target.repository))) {
      if (!inputs.createRepository) {
        throw new InputError(
          `ECR repository '${target.repository}' (from label ${inputs.labelName}) does not exist in account ${preflight.accountId}, ${inputs.region}: create it, or set 'create-repository: true'.`
        )
      }
      core.info(`Creating ECR repository ${target.repository}`)
      await createRepository(aws.ecr, target.repository)
    }

    dockerConfig = createDockerConfig()
    const config = dockerConfig
    const [pushed, template] = await phases.run('Push image and upload template', async () => {
      const push = async (): Promise<{ imageUri: string; digest: string }> => {
        const creds = await getRegistryLogin(aws.ecr)
        await login(deps.runner, config, creds)
        const imageUri = formatImageUri(creds.registry, target)
        await tagImage(deps.runner, built.localTag, imageUri)
        core.info(`Pushing ${imageUri}`)
        const digest = await pushImage(deps.runner, config, imageUri, async () =>
          login(deps.runner, config, await getRegistryLogin(aws.ecr))
        )
        core.info(`Pushed ${imageUri} (${digest})`)
        return { imageUri, digest }
      }
      const upload = async () => {
        const key = templateKey(inputs.stackName, inputs.buildTag, inputs.template.format)
        const location = await uploadTemplate(
          aws.s3,
          inputs.bucket,
          inputs.region,
          key,
          inputs.template.body,
          preflight.bucket.versioningEnabled
        )
        core.info(`Uploaded template to ${location.url}`)
        return location
      }
      return settleBoth(push(), upload())
    })

    const deployed = await phases.run('Deploy stack', () =>
      deployStack(
        aws.cloudformation,
        {
          stackName: inputs.stackName,
          templateUrl: template.url,
          parameters: (previous) =>
            buildParameters(
              Object.keys(inputs.template.parameters),
              inputs.imageParameter,
              pushed.imageUri,
              inputs.parameterOverrides,
              previous
            ),
          capabilities: inputs.capabilities,
          tags: [
            ...inputs.tags.map((t) => ({ Key: t.key, Value: t.value })),
            { Key: 'io:sparta:buildId', Value: inputs.buildTag }
          ],
          changeSetName: defaultChangeSetName(inputs.stackName, inputs.buildTag),
          description: `oci-stack-deploy build ${inputs.buildTag}`.slice(0, 1024),
          noFailOnEmptyChangeset: inputs.noFailOnEmptyChangeset
        },
        { ...deps.wait, timeoutMs: inputs.timeoutMinutes * 60_000 }
      )
    )
    core.info(
      `Stack ${inputs.stackName}: ${deployed.noChanges ? 'no changes' : deployed.stackStatus}`
    )

    const report = {
      buildId: inputs.buildTag,
      imageUri: pushed.imageUri,
      imageDigest: pushed.digest,
      templateUrl: template.url,
      stackName: inputs.stackName,
      ...deployed,
      phases: phases.done
    }
    setOutputs(report)
    await writeSummary(report)
  } catch (error) {
    core.setFailed(errorMessage(error))
  } finally {
    dockerConfig?.dispose()
  }
}

/** NoEcho parameter values given as overrides never reach the log. */
function maskNoEchoValues(inputs: Inputs): void {
  for (const name of noEchoParameters(inputs.template)) {
    const value = inputs.parameterOverrides.get(name)
    if (value) core.setSecret(value)
  }
}

/** Awaits both promises (neither is left running) and throws the first failure. */
async function settleBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b])
  if (ra.status === 'rejected') throw ra.reason
  if (rb.status === 'rejected') throw rb.reason
  return [ra.value, rb.value]
}
