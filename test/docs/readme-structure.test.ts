/**
 * The README puts first what a newcomer needs, and the reference it links to is there: every
 * relative link and anchor of the README and of docs/ resolves.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The `## ` headings of a page, in order. */
const sections = (page: string) => [...page.matchAll(/^## (.+)$/gm)].map((m) => m[1] as string);

/** GitHub's anchor for a heading. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replaceAll(' ', '-');

describe('the README', () => {
  const readme = read('README.md');
  const lines = readme.split('\n');

  it('gives the quick start, the sandbox codes, the mini program quick start and the operator steps first', () => {
    // Act
    const order = sections(readme);
    const sandboxCodes = lines.findIndex((line) => line.startsWith('| `sandbox-invalid-code`'));

    // Assess
    expect(order.slice(0, 4)).toEqual([
      'Quick start',
      'The sandbox and its failure codes',
      'In the mini program: the client',
      'Deploying to AWS',
    ]);
    expect(readme).toMatch(/^### Mini program quick start$/m);
    expect(order).toContain('Layout');
    expect(sandboxCodes).toBeGreaterThan(0);
    expect(sandboxCodes).toBeLessThan(120);
    expect(lines.length).toBeLessThan(250);
  });

  it('keeps its two commands and gives the operator five steps', () => {
    // Act
    const operator = readme.slice(
      readme.indexOf('## Deploying to AWS'),
      readme.indexOf('\n## ', readme.indexOf('## Deploying to AWS') + 1),
    );

    // Assess
    expect(readme).toContain('\nnpm ci && npm start\n');
    expect(readme).toContain('\nnpm ci && npm test\n');
    expect([...operator.matchAll(/^(\d+)\. /gm)].map((m) => m[1])).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
    ]);
  });

  it('cites no document outside the repository, and neither do the pages it links to', () => {
    for (const page of [
      'README.md',
      'docs/endpoint.md',
      'docs/client.md',
      'docs/design-decisions.md',
    ]) {
      expect(read(page), page).not.toMatch(/\bcontract\b/i);
    }
  });
});

describe('the links of the README and docs/', () => {
  it.each(PAGES)('%s: every relative link and anchor resolves', (page) => {
    // Prepare
    const text = read(page);
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1] as string)
      .filter((target) => !/^[a-z]+:/i.test(target));

    // Act
    const broken = links.filter((target) => {
      const [path = '', anchor] = target.split('#');
      const file = path === '' ? page : normalize(join(dirname(page), path));
      if (!existsSync(join(ROOT, file))) return true;
      if (anchor === undefined || !file.endsWith('.md')) return false;
      const headings = [...read(file).matchAll(/^#+ (.+)$/gm)].map((m) => anchorOf(m[1] as string));
      return !headings.includes(anchor);
    });

    // Assess
    expect(broken).toEqual([]);
  });
});
