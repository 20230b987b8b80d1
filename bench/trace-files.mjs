// Preloaded with `--import` when the bench counts which files a variant loads (bundle-size
// accounting, not timing: the hook slows every load down).
import { registerHooks } from 'node:module';

const files = new Set();
globalThis.benchLoadedFiles = files;
registerHooks({
  load(url, context, nextLoad) {
    if (url.startsWith('file:')) files.add(url);
    return nextLoad(url, context);
  },
});
