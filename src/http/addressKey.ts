/** Clients are counted by address, IPv6 ones by their /64: a host is given a /64, and its addresses cost nothing. */
export function addressKey(address: string): string {
  const bare = address.split('%')[0]!;
  if (!bare.includes(':') || /^::ffff:\d/i.test(bare)) return bare;
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}
