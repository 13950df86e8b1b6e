import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packageInfo } from './package-version';

describe('packageInfo', () => {
  it("reads the module's own package.json (this package's name and version)", () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(packageInfo(import.meta.url)).toEqual({ name: '@goldstone/plugin-api', version: pkg.version });
  });

  it('fails clearly where no package.json is found', () => {
    expect(() => packageInfo('file:///')).toThrow(/no package.json/);
  });
});
