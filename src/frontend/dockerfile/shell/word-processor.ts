// One pass of word expansion over one input: quotes, escapes and `$` expansions, producing both the
// joined result and the split fields. Mirrors the POSIX rules upstream implements, not a full shell.

import { GantryError } from "../../../util/errors.js";
import { lookupEnv, type ShellEnv } from "./shell-env.js";
import { replacePattern, trimPatternPrefix, trimPatternSuffix } from "./glob-pattern.js";
import { WordBuilder } from "./word-builder.js";

/** Behaviour switches of a lexer; see `ShellLexOptions` for their meaning. */
export interface WordProcessorOptions {
  escapeToken: string;
  rawQuotes: boolean;
  rawEscapes: boolean;
  skipProcessQuotes: boolean;
  skipUnsetEnv: boolean;
}

/** The joined text and the fields of a processed word. */
export interface ProcessedText {
  result: string;
  words: string[];
}

const SPECIAL_PARAMS = new Set(["@", "*", "#", "?", "-", "$", "!", "0"]);
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;
const HEREDOC_SPACE = new Set(["\t", "\r", " "]);

/** Expands one word; single use. `matched`/`unmatched` collect the variable names looked up. */
export class WordProcessor {
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  readonly #chars: string[];
  readonly #env: ShellEnv;
  readonly #opts: WordProcessorOptions;
  #pos = 0;
  #rawEscapes: boolean;

  constructor(word: string, env: ShellEnv, opts: WordProcessorOptions) {
    this.#chars = Array.from(word);
    this.#env = env;
    this.#opts = opts;
    this.#rawEscapes = opts.rawEscapes;
  }

  /** Processes the whole input. Throws InvalidArgument (unprefixed message) on a syntax error. */
  process(): ProcessedText {
    return this.#processStopOn(undefined, this.#opts.rawEscapes);
  }

