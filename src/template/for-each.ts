/**
 * Pure: `Fn::ForEach` of the AWS::LanguageExtensions transform, expanded as CloudFormation expands
 * it, so that resources made by a loop count like any other. A loop
 * `Fn::ForEach::Name: [Identifier, Collection, {OutputKey: OutputValue}]` in `Resources` (at any
 * depth, resource properties included), `Outputs` or `Conditions` becomes one copy of the fragment
 * per item, with `${Identifier}` and `&{Identifier}` (the item without its non-alphanumeric
 * characters) replaced in keys and strings and `Ref: Identifier` replaced by the item; loops nest.
 * A collection only known at deploy time (`Fn::ImportValue`, an SSM parameter, …) leaves its
 * loop unexpanded and is reported, for the caller to treat like a nested stack.
 */
import { InputError } from '../base/errors.js'
import { isRecord, resolveValue, type KnownValues } from './intrinsics.js'

const PREFIX = 'Fn::ForEach::'

/** The sections where CloudFormation expands loops. */
export const LOOP_SECTIONS = ['Conditions', 'Resources', 'Outputs'] as const

/** A loop whose collection is only known when CloudFormation runs the template. */
export interface UnresolvedLoop {
  /** `Fn::ForEach::Name`. */
  key: string
  section: (typeof LOOP_SECTIONS)[number]
  /** Why the collection is not known before deploy. */
  reason: string
  /** The `{OutputKey: OutputValue}` fragment, as written. */
  fragment: Record<string, unknown>
}

/** A template with every loop it could expand expanded, and the loops it could not. */
export interface Expanded {
  document: Record<string, unknown>
  unresolved: UnresolvedLoop[]
}

interface Context {
  path: string
  section: UnresolvedLoop['section']
  known: KnownValues
  unresolved: UnresolvedLoop[]
}

/** True when the template has a `Fn::ForEach::…` key anywhere in a section that expands loops. */
export function hasLoops(document: Record<string, unknown>): boolean {
  const walk = (value: unknown): boolean => {
    if (Array.isArray(value)) return value.some(walk)
    if (!isRecord(value)) return false
    return Object.entries(value).some(([key, item]) => key.startsWith(PREFIX) || walk(item))
  }
  return LOOP_SECTIONS.some((section) => walk(document[section]))
}

/** Expands the loops of `Conditions`, `Resources` and `Outputs`; `path` is only for messages. */
export function expandLoops(
  document: Record<string, unknown>,
  known: KnownValues,
  path: string
): Expanded {
  const unresolved: UnresolvedLoop[] = []
  const expanded = { ...document }
  for (const section of LOOP_SECTIONS) {
    const value = document[section]
    if (!isRecord(value)) continue
    expanded[section] = expandMapping(value, { path, section, known, unresolved })
  }
  return { document: expanded, unresolved }
}

function expandValue(value: unknown, ctx: Context): unknown {
  if (Array.isArray(value)) return value.map((item) => expandValue(item, ctx))
  return isRecord(value) ? expandMapping(value, ctx) : value
}

function expandMapping(mapping: Record<string, unknown>, ctx: Context): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(mapping)) {
    if (key.startsWith(PREFIX)) {
      for (const [made, item] of Object.entries(expandLoop(key, value, ctx))) {
        add(out, made, item, key, ctx)
      }
    } else {
      add(out, key, expandValue(value, ctx), undefined, ctx)
    }
  }
  return out
}

/** Adds one key, refusing a second one of the same name as CloudFormation does. */
function add(
  out: Record<string, unknown>,
  key: string,
  value: unknown,
  loop: string | undefined,
  ctx: Context
): void {
  if (key in out) {
    const by = loop === undefined ? '' : ` made by ${loop}`
    throw new InputError(
      `Input 'template': ${ctx.path} has '${key}'${by} twice in ${ctx.section}; CloudFormation refuses the expanded template: make the loop's OutputKey unique with \${Identifier} or &{Identifier}.`
    )
  }
  out[key] = value
}

function expandLoop(key: string, value: unknown, ctx: Context): Record<string, unknown> {
  const [identifier, collection, fragment] = loopParts(key, value, ctx)
  const items = loopItems(key, collection, fragment, ctx)
  const out: Record<string, unknown> = {}
  for (const item of items) {
    const copy = substitute(fragment, identifier, item) as Record<string, unknown>
    for (const [made, entry] of Object.entries(expandMapping(copy, ctx))) {
      add(out, made, entry, key, ctx)
    }
  }
  return out
}

function loopParts(
  key: string,
  value: unknown,
  ctx: Context
): [string, unknown, Record<string, unknown>] {
  const [identifier, collection, fragment] = Array.isArray(value) ? (value as unknown[]) : []
  if (
    !Array.isArray(value) ||
    value.length !== 3 ||
    typeof identifier !== 'string' ||
    identifier === '' ||
    !isRecord(fragment)
  ) {
    throw new InputError(
      `Input 'template': ${key} in the ${ctx.section} of ${ctx.path} is not [Identifier, Collection, {OutputKey: OutputValue}]: fix its layout (see Fn::ForEach in the CloudFormation docs).`
    )
  }
  return [identifier, collection, fragment]
}

/** The loop's items as strings, or [] (and a note of why) when only known at deploy time. */
function loopItems(
  key: string,
  collection: unknown,
  fragment: Record<string, unknown>,
  ctx: Context
): string[] {
  const isLiteral = !isRecord(collection) && !Array.isArray(collection)
  if (isLiteral && !(typeof collection === 'string' && collection.includes('{{resolve:'))) {
    throw new InputError(
      `Input 'template': the collection of ${key} in ${ctx.path} is not a list: give a list, or a Ref to a CommaDelimitedList parameter.`
    )
  }
  const resolved = resolveValue(collection, ctx.known)
  const value = 'value' in resolved ? resolved.value : undefined
  const items = typeof value === 'string' ? value.split(',').map((item) => item.trim()) : value
  if ('unknown' in resolved || !Array.isArray(items) || !items.every(isItem)) {
    const reason = 'unknown' in resolved ? resolved.unknown : 'its items are not all strings'
    ctx.unresolved.push({ key, section: ctx.section, reason, fragment })
    return []
  }
  return items.map((item) => (typeof item === 'string' ? item : String(item)))
}

function isItem(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
}

/** The fragment for one item: `${Id}`, `&{Id}` in keys and strings, and `Ref: Id`, replaced. */
function substitute(value: unknown, identifier: string, item: string): unknown {
  if (typeof value === 'string') {
    return value
      .split(`\${${identifier}}`)
      .join(item)
      .split(`&{${identifier}}`)
      .join(item.replace(/[^A-Za-z0-9]/g, ''))
  }
  if (Array.isArray(value)) return value.map((entry) => substitute(entry, identifier, item))
  if (!isRecord(value)) return value
  const keys = Object.keys(value)
  if (keys.length === 1 && keys[0] === 'Ref' && value['Ref'] === identifier) return item
  const out: Record<string, unknown> = {}
  for (const [key, entry] of Object.entries(value)) {
    out[substitute(key, identifier, item) as string] = substitute(entry, identifier, item)
  }
  return out
}
