/**
 * Whether `text` is well-formed Unicode: no lone surrogate, which a JSON `"\ud800"` escape
 * decodes to. (`String.prototype.isWellFormed` does the same from Node 20, but is not in the
 * ES2023 typings.)
 */
export function isWellFormed(text: string): boolean {
  return !/\p{Cs}/u.test(text);
}
