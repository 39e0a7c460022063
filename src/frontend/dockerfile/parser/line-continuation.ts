// The escape token's second job: as the last non-blank character of a line it continues the line.

import { DockerfileParseError } from "./parse-error.js";

/** The escape token and the line-continuation rule that goes with it. */
export interface EscapeState {
  token: string;
  continuation: RegExp;
}

/** Builds the state for `token`, which must be a backslash or a backtick. */
export function createEscapeState(token: string, line = 0): EscapeState {
  if (token !== "\\" && token !== "`") {
    throw new DockerfileParseError(`invalid escape token '${token}' does not match \` or \\`, { start: line });
  }
  const t = "\\" + token;
  // Either a non-escape character then the token, or the token alone on its line; trailing blanks ok.
  // A doubled token (`\\` at the end) is an escaped escape token, not a continuation.
  return { token, continuation: new RegExp(`([^${t}])${t}[ \\t]*$|^${t}[ \\t]*$`) };
}

/** Removes a continuation token from the end of `line`; `isEnd` is false when the line continues. */
export function trimContinuation(line: string, state: EscapeState): { text: string; isEnd: boolean } {
  if (!state.continuation.test(line)) return { text: line, isEnd: true };
  return { text: line.replace(state.continuation, "$1"), isEnd: false };
}
