// Dockerfile word expansion (upstream `shell.Lex`): quotes, the escape token and `$VAR`, `${VAR}`,
// `${VAR:-x}`, `${VAR-x}`, `${VAR:+x}`, `${VAR+x}`, `${VAR:?msg}`, `${VAR?msg}`, `${VAR#pat}`,
// `${VAR##pat}`, `${VAR%pat}`, `${VAR%%pat}`, `${VAR/pat/repl}`, `${VAR//pat/repl}`.

import { GantryError, messageOf } from "../../../util/errors.js";
import { goQuote } from "./go-quote.js";
import type { ShellEnv } from "./shell-env.js";
import { WordProcessor } from "./word-processor.js";

/** Switches that the parser and the converter need besides plain expansion. All default to false. */
export interface ShellLexOptions {
  /** Keep quote characters in the result (they still group and protect their content). */
  rawQuotes?: boolean;
  /** Keep escape tokens in the result (they still protect the next character). */
  rawEscapes?: boolean;
  /** Treat quote characters as ordinary characters. */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written (`$X`, `${X:-y}`) instead of expanding them. */
  skipUnsetEnv?: boolean;
}

/** The outcome of `processWordWithMatches`. */
export interface ProcessWordResult {
  /** The expanded word, white space kept. */
  result: string;
  /** The expanded word split into fields (unquoted white space separates them). */
  words: string[];
  /** Names looked up and found set (possibly empty). */
  matched: Set<string>;
  /** Names looked up and found unset. */
  unmatched: Set<string>;
}

/**
 * Expands Dockerfile words. Stateless between calls, so one instance may be shared. Every method
 * throws GantryError InvalidArgument, `failed to process "<word>": <reason>`, on a syntax error or a
 * `${VAR?msg}` check that fails.
 */
export interface ShellLex {
  /** The escape token in use: a backslash or a backtick. */
  readonly escapeToken: string;
  /** Expands `word` into one string (quotes removed, white space kept). */
  processWord(word: string, env: ShellEnv): string;
  /** Expands `word` and splits the result into fields, honouring quotes and escapes. */
  processWords(word: string, env: ShellEnv): string[];
  /** Like `processWord`, also reporting which variables were looked up and whether they were set. */
  processWordWithMatches(word: string, env: ShellEnv): ProcessWordResult;
}

/** Creates a lexer for `escapeToken` (`\` by default, or a backtick after `# escape=\``). */
export function createShellLex(escapeToken = "\\", opts: ShellLexOptions = {}): ShellLex {
  if (escapeToken !== "\\" && escapeToken !== "`") {
    throw new GantryError("InvalidArgument", `invalid escape token '${escapeToken}' does not match \` or \\`);
  }
  const options = {
    escapeToken,
    rawQuotes: opts.rawQuotes === true,
    rawEscapes: opts.rawEscapes === true,
    skipProcessQuotes: opts.skipProcessQuotes === true,
    skipUnsetEnv: opts.skipUnsetEnv === true,
  };
  const run = (word: string, env: ShellEnv): ProcessWordResult => {
    const processor = new WordProcessor(word, env, options);
    try {
      const { result, words } = processor.process();
      return { result, words, matched: processor.matched, unmatched: processor.unmatched };
    } catch (err) {
      throw new GantryError("InvalidArgument", `failed to process ${goQuote(word)}: ${messageOf(err)}`, { cause: err });
    }
  };
  return {
    escapeToken,
    processWord: (word, env) => run(word, env).result,
    processWords: (word, env) => run(word, env).words,
    processWordWithMatches: run,
  };
}
