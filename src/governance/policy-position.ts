import { yamlParser } from './yaml.js';

/** Where a mistake is in a policy file: 1-based, as an editor shows it. */
export interface FilePosition {
  readonly line: number;
  readonly column: number;
}

/**
 * @internal Finds the file position of the character at `offset` inside the string at `path`
 * (`['rules', 2, 'expression']`), or undefined when the text has no such string.
 */
export type Locate = (
  path: readonly (string | number)[],
  offset: number,
) => FilePosition | undefined;

/**
 * @internal A {@link Locate} for YAML text (or JSON, which the YAML parser reads too). It parses
 * the text again, which only happens when there is a mistake to place.
 */
export function locator(text: string): Locate {
  return (path, offset) => {
    const { isScalar, LineCounter, parseDocument, Scalar } = yamlParser();
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines });
    const node = doc.getIn(path, true);
    if (!isScalar(node) || node.range === undefined || node.range === null) return undefined;
    const start = node.range[0];
    const at = (index: number) => {
      const { line, col } = lines.linePos(index);
      return { line, column: col };
    };
    const raw = text.slice(start, node.range[1]);
    const value = String(node.value);
    const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
    if (node.type === Scalar.PLAIN || quoted) {
      // On one line and without escapes, the value is the source as written (past a quote).
      const shift = quoted ? 1 : 0;
      const fits = raw.slice(shift, shift + value.length) === value;
      return at(fits ? start + shift + offset : start);
    }
    if (node.type === Scalar.BLOCK_LITERAL) {
      // A literal block keeps its lines: line k of the value is line k after the header,
      // indented as the block's first line is.
      const before = value.slice(0, offset);
      const row = before.split('\n').length - 1;
      const column = offset - (before.lastIndexOf('\n') + 1);
      const body = raw.slice(raw.indexOf('\n') + 1);
      const indent = /^ */.exec(body.split('\n').find((l) => l.trim() !== '') ?? '')?.[0].length;
      const header = at(start);
      return { line: header.line + 1 + row, column: (indent ?? 0) + column + 1 };
    }
    return at(start); // a folded block: the start of the value
  };
}
