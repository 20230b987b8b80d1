// A stand-in for the Lambda Node.js runtime, run as a fresh process: it imports a handler
// module and invokes it. Plain JavaScript on purpose: a .ts file would make Node load its
// type stripper (~30 ms), which would be counted in every cold start measured with it.
//
//   node lambda-child.mjs <module file> <export name> [<first event as JSON>]
//
// Results go to file descriptor 3 as JSON lines, so they never mix with the function's own
// log lines on stdout. Without a first event it reports `ready` after the import. Further
// commands come from stdin as JSON lines, one result line each: {"id": 1, "name": "invoke",
// "arg": <event>}. LAMBDA_CHILD_COMMANDS names a module whose exports are more commands
// (the bench's timed loops); it is loaded after the first report, so it is never timed.
// The process exits when stdin ends.
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [, , modulePath, exportName = 'handler', firstEvent] = process.argv;

const report = (message) => writeSync(3, `${JSON.stringify(message)}\n`);

let sequence = 0;
/** A Lambda context; the request id follows the event's so log lines can be matched. */
const contextFor = (event) => {
  sequence++;
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';
  return {
    awsRequestId: `${event?.requestContext?.requestId ?? 'req'}-lambda-${sequence}`,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
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
  });
} else {
  report({ type: 'ready', importMs, builtinsLoaded, environment: environment() });
}

const commands = { invoke: (event) => invoke(event) };
const extra = process.env.LAMBDA_CHILD_COMMANDS;
const loaded = extra
  ? import(pathToFileURL(extra).href).then((more) => {
      for (const [name, run] of Object.entries(more))
        commands[name] = (arg) => run(arg, { handler, contextFor });
    })
  : Promise.resolve();

// Commands arrive one JSON line at a time; they run one after another.
let buffered = '';
let queue = loaded;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let newline = buffered.indexOf('\n');
  while (newline >= 0) {
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    newline = buffered.indexOf('\n');
    if (line.trim() === '') continue;
    const { id, name, arg } = JSON.parse(line);
    queue = queue.then(async () => {
      const run = commands[name];
      if (run) report({ type: 'result', id, ...(await run(arg)) });
      else report({ type: 'error', id, message: `unknown command ${name}` });
    });
  }
});
// The handler's keep-alive sockets would keep the process up: leave once the parent is done.
process.stdin.on('end', () => queue.then(() => process.exit(0)));
