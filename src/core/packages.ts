/**
 * A package that exists only as an ES module (@actions/core), loaded on demand. The bundles run
 * through node:vm (dist/cli.cjs), where import() is not available, so the entry hands over its
 * own; from tsc's module tree and under tsx, import() itself.
 */
type Importer = (specifier: string) => Promise<unknown>;

export function importPackage<T>(specifier: string): Promise<T> {
  const entry = (globalThis as { __consortiumImport?: Importer }).__consortiumImport;
  return (entry ? entry(specifier) : import(specifier)) as Promise<T>;
}
