// A stand-in for the Lambda Node.js runtime, run as a fresh process: it imports a handler
// module and invokes it. Plain JavaScript on purpose: a .ts file would make Node load its
// type stripper (~30 ms), which would be counted in every cold start measured with it.
//
//   node lambda-child.mjs <module file> <export name> [<first event as JSON>]
//
// Results go to file descriptor 3 as JSON lines, so they never mix with the function's own
// log lines on stdout. Without a first event it reports `ready` after the import. Further
// commands come from stdin as JSON lines, one result line each:
//   {"id": 1, "invoke": <event>}
//   {"id": 2, "loop": {"event": <event>, "count": 2000}}   sequential invocations, timed
//   {"id": 3, "httpLoop": {"url": "http://…", "count": 2000}}   bare node:http GETs, timed
// The process exits when stdin ends.
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [, , modulePath, exportName = 'handler', firstEvent] = process.argv;

/** Every file loaded after this point, when asked for (bundle-size accounting, not timing). */
const loadedFiles = new Set();
if (process.env.LAMBDA_CHILD_TRACE_FILES === '1') {
  const { registerHooks } = await import('node:module');
  registerHooks({
    load(url, context, nextLoad) {
      if (url.startsWith('file:')) loadedFiles.add(url);
      return nextLoad(url, context);
    },
  });
}

const report = (message) => writeSync(3, `${JSON.stringify(message)}\n`);

let sequence = 0;
const contextFor = (event) => {
  sequence++;
  return {
    awsRequestId: `${event?.requestContext?.requestId ?? 'req'}-lambda-${sequence}`,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function',
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function'}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '256',
    logGroupName: '/aws/lambda/function',
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 25_000,
    done() {},
    fail() {},
    succeed() {},
  };
};

const builtinsBefore = process.moduleLoadList.length;
const importStarted = performance.now();
const module = await import(pathToFileURL(modulePath).href);
const importMs = performance.now() - importStarted;
// Node.js internals (modules and bindings) the import loaded.
const builtinsLoaded = process.moduleLoadList.length - builtinsBefore;
const handler = module[exportName];
if (typeof handler !== 'function') {
  report({ type: 'error', message: `${modulePath} exports no function "${exportName}"` });
  process.exit(1);
}

const environment = () => ({
  nodeVersion: process.version,
  sourceMapsEnabled: process.sourceMapsEnabled,
  nodeOptions: process.env.NODE_OPTIONS ?? null,
  execArgv: process.execArgv,
});

async function invoke(event) {
  const started = performance.now();
  try {
    const result = await handler(event, contextFor(event));
    return { result, ms: performance.now() - started };
  } catch (error) {
    return {
      error: { name: error?.name, message: error?.message, stack: error?.stack },
      ms: performance.now() - started,
    };
  }
}

if (firstEvent) {
  const outcome = await invoke(JSON.parse(firstEvent));
  report({
    type: 'first',
    ...outcome,
    importMs,
    builtinsLoaded,
    // From the start of this process (as Node measures it) to the answer.
    sinceProcessStartMs: performance.now(),
    maxRssKb: process.resourceUsage().maxRSS,
    environment: environment(),
    ...(loadedFiles.size > 0 && { loadedFiles: [...loadedFiles] }),
  });
} else {
  report({ type: 'ready', importMs, builtinsLoaded, environment: environment() });
}

function summarize(samples, failures) {
  const sorted = Float64Array.from(samples).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    failures,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted[sorted.length - 1],
    mean: total / sorted.length,
    maxRssKb: process.resourceUsage().maxRSS,
  };
}

async function loop({ event, count }) {
  // Each invocation gets its own event, parsed from JSON as the runtime does, outside the
  // timed part. Built one at a time so that nothing of the harness survives into old space.
  const json = JSON.stringify(event);
  const requestId = event.requestContext.requestId;
  const samples = new Float64Array(count);
  let failures = 0;
  let lastFailure;
  for (let i = 0; i < count; i++) {
    const current = JSON.parse(json);
    current.requestContext.requestId = `${requestId}-${i}`;
    const context = contextFor(current);
    const started = performance.now();
    const result = await handler(current, context);
    samples[i] = performance.now() - started;
    if (result?.statusCode !== 200) {
      failures++;
      lastFailure = result;
    }
  }
  return { ...summarize(samples, failures), ...(lastFailure && { lastFailure }) };
}

async function httpLoop({ url, count }) {
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true });
  const get = () =>
    new Promise((resolve, reject) => {
      http
        .get(url, { agent }, (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        })
        .on('error', reject);
    });
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await get();
    samples[i] = performance.now() - started;
  }
  agent.destroy();
  return summarize(samples, 0);
}

// Commands arrive one JSON line at a time; they run one after another.
let buffered = '';
let queue = Promise.resolve();
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let newline = buffered.indexOf('\n');
  while (newline >= 0) {
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    newline = buffered.indexOf('\n');
    if (line.trim() === '') continue;
    const command = JSON.parse(line);
    queue = queue.then(async () => {
      if (command.invoke)
        report({ type: 'result', id: command.id, ...(await invoke(command.invoke)) });
      else if (command.loop)
        report({ type: 'loop', id: command.id, ...(await loop(command.loop)) });
      else if (command.httpLoop)
        report({ type: 'httpLoop', id: command.id, ...(await httpLoop(command.httpLoop)) });
      else report({ type: 'error', id: command.id, message: 'unknown command' });
    });
  }
});
// The handler's keep-alive sockets would keep the process up: leave once the parent is done.
process.stdin.on('end', () => queue.then(() => process.exit(0)));
