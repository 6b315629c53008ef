import { readFileSync } from 'node:fs';

/**
 * The process's soft limit on open files, where the platform says (Linux: `/proc/self/limits`);
 * `undefined` elsewhere or when it is unlimited. Every client connection and upstream socket takes
 * one: a connection cap above it means the cap never acts, and accepting fails for everyone
 * (health checks included) once the descriptors run out.
 */
export function openFileLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  let text: string;
  try {
    text = read();
  } catch {
    return undefined;
  }
  const line = text.split('\n').find((row) => row.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : undefined;
}
