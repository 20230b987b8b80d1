// The bench's commands for harness/lambda-child.mjs (LAMBDA_CHILD_COMMANDS): timed loops of
// invocations, of bare HTTP GETs and POSTs, and the files the process has loaded.
import http from 'node:http';

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

/** `count` sequential invocations, each timed around `await handler()`. */
export async function loop({ event, count }, { handler, contextFor }) {
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

/** `count` keep-alive GETs to `url`: the loopback round-trip without the handler. */
export async function httpLoop({ url, count }) {
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

/**
 * `count` keep-alive POSTs of one body to `url`: a bare AWS JSON call (a KMS `Sign` to moto)
 * without the handler, its SigV4 signing or its retries.
 */
export async function postLoop({ url, headers, body, count }) {
  const agent = new http.Agent({ keepAlive: true });
  const post = () =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers, agent }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve(res.statusCode));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const samples = new Float64Array(count);
  let failures = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    if ((await post()) !== 200) failures++;
    samples[i] = performance.now() - started;
  }
  agent.destroy();
  return summarize(samples, failures);
}

/** The file: URLs bench/trace-files.mjs saw loaded since the process started. */
export function loadedFiles() {
  return { files: [...(globalThis.benchLoadedFiles ?? [])] };
}
