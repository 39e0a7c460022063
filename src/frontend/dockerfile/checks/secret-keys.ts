// Which ARG/ENV names look like they hold a secret (SecretsUsedInArgOrEnv): a sensitive word as the whole
// name or as an `_`-separated part of it, unless a word such as `file` or `public` says it is not one.

const SENSITIVE = ["apikey", "auth", "credential", "credentials", "key", "password", "pword", "passwd", "secret", "token"];
const HARMLESS = ["public", "file", "version"];

const SENSITIVE_RE = wordPattern(SENSITIVE);
const HARMLESS_RE = wordPattern(HARMLESS);

/** True for names like `API_KEY`, `db_password`, `SECRET`; false for `PUBLIC_KEY`, `password_file`. */
export function isSecretKey(name: string): boolean {
  return SENSITIVE_RE.test(name) && !HARMLESS_RE.test(name);
}

function wordPattern(words: readonly string[]): RegExp {
  return new RegExp(`(?:_|^)(?:${words.join("|")})(?:_|$)`, "i");
}
