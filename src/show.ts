/** A short, safe rendering of a value for error messages: never the whole input. */
export function show(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

/**
 * @internal The message of something thrown: a user's code can throw anything, including an
 * object that cannot even be turned into a string, and explaining it must not throw in turn.
 */
export function thrownMessage(thrown: unknown): string {
  try {
    if (thrown instanceof Error) return String(thrown.message);
    return String(thrown);
  } catch {
    return `a thrown ${show(thrown)} that cannot be shown`;
  }
}
