/**
 * The page's `fetch` (e.g. `() => wx.getWeRunData()`), called for what the backend needs. The
 * data is handed to the backend as it came and kept nowhere: it is the user's.
 */
import type { EncryptedOpenData } from './index.ts';
import { asObject, text } from './json.ts';
import { clientError } from './problem.ts';

export async function fetchOpenData(
  fetch: () => PromiseLike<EncryptedOpenData>,
): Promise<EncryptedOpenData> {
  let result: unknown;
  try {
    result = await fetch();
  } catch (error) {
    // The runtime's errMsg ("getWeRunData:fail auth deny") says what the page can do about it.
    const { errMsg, message } = asObject(typeof error === 'string' ? { errMsg: error } : error);
    const detail = text(errMsg) ?? text(message) ?? 'fetch failed and gave no reason.';
    throw clientError('open_data_fetch_failed', 0, detail);
  }
  const { encryptedData, iv } = asObject(result);
  if (!text(encryptedData) || !text(iv)) {
    throw clientError(
      'open_data_fetch_failed',
      0,
      'fetch resolved no encryptedData and iv: give openData a function that returns the promise of wx.getWeRunData() or the like.',
    );
  }
  return { encryptedData: encryptedData as string, iv: iv as string };
}
