/**
 * Rewrites the generated blocks of a hand-written page: everything between
 * `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` is replaced, everything else is kept as
 * written. A block the page lacks, or one the page has and the bench does not make, is an
 * error, so that a renamed block cannot leave stale figures behind.
 */
export function fillBlocks(page: string, blocks: Record<string, string>): string {
  const seen = new Set<string>();
  const filled = page.replace(
    /(<!-- bench:([\w-]+) -->)\n(?:[\s\S]*?\n)?(<!-- \/bench:\2 -->)/g,
    (_match, open: string, name: string, close: string) => {
      const block = blocks[name];
      if (block === undefined)
        throw new Error(`the page has a block "${name}" the bench does not make`);
      seen.add(name);
      return `${open}\n\n${block}\n\n${close}`;
    },
  );
  const missing = Object.keys(blocks).filter((name) => !seen.has(name));
  if (missing.length > 0) throw new Error(`the page lacks the blocks: ${missing.join(', ')}`);
  return filled;
}
