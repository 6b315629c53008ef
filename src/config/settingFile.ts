import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

const MIB = 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;

/**
 * The text of a file a setting names, read at start-up: a regular file of at most `maxBytes`, or
 * why not in a few words. A device or a named pipe would never end, or never begin.
 */
export function readSettingFile(path: string, maxBytes: number): { text: string } | { problem: string } {
  let fd: number;
  try {
    // O_NONBLOCK: opening a named pipe does not wait for a writer; a regular file ignores it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return { problem: `cannot read the file: ${(error as NodeJS.ErrnoException).code}` };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { problem: 'not a regular file' };
    const tooLarge = { problem: `larger than ${maxBytes % MIB === 0 ? `${maxBytes / MIB} MiB` : `${maxBytes} bytes`}` };
    if (stat.size > maxBytes) return tooLarge;
    // Still bounded while reading: a file may grow meanwhile, and /proc's say 0.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      const read = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (read === 0) break;
      total += read;
      if (total > maxBytes) return tooLarge;
      chunks.push(chunk.subarray(0, read));
    }
    return { text: Buffer.concat(chunks, total).toString('utf8') };
  } catch (error) {
    return { problem: `cannot read the file: ${(error as NodeJS.ErrnoException).code}` };
  } finally {
    closeSync(fd);
  }
}
