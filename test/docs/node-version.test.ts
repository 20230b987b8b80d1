/**
 * Which Node.js a newcomer installs: `npm ci` on an older one warns about every package whose
 * engines it does not meet before it succeeds.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('the Node.js version to install', () => {
  it('is in .nvmrc, the major version package.json requires and npm scripts run', () => {
    // Prepare
    const pkg = JSON.parse(read('package.json')) as {
      engines: { node: string };
      devDependencies: Record<string, string>;
    };

    // Act
    const nvmrc = read('.nvmrc');

    // Assess
    expect(nvmrc).toBe('24\n');
    expect(pkg.engines.node).toMatch(/^>=24\./);
    expect(pkg.devDependencies.node).toMatch(/^\^24\./);
  });

  it('is named in the README before the first command, with nvm', () => {
    // Prepare
    const readme = read('README.md');

    // Act
    const beforeFirstCommand = readme.slice(0, readme.indexOf('npm ci && npm start'));

    // Assess
    expect(beforeFirstCommand).toMatch(/Node\.js 24/);
    expect(beforeFirstCommand).toContain('.nvmrc');
    expect(beforeFirstCommand).toContain('nvm install');
  });
});
