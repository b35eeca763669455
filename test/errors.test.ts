import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as wyneos from 'wyneos';
import { errorCodes, licenceRefusals, WyneosError } from 'wyneos';

const documented = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

describe('errors', () => {
  it('documents every code, and documents no code that does not exist', () => {
    const inDocs = new Set(documented.match(/WYNEOS_ERR_[A-Z_]+/g));
    expect(inDocs).toEqual(new Set(Object.keys(errorCodes)));
  });

  it('documents every licence refusal reason, and no other', () => {
    const table = documented.slice(documented.indexOf('**Licence refusal reasons.**'));
    const inDocs = [...table.matchAll(/^\| `([a-z-]+)` +\|/gm)].map((m) => m[1]);
    expect(inDocs).toEqual([...licenceRefusals]);
  });

  it('exports one WyneosError subclass per code, each named in the docs', () => {
    const classes = Object.values(wyneos).filter(
      (value): value is typeof WyneosError =>
        typeof value === 'function' && value.prototype instanceof WyneosError,
    );
    for (const errorClass of classes) expect(documented).toContain(`\`${errorClass.name}\``);
    expect(classes).toHaveLength(Object.keys(errorCodes).length);
  });
});
