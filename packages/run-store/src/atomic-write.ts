import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';

// The one atomic writer of goldstone (run store, sweep index, reports). Tensor-free.

let tmpCounter = 0;
/** A sibling name for temporary files: same directory (so rename is atomic), hidden, unique per process. */
export function siblingName(target: string, kind: 'tmp' | 'old'): string {
  tmpCounter += 1;
  return join(dirname(target), `.${basename(target)}.${kind}-${process.pid}-${Date.now().toString(36)}-${tmpCounter}`);
}

export async function writeAndSync(file: string, data: string | Uint8Array): Promise<void> {
  const handle = await fsp.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Write `data` to `file` atomically: to a temporary file in the same directory (flushed to disk),
 * then renamed over `file`. Readers see the old content or the new, never a mix; on failure the
 * old content stays and the temporary file is removed. Creates the parent directory.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fsp.mkdir(dirname(file), { recursive: true });
  const tmp = siblingName(file, 'tmp');
  try {
    await writeAndSync(tmp, data);
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** Whether a path exists (file or directory). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await fsp.stat(path);
    return true;
  } catch {
    return false;
  }
}
