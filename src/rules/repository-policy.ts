/**
 * Pure rules for the ECR repository policy that lets Lambda in other accounts of the same region
 * pull the image: the two statements AWS documents (the accounts' principals, and the Lambda
 * service principal limited to those accounts' functions), whether a policy already grants them,
 * and the policy with them added.
 */
import { partitionOf } from './partition.js'

/** The actions a Lambda function's account (and Lambda on its behalf) needs to pull an image. */
const PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']

/** The Sids the action writes: it replaces its own statements and leaves every other one alone. */
export const ACCOUNT_SID = 'OciStackDeployCrossAccountPull'
export const LAMBDA_SID = 'OciStackDeployLambdaCrossAccountPull'

interface Statement {
  Sid?: string
  Effect?: string
  Principal?: unknown
  Action?: unknown
  Condition?: unknown
}

interface PolicyDocument {
  Version?: string
  Statement?: Statement[] | Statement
}

/** The two statements that let `accounts` (and Lambda for their functions in `region`) pull. */
export function pullStatements(region: string, accounts: string[]): Statement[] {
  const partition = partitionOf(region).name
  return [
    {
      Sid: ACCOUNT_SID,
      Effect: 'Allow',
      Principal: { AWS: accounts.map((a) => `arn:${partition}:iam::${a}:root`) },
      Action: PULL_ACTIONS
    },
    {
      Sid: LAMBDA_SID,
      Effect: 'Allow',
      Principal: { Service: 'lambda.amazonaws.com' },
      Action: PULL_ACTIONS,
      Condition: {
        StringLike: {
          'aws:sourceARN': accounts.map((a) => `arn:${partition}:lambda:${region}:${a}:function:*`)
        }
      }
    }
  ]
}

const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value]

function statementsOf(policyText: string | undefined): Statement[] {
  if (!policyText) return []
  const document = JSON.parse(policyText) as PolicyDocument
  return asList(document.Statement) as Statement[]
}

function allowsPull(s: Statement): boolean {
  const actions = asList(s.Action).map(String)
  return (
    s.Effect === 'Allow' &&
    (actions.includes('ecr:*') || PULL_ACTIONS.every((a) => actions.includes(a)))
  )
}

function grantsAccount(s: Statement, account: string): boolean {
  const principal = s.Principal as { AWS?: unknown } | string | undefined
  if (principal === '*' || principal === undefined) return false
  const listed = asList(typeof principal === 'object' ? principal.AWS : undefined).map(String)
  return listed.some((p) => p === account || p.endsWith(`:iam::${account}:root`))
}

function grantsLambdaFor(s: Statement, region: string, account: string): boolean {
  const principal = s.Principal as { Service?: unknown } | undefined
  if (!asList(principal?.Service).map(String).includes('lambda.amazonaws.com')) return false
  if (s.Condition === undefined) return false
  const text = JSON.stringify(s.Condition)
  return text.includes(`:lambda:${region}:${account}:function:*`)
}

/** The accounts the policy does not yet let pull (both statements are needed for each). */
export function accountsWithoutPull(
  policyText: string | undefined,
  region: string,
  accounts: string[]
): string[] {
  const statements = statementsOf(policyText).filter(allowsPull)
  return accounts.filter(
    (a) =>
      !statements.some((s) => grantsAccount(s, a)) ||
      !statements.some((s) => grantsLambdaFor(s, region, a))
  )
}

/**
 * The policy with the action's two statements covering `accounts` (and the accounts its earlier
 * statements named), every other statement kept as it was.
 */
export function withPullStatements(
  policyText: string | undefined,
  region: string,
  accounts: string[]
): string {
  const existing = statementsOf(policyText)
  const ours = existing.find((s) => s.Sid === ACCOUNT_SID)
  const before = asList((ours?.Principal as { AWS?: unknown } | undefined)?.AWS)
    .map(String)
    .map((p) => /:iam::(\d{12}):root$/.exec(p)?.[1] ?? p)
  const all = [...new Set([...before, ...accounts])].sort()
  const others = existing.filter((s) => s.Sid !== ACCOUNT_SID && s.Sid !== LAMBDA_SID)
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [...others, ...pullStatements(region, all)]
  })
}
