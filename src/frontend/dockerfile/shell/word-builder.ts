// Collects the fields of a word as it is expanded: unquoted white space splits fields, quoted text and
// escaped characters never do.

import { isUnicodeSpace } from "./unicode-space.js";

/** Accumulates characters into space-separated fields, the way ProcessWords splits its result. */
export class WordBuilder {
  #buf = "";
  #words: string[] = [];
  #inWord = false;

  /** Adds an unquoted character: white space ends the current field, anything else extends it. */
  addChar(ch: string): void {
    if (isUnicodeSpace(ch)) {
      if (this.#inWord && this.#buf.length !== 0) {
        this.#words.push(this.#buf);
        this.#buf = "";
        this.#inWord = false;
      }
    } else this.addRawChar(ch);
  }

  /** Adds a character that is part of the field whatever it is (quoted or escaped). */
  addRawChar(ch: string): void {
    this.#buf += ch;
    this.#inWord = true;
  }

  /** Adds expanded text: its white space splits fields. */
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  /** Adds quoted text as one piece of the current field. */
  addRawString(s: string): void {
    this.#buf += s;
    this.#inWord = true;
  }

  /** The fields so far, closing the current one. Empty fields are dropped. */
  words(): string[] {
    if (this.#buf.length > 0) {
      this.#words.push(this.#buf);
      this.#buf = "";
      this.#inWord = false;
    }
    return this.#words;
  }
}
