import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** What run.json records of the source tree a run came from. */
export interface GitProvenance {
  /** `git rev-parse HEAD` of the work tree. */
  commit: string;
  /** Whether `git status --porcelain` listed anything (modified, staged or untracked files). */
  dirty: boolean;
}

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000, windowsHide: true });
  } catch {
    return undefined;
  }
}

/**
 * The commit and dirty flag of the git work tree holding `path` (a file or a directory), or
 * undefined when git is not installed, `path` is not inside a work tree, or the tree has no commit
 * yet: provenance is best effort and never an error.
 */
export function gitProvenance(path: string): GitProvenance | undefined {
  let dir = path;
  try {
    if (!existsSync(dir)) return undefined;
    if (!statSync(dir).isDirectory()) dir = dirname(dir);
  } catch {
    return undefined;
  }
  if (git(['rev-parse', '--is-inside-work-tree'], dir)?.trim() !== 'true') return undefined;
  const commit = git(['rev-parse', '--verify', '--quiet', 'HEAD'], dir)?.trim();
  if (!commit || !/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
  const status = git(['status', '--porcelain'], dir);
  if (status === undefined) return undefined;
  return { commit, dirty: status.trim() !== '' };
}
