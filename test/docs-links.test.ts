import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import GithubSlugger from 'github-slugger';
import { marked, type Token, type Tokens } from 'marked';
import { describe, expect, it } from 'vitest';

// Every relative link and anchor in the README and the guides resolves: a page moved or a
// heading renamed fails here rather than in a reader's browser. Markdown is read with marked
// (links inside code are not links) and anchors are made as GitHub makes them (github-slugger).

const root = fileURLToPath(new URL('..', import.meta.url));
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  'examples/property-test-a-policy/README.md',
];

function tokensOf(file: string): Token[] {
  return marked.lexer(readFileSync(join(root, file), 'utf8'));
}

function walk(tokens: readonly Token[], visit: (token: Token) => void): void {
  for (const token of tokens) {
    visit(token);
    const children = (token as { tokens?: Token[] }).tokens;
    if (children !== undefined) walk(children, visit);
    if (token.type === 'list')
      for (const item of (token as Tokens.List).items) walk(item.tokens, visit);
    if (token.type === 'table') {
      const table = token as Tokens.Table;
      for (const cell of [...table.header, ...table.rows.flat()]) walk(cell.tokens, visit);
    }
  }
}

const anchorCache = new Map<string, Set<string>>();
function anchorsOf(file: string): Set<string> {
  let anchors = anchorCache.get(file);
  if (anchors === undefined) {
    const slugger = new GithubSlugger();
    anchors = new Set();
    const found = anchors;
    walk(tokensOf(file), (token) => {
      if (token.type === 'heading') found.add(slugger.slug((token as Tokens.Heading).text));
    });
    anchorCache.set(file, anchors);
  }
  return anchors;
}

function linksOf(file: string): string[] {
  const links: string[] = [];
  walk(tokensOf(file), (token) => {
    if (token.type === 'link' || token.type === 'image') links.push((token as Tokens.Link).href);
  });
  return links;
}

describe('the docs link only to what exists', () => {
  it('has pages to check', () => {
    expect(pages).toContain('docs/architecture.md');
  });

  it.each(pages)('%s', (page) => {
    const broken: string[] = [];
    for (const href of linksOf(page)) {
      if (/^[a-z]+:/i.test(href)) continue; // http:, https:, mailto:
      const [path = '', anchor] = href.split('#');
      const target = path === '' ? join(root, page) : resolve(root, dirname(page), path);
      if (!existsSync(target)) {
        broken.push(`${href}: no ${relative(root, target)}`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!target.endsWith('.md') || statSync(target).isDirectory()) {
        broken.push(`${href}: an anchor into a file that is not Markdown`);
        continue;
      }
      const file = relative(root, target);
      if (!anchorsOf(file).has(decodeURIComponent(anchor))) {
        broken.push(`${href}: no heading #${anchor} in ${file}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
