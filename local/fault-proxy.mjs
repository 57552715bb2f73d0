#!/usr/bin/env node
// Fault-injecting HTTP proxy between an AWS SDK/CLI and moto (Node builtins only).
//
//   node local/fault-proxy.mjs --target http://127.0.0.1:<motoPort> [--port 0] [--port-file FILE]
//
// Every request is forwarded as is (method, path, query, headers, streamed body) to
// --target and the answer is relayed. It binds 127.0.0.1 only. --port 0 (default)
// picks a free port; the bound port is written to --port-file once listening.
// A control API on the same port, under /__faults, adds the rules that inject faults.
//
// This file reads the arguments and starts the server; the parts are in local/fault-proxy/:
//   server.mjs          the HTTP server: /__faults to the control API, the rest forwarded
//   control.mjs         the control API (/__faults: rules, log, health)
//   forward.mjs         one call: classify, log, consult the faults, forward, relay
//   classify.mjs, s3-operations.mjs   protocol, service, operation and region of a call
//   match.mjs           the rule matcher (operation, service, region, uses left)
//   state.mjs           the rules and the request log
//   wire-errors.mjs     AWS errors in the client's wire protocol
//   cloudformation.mjs  stack names, stack writes, DescribeStacks patches
//   http.mjs            body reading, JSON answers, hop-by-hop headers, XML escaping
//   faults/             one module per fault kind, each with its rule syntax (faults/index.mjs
//                       lists them in order of precedence and says how to add one):
//     error.mjs          {"operation":"DescribeStacks","error":"throttle","times":2}
//     stall.mjs          {"operation":"DescribeStacks","stall":true,"times":1}
//     drop-response.mjs  {"operation":"CreateChangeSet","dropResponse":true,"times":1}
//     stale-reads.mjs    {"staleReads":{"stackName":"x","count":2}}
//     hold-status.mjs    {"holdStatus":{"stackName":"x","status":"UPDATE_IN_PROGRESS","seconds":3}}
//     timing.mjs         {"timing":{}}  CloudFormation's own time: change sets T₁, resources T₂ + T₃

import { serve } from './fault-proxy/server.mjs'

function parseArgs(argv) {
  const out = {
    target: process.env.FAULT_PROXY_TARGET || '',
    port: 0,
    host: '127.0.0.1',
    portFile: ''
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`)
      return argv[++i]
    }
    if (a === '--target') out.target = next()
    else if (a === '--port') out.port = Number(next())
    else if (a === '--host') out.host = next()
    else if (a === '--port-file') out.portFile = next()
    else throw new Error(`unknown argument ${a}`)
  }
  if (!out.target) throw new Error('--target http://127.0.0.1:<port> is required')
  return out
}

const args = parseArgs(process.argv.slice(2))
const target = new URL(args.target)
if (
  !['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname) ||
  !['127.0.0.1', 'localhost', '::1'].includes(args.host)
) {
  console.error('fault-proxy: target and listen address must be loopback')
  process.exit(2)
}
serve({ target, host: args.host, port: args.port, portFile: args.portFile })
