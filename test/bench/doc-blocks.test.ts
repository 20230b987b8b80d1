import { describe, expect, it } from 'vitest';
import { fillBlocks } from '../../bench/doc-blocks.ts';

const page = [
  '# Title',
  'Words written by hand.',
  '<!-- bench:table -->',
  '| old | figures |',
  '<!-- /bench:table -->',
  'More words.',
  '<!-- bench:empty -->',
  '<!-- /bench:empty -->',
].join('\n');

describe('the generated blocks of a hand-written page', () => {
  it('replaces what stands between the markers and keeps every other line', () => {
    const filled = fillBlocks(page, { table: '| new |', empty: '| filled |' });

    expect(filled).toBe(
      [
        '# Title',
        'Words written by hand.',
        '<!-- bench:table -->',
        '',
        '| new |',
        '',
        '<!-- /bench:table -->',
        'More words.',
        '<!-- bench:empty -->',
        '',
        '| filled |',
        '',
        '<!-- /bench:empty -->',
      ].join('\n'),
    );
  });

  it('gives the same page when filled twice with the same figures', () => {
    const blocks = { table: '| new |', empty: '| filled |' };

    const once = fillBlocks(page, blocks);

    expect(fillBlocks(once, blocks)).toBe(once);
  });

  it('refuses a page that lacks a block the bench makes', () => {
    expect(() => fillBlocks(page, { table: 'x', empty: 'y', gone: 'z' })).toThrow(/lacks.*gone/);
  });

  it('refuses a page with a block the bench no longer makes', () => {
    expect(() => fillBlocks(page, { table: 'x' })).toThrow(/"empty"/);
  });
});
