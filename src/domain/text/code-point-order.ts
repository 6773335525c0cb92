/**
 * Strings in code-point order: the order of Postgres's "C" collation on UTF-8
 * (its bytes sort as their code points do), which every query that orders ids
 * uses. JavaScript's `<` and `Array.prototype.sort` compare UTF-16 units
 * instead, and the two disagree when one string has a character above U+FFFF
 * where the other has one in U+E000-U+FFFF: "\u{1F600}" (units D83D DE00) sorts
 * before "\uFF01" by units but after it by code point. Ids are free text, so
 * orders, milestones and accounts are compared with this, in code and in SQL
 * alike.
 */
export function compareCodePoints(left: string, right: string): number {
  const shorter = Math.min(left.length, right.length);
  for (let index = 0; index < shorter; index++) {
    const leftUnit = left.charCodeAt(index);
    const rightUnit = right.charCodeAt(index);
    if (leftUnit === rightUnit) continue;
    // A surrogate starts (or, after an equal high surrogate, ends) a code point
    // above U+FFFF, which sorts after every character of the basic plane.
    const leftAstral = leftUnit >= 0xd800 && leftUnit <= 0xdfff;
    const rightAstral = rightUnit >= 0xd800 && rightUnit <= 0xdfff;
    if (leftAstral !== rightAstral) return leftAstral ? 1 : -1;
    return leftUnit - rightUnit;
  }
  return left.length - right.length;
}
