/** Names from a fixed list (splits, occlusions, label modes, batch orders), read from a flag or a URL. */
export function parseChoice<T extends string>(what: string, choices: readonly T[], value: string): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new Error(`unknown ${what} "${value}": expected one of ${choices.join(', ')}`);
}
