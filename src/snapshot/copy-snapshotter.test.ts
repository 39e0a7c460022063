import { openCopySnapshotter } from "./copy-snapshotter.js";
import { runSnapshotterSuite } from "./testsuite/snapshotter-suite.js";

runSnapshotterSuite("CopySnapshotter", (root) => openCopySnapshotter(root));