  #peek(): string | undefined {
    return this.#chars[this.#pos];
  }

  #next(): string | undefined {
    return this.#chars[this.#pos++];
  }

  /** Processes up to `stop` (consumed) or the end of input when `stop` is undefined. */
  #processStopOn(stop: string | undefined, rawEscapes: boolean): ProcessedText {
    const saved = this.#rawEscapes;
    this.#rawEscapes = rawEscapes;
    try {
      return this.#scan(stop);
    } finally {
      this.#rawEscapes = saved;
    }
  }

  #scan(stop: string | undefined): ProcessedText {
    let result = "";
    const words = new WordBuilder();
    const quotes = !this.#opts.skipProcessQuotes;
    for (let ch = this.#peek(); ch !== undefined; ch = this.#peek()) {
      if (stop !== undefined && ch === stop) {
        this.#next();
        return { result, words: words.words() };
      }
      if (ch === "$") {
        const tmp = this.#processDollar();
        result += tmp;
        words.addString(tmp);
      } else if (ch === "<" || (quotes && (ch === "'" || ch === "\""))) {
        const tmp = ch === "<" ? this.#processPossibleHeredoc()
          : ch === "'" ? this.#processSingleQuote() : this.#processDoubleQuote();
        result += tmp;
        words.addRawString(tmp);
      } else {
        this.#next();
        if (ch !== this.#opts.escapeToken) {
          words.addChar(ch);
          result += ch;
          continue;
        }
        if (this.#rawEscapes) {
          words.addRawChar(ch);
          result += ch;
        }
        // The escape token quotes the next character; at the end of input it is dropped.
        const escaped = this.#next();
        if (escaped === undefined) break;
        words.addRawChar(escaped);
        result += escaped;
      }
    }
    if (stop !== undefined) throw syntaxError(`unexpected end of statement while looking for matching ${stop}`);
    return { result, words: words.words() };
  }

  #processSingleQuote(): string {
    // Everything up to the next single quote is literal; a single quote cannot be escaped inside.
    const open = this.#next() ?? "";
    let result = this.#opts.rawQuotes ? open : "";
    for (;;) {
      const ch = this.#next();
      if (ch === undefined) throw syntaxError("unexpected end of statement while looking for matching single-quote");
      if (ch === "'") return this.#opts.rawQuotes ? result + ch : result;
      result += ch;
    }
  }

  #processDoubleQuote(): string {
    // Literal except `$` expansions; the escape token quotes only `"`, `$` and itself.
    const open = this.#next() ?? "";
    let result = this.#opts.rawQuotes ? open : "";
    for (;;) {
      const peek = this.#peek();
      if (peek === undefined) throw syntaxError("unexpected end of statement while looking for matching double-quote");
      if (peek === "\"") {
        this.#next();
        return this.#opts.rawQuotes ? result + peek : result;
      }
      if (peek === "$") {
        result += this.#processDollar();
        continue;
      }
      let ch = this.#next() ?? "";
      if (ch === this.#opts.escapeToken) {
        if (this.#rawEscapes) result += ch;
        const after = this.#peek();
        if (after === undefined) continue;
        if (after === "\"" || after === "$" || after === this.#opts.escapeToken) ch = this.#next() ?? "";
      }
      result += ch;
    }
  }

  #processPossibleHeredoc(): string {
    this.#next();
    if (this.#peek() !== "<") return "<";
    this.#next();
    // Keep `<< WORD` together as one field so the parser can find heredoc words.
    let result = "<<";
    for (let ch = this.#peek(); ch !== undefined && HEREDOC_SPACE.has(ch); ch = this.#peek()) {
      result += ch;
      this.#next();
    }
    return result;
  }

  #processDollar(): string {
    this.#next();
    if (this.#peek() !== "{") {
      const name = this.#processName();
      if (name === "") return "$";
      const value = this.#getEnv(name);
      if (value === undefined && this.#opts.skipUnsetEnv) return "$" + name;
      return value ?? "";
    }
    this.#next();
    const first = this.#peek();
    if (first === undefined) throw syntaxError("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") throw syntaxError("syntax error: bad substitution");
    const name = this.#processName();
    const ch = this.#next();
    if (ch === undefined) throw syntaxError("syntax error: missing '}'");
    if (ch === "}") {
      const value = this.#getEnv(name);
      if (value === undefined && this.#opts.skipUnsetEnv) return "${" + name + "}";
      return value ?? "";
    }
    if (ch === "/") return this.#processReplace(name);
    if (ch === ":") return this.#processModifier(name, this.#next(), true);
    return this.#processModifier(name, ch, false);
  }

  /** `${name<op>word}` and `${name:<op>word}`; `op` is the character after the name (or `:`). */
  #processModifier(name: string, op: string | undefined, nullIsUnset: boolean): string {
    const mod = (nullIsUnset ? ":" : "") + (op ?? "");
    if (op !== "+" && op !== "-" && op !== "?" && op !== "#" && op !== "%" && !nullIsUnset) {
      throw syntaxError(`unsupported modifier (${mod}) in substitution`);
    }
    const isTrim = op === "#" || op === "%";
    if (nullIsUnset && isTrim) throw syntaxError(`unsupported modifier (${mod}) in substitution`);
    // Trim patterns keep their escapes so `\*` reaches the pattern compiler.
    const word = this.#subWord("}", isTrim, "syntax error: missing '}'");
    const value = this.#getEnv(name);
    if (value === undefined && this.#opts.skipUnsetEnv) return "${" + name + mod + word + "}";
    const isNull = value === undefined || (nullIsUnset && value === "");
    switch (op) {
      case "-": return isNull ? word : value ?? "";
      case "+": return isNull ? "" : word;
      case "?":
        if (value === undefined) throw syntaxError(`${name}: ${word === "" ? "is not allowed to be unset" : word}`);
        if (isNull) throw syntaxError(`${name}: ${word === "" ? "is not allowed to be empty" : word}`);
        return value;
      case "#":
      case "%": {
        const greedy = word.startsWith(op);
        const pattern = greedy ? word.slice(1) : word;
        return op === "%" ? trimPatternSuffix(value ?? "", pattern, greedy) : trimPatternPrefix(value ?? "", pattern, greedy);
      }
      default:
        throw syntaxError(`unsupported modifier (${mod}) in substitution`);
    }
  }

  /** `${name/pat/repl}` and `${name//pat/repl}`. */
  #processReplace(name: string): string {
    const all = this.#peek() === "/";
    if (all) this.#next();
    const pattern = this.#subWord("/", true, "syntax error: missing '/' in ${}");
    const replacement = this.#subWord("}", true, "syntax error: missing '}'");
    const value = this.#getEnv(name);
    if (value === undefined && this.#opts.skipUnsetEnv) return "${" + name + "/" + pattern + "/" + replacement + "}";
    return replacePattern(value ?? "", pattern, replacement, all);
  }

  /** A nested word up to `stop`; running out of input reports `eofMessage`. */
  #subWord(stop: string, rawEscapes: boolean, eofMessage: string): string {
    try {
      return this.#processStopOn(stop, rawEscapes).result;
    } catch (err) {
      if (this.#peek() === undefined) throw syntaxError(eofMessage);
      throw err;
    }
  }

  #processName(): string {
    let name = "";
    for (let ch = this.#peek(); ch !== undefined; ch = this.#peek()) {
      if (name === "" && DIGIT.test(ch)) {
        // Positional parameters: all the digits form the name.
        while (this.#peek() !== undefined && DIGIT.test(this.#peek() ?? "")) name += this.#next();
        return name;
      }
      if (name === "" && SPECIAL_PARAMS.has(ch)) return this.#next() ?? "";
      if (!LETTER.test(ch) && !DIGIT.test(ch) && ch !== "_") break;
      name += this.#next();
    }
    return name;
  }

  #getEnv(name: string): string | undefined {
    const value = lookupEnv(this.#env, name);
    if (value === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return value;
  }
}

function syntaxError(message: string): GantryError {
  return new GantryError("InvalidArgument", message);
}
