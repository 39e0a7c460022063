// The variables a word is expanded against. Both a Map and a plain record are accepted so callers need
// not convert the environment they already hold.

/** Variables for expansion: a Map or a plain object of name → value. Names are case-sensitive. */
export type ShellEnv = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

/** The value of `name` in `env`, or undefined when it is not set (an empty value counts as set). */
export function lookupEnv(env: ShellEnv, name: string): string | undefined {
  if (env instanceof Map) return env.get(name);
  const rec = env as Readonly<Record<string, string>>;
  return Object.hasOwn(rec, name) ? rec[name] : undefined;
}
