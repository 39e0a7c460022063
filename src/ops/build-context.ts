// What ops need to know about the build a vertex belongs to.
import type { BuildSession } from "../session/build-session.js";
import type { Platform } from "../oci/types.js";

export interface BuildContext {
  /** The client's session: local directories and secrets. */
  session: BuildSession;
  /** The platform ops default to when the op names none. */
  platform: Platform;
  /** Granted entitlements (`network.host`, `security.insecure`). */
  entitlements: ReadonlySet<string>;
}
