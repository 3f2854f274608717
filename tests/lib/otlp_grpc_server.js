// An OTLP/gRPC collector for kotel's tests, built on @grpc/grpc-js and
// @grpc/proto-loader (pinned in tests/package.json): a gRPC implementation
// nobody here wrote decodes what kotel's hand-made HTTP/2 calls carry.
//
// It serves TraceService/Export, MetricsService/Export and
// LogsService/Export from the .proto files in exporter/proto (kotel's
// message subset) and tests/proto (the service blocks), on 127.0.0.1,
// over h2c or TLS (--tls cert,key[,ca]).
//
// Talks to its test (tests/lib/otlp_grpc_receiver.py) in JSON lines:
//   stdout, first: {"port": N}; then one {"event": "request", ...} per call
//     received, with the decoded request, its metadata, the encoding of
//     its message (grpc-encoding when the compressed flag was set, else
//     "identity"), its deadline and the answer given.
//   stdin: {"id": k, "cmd": "script", "signal": "traces"|"metrics"|"logs",
//     "steps": [...]} replaces that signal's script; {"id": k, "cmd":
//     "require_gzip"}: calls whose message is not gzip'd get
//     INVALID_ARGUMENT. Each command is acknowledged by {"ack": k}.
// A script's steps answer one call each, in order (then OK): {"code": 14,
// "message": "...", "retry_delay_ms": 1500} (a status, with a RetryInfo
// in grpc-status-details-bin when a delay is given), {"hang": true} (never
// answer), {"close": true} (reset the stream, no status), {"partial":
// {"rejected": 1, "message": "..."}} (OK with a partial success),
// {"delay_ms": 2000} (answer OK that late).
'use strict';

const fs = require('fs');
const http2 = require('http2');
const path = require('path');
const readline = require('readline');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const ROOT = path.resolve(__dirname, '..', '..');
const DIRS = [path.join(ROOT, 'exporter', 'proto'), path.join(ROOT, 'tests', 'proto')];

function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const def = protoLoader.loadSync(['otlp_grpc_trace.proto', 'otlp_grpc_metrics.proto',
  'otlp_grpc_logs.proto'], {
  includeDirs: DIRS, keepCase: true, longs: String, enums: Number, bytes: String,
  defaults: true, oneofs: true,
});
const proto = grpc.loadPackageDefinition(def);
// protobufjs's own loader: camelCase field names.
const rpcRoot = protobuf.loadSync(path.join(ROOT, 'tests', 'proto', 'google_rpc_status.proto'));
const Status = rpcRoot.lookupType('google.rpc.Status');
const RetryInfo = rpcRoot.lookupType('google.rpc.RetryInfo');

// grpc-js takes grpc-encoding out of the metadata and keeps the message's
// compressed flag to itself: record which decoding each call's message
// got (the flag set: the call's grpc-encoding, else identity). The
// versions are pinned, so is this method's name.
const baseCall = require('@grpc/grpc-js/build/src/server-interceptors').BaseServerInterceptingCall;
const decompress = baseCall.prototype.decompressMessage;
baseCall.prototype.decompressMessage = function (message, encoding) {
  this.kotelEncoding = encoding;
  return decompress.call(this, message, encoding);
};

// The BaseServerInterceptingCall under a handler's call object.
function base(call) {
  let c = call.call;
  while (c && !c.stream && c.nextCall)
    c = c.nextCall;
  return c;
}

const scripts = { traces: [], metrics: [], logs: [] };
let requireGzip = false;
const hung = [];

function detailsBin(code, message, ms) {
  const ri = RetryInfo.encode({ retryDelay: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } }).finish();
  return Buffer.from(Status.encode({
    code, message,
    details: [{ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', value: ri }],
  }).finish());
}

function handler(signal, partialField) {
  return (call, callback) => {
    const b = base(call);
    const step = scripts[signal].length ? scripts[signal].shift() : {};
    const encoding = (b && b.kotelEncoding) || 'identity';
    const ev = {
      event: 'request', signal, time: Date.now() / 1000, path: call.getPath(),
      metadata: call.metadata.getMap(), encoding,
      deadline_ms: b && b.deadline !== undefined && isFinite(b.deadline) ? b.deadline - Date.now() : null,
      request: call.request, step,
    };
    for (const k of Object.keys(ev.metadata))
      if (Buffer.isBuffer(ev.metadata[k]))
        ev.metadata[k] = ev.metadata[k].toString('base64');
    let answer = { code: 0 };
    if (requireGzip && encoding !== 'gzip')
      answer = { code: grpc.status.INVALID_ARGUMENT, message: 'gzip required' };
    else if (step.code !== undefined)
      answer = { code: step.code, message: step.message || '', retry_delay_ms: step.retry_delay_ms };
    else if (step.hang)
      answer = { hang: true };
    else if (step.close)
      answer = { close: true };
    ev.answer = answer;
    // Reported before answering: once kotel has its answer, the test
    // finds the request recorded.
    out(ev);
    if (answer.hang) {
      hung.push(callback);
      return;
    }
    if (answer.close) {
      b.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    if (answer.code !== 0) {
      const md = new grpc.Metadata();
      if (answer.retry_delay_ms !== undefined)
        md.set('grpc-status-details-bin', detailsBin(answer.code, answer.message, answer.retry_delay_ms));
      callback({ code: answer.code, details: answer.message, metadata: md });
      return;
    }
    const resp = {};
    if (step.partial)
      resp.partial_success = { [partialField]: String(step.partial.rejected), error_message: step.partial.message || '' };
    if (step.delay_ms)
      setTimeout(() => callback(null, resp), step.delay_ms);
    else
      callback(null, resp);
  };
}

const server = new grpc.Server();
server.addService(proto.opentelemetry.proto.collector.trace.v1.TraceService.service,
  { Export: handler('traces', 'rejected_spans') });
server.addService(proto.opentelemetry.proto.collector.metrics.v1.MetricsService.service,
  { Export: handler('metrics', 'rejected_data_points') });
server.addService(proto.opentelemetry.proto.collector.logs.v1.LogsService.service,
  { Export: handler('logs', 'rejected_log_records') });

let creds = grpc.ServerCredentials.createInsecure();
const tls = arg('--tls');
if (tls) {
  const [cert, key, ca] = tls.split(',');
  creds = grpc.ServerCredentials.createSsl(ca ? fs.readFileSync(ca) : null,
    [{ cert_chain: fs.readFileSync(cert), private_key: fs.readFileSync(key) }], !!ca);
}

server.bindAsync('127.0.0.1:' + (arg('--port') || '0'), creds, (err, port) => {
  if (err) {
    process.stderr.write('bind: ' + err.message + '\n');
    process.exit(1);
  }
  out({ port });
});

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const c = JSON.parse(line);
  if (c.cmd === 'script')
    scripts[c.signal] = c.steps;
  else if (c.cmd === 'require_gzip')
    requireGzip = true;
  out({ ack: c.id });
}).on('close', () => process.exit(0));
