/**
 * A technician's transposition: two neighbouring digits that differ, swapped (Damm catches
 * every one). Swapping the last two blindly gives back the same code whenever they are
 * equal, 1 code in 10: a check built on it then passes without testing anything.
 */
export function swapAdjacentDigits(code: string): string {
  const i = [...code].findIndex((digit, j) => j + 1 < code.length && digit !== code[j + 1]);
  if (i < 0) throw new Error(`swapAdjacentDigits: ${code} has no two different neighbours`);
  return `${code.slice(0, i)}${code[i + 1]}${code[i]}${code.slice(i + 2)}`;
}
