import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  cliReference,
  configurationReference,
  documentedFields,
  optionInterfaces,
} from '../scripts/reference.js';
import { createProgram } from '../src/cli/program.js';
import { defaultPhiAccrualOptions } from '../src/healing/detectors/phi-accrual.js';
import { defaultLicensing } from '../src/licensing/options.js';
import { resolveOptions } from '../src/supervisor/options.js';
import { silentLogger } from './helpers.js';

// The generated references are current, and each `@defaultValue` says what the code does: an
// option's default is written in its JSDoc and in the code that applies it, so this test is
// what keeps the two one fact.

const read = (page: string) => readFileSync(new URL(`../docs/${page}`, import.meta.url), 'utf8');

/** Biome pads table cells when it formats docs/; compare the cells, not the padding. */
function cells(markdown: string): string {
  return markdown
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split(/(?<!\\)\|/)
            .map((cell) => cell.trim().replace(/^-+$/, '---'))
            .join('|')
        : line,
    )
    .join('\n');
}

describe('the generated references', () => {
  it('docs/configuration.md is current (npm run docs)', () => {
    expect(cells(read('configuration.md'))).toBe(cells(configurationReference()));
  });

  it('docs/cli-reference.md is current (npm run docs)', () => {
    expect(cells(read('cli-reference.md'))).toBe(
      cells(cliReference(createProgram(() => {}, 'none'))),
    );
  });

  it('lists every flag of every command', () => {
    const reference = read('cli-reference.md');
    for (const flag of [
      '--secret-file <file>',
      '--state-dir <dir>',
      '--recover',
      '--inspect-log <file>',
      '--licence-key <file>',
    ]) {
      expect(reference).toContain(`\`${flag}\``);
    }
  });
});

describe('each @defaultValue is what the code applies', () => {
  const resolved = resolveOptions({
    logger: silentLogger,
    heartbeatRate: {},
    predictive: {},
    tickMs: 1000,
  });
  const applied: Record<string, unknown> = {
    '': {
      ...resolveOptions({ logger: silentLogger }),
      detector: 'timeout',
      rules: [],
      predictive: false,
    },
    overload: resolved.overload,
    safety: resolved.safety,
    escalation: resolved.escalation,
    flapping: resolved.flapping,
    detector: defaultPhiAccrualOptions,
    hooks: resolved.hooks,
    predictive: resolved.predictive,
    heartbeatRate: resolved.heartbeatRate,
    licensing: defaultLicensing,
    trust: resolved.trust,
    'trust.weights': resolved.trust.weights,
  };

  /** A default written as a literal (`1000`, `30_000`, `'refuse'`, `true`, `[]`), or the text itself. */
  function literalOf(text: string): unknown {
    if (/^-?[\d_]+(\.\d+)?$/.test(text)) return Number(text.replaceAll('_', ''));
    if (/^'[^']*'$/.test(text)) return text.slice(1, -1);
    if (text === 'undefined') return undefined;
    if (text === 'true' || text === 'false') return text === 'true';
    if (text === '[]') return [];
    return text;
  }

  for (const { name, file, path } of optionInterfaces) {
    it(`${name}`, () => {
      const code = applied[path] as Record<string, unknown>;
      const mismatches: string[] = [];
      for (const field of documentedFields(name, file)) {
        if (field.defaultValue === undefined) continue;
        const documented = literalOf(field.defaultValue);
        // A default in words ("10 × `tickMs`", "pino at `info`") is left to the page, except
        // "undefined (...)", which the code must agree with: only literals can disagree.
        if (documented === field.defaultValue) {
          if (documented.startsWith('undefined') && code[field.name] !== undefined) {
            mismatches.push(
              `${name}.${field.name}: documented undefined, applies ${JSON.stringify(code[field.name])}`,
            );
          }
          continue;
        }
        if (JSON.stringify(code[field.name]) !== JSON.stringify(documented)) {
          mismatches.push(
            `${name}.${field.name}: documented ${field.defaultValue}, applies ${JSON.stringify(code[field.name])}`,
          );
        }
      }
      expect(mismatches).toEqual([]);
    });
  }
});
