// The bench's commands for harness/lambda-child.mjs (LAMBDA_CHILD_COMMANDS): timed loops of
// invocations, and of bare HTTP requests for the loopback round-trip alone.
import http from 'node:http';

function summarize(samples, failures, lastFailure) {
  const sorted = Float64Array.from(samples).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    count: sorted.length,
    failures,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted[sorted.length - 1],
    maxRssKb: process.resourceUsage().maxRSS,
    ...(lastFailure && { lastFailure }),
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
  return summarize(samples, failures, lastFailure);
}

/**
 * `count` keep-alive requests to `url`, a GET or a POST of `body` with `headers`: the loopback
 * round-trip without the handler.
 */
export async function httpLoop({ url, count, headers = {}, body }) {
  const agent = new http.Agent({ keepAlive: true });
  const options = { agent, method: body === undefined ? 'GET' : 'POST', headers };
  const send = () =>
    new Promise((resolve, reject) => {
      http
        .request(url, options, (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        })
        .on('error', reject)
        .end(body);
    });
  const samples = new Float64Array(count);
  let failures = 0;
  let lastFailure;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const answer = await send();
    samples[i] = performance.now() - started;
    if (answer.status !== 200) {
      failures++;
      lastFailure = { status: answer.status, body: answer.body.toString('utf8') };
    }
  }
  agent.destroy();
  return summarize(samples, failures, lastFailure);
}
