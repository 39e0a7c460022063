// Wire names of the Dockerfile frontend's subrequests, spelled as upstream spells them
// (frontend/subrequests and dockerui): the attr that asks for one and the metadata keys of the answer.

/** The frontend attr naming a subrequest; when set, the frontend answers it instead of building. */
export const REQUEST_ID_KEY = "requestid";

export const REQUEST_LINT = "frontend.lint";
export const REQUEST_OUTLINE = "frontend.outline";
export const REQUEST_TARGETS = "frontend.targets";
export const REQUEST_DESCRIBE = "frontend.subrequests.describe";

/** The answer as JSON (the request's result type). */
export const RESULT_JSON = "result.json";
/** The answer as text for people (what buildctl prints). */
export const RESULT_TXT = "result.txt";
/** The exit status a client should end with ("0" or "1"); lint only. */
export const RESULT_STATUS_CODE = "result.statuscode";
/** The version of the request's result format. */
export const RESULT_VERSION = "version";
