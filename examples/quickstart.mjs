// BuildKit's quick-start example written with Gantry's TypeScript LLB API:
//   FROM busybox / RUN echo "built with BuildKit!" > file / CMD ["/bin/sh"]
// Prints the marshalled LLB Definition on stdout, for `gantry build` to read.
import { image, marshalDefinition } from "../dist/src/llb/state.js";

const base = process.argv[2] ?? "localhost:5000/cf/busybox:1";
const st = image(base).run({ shell: 'echo "built with BuildKit!" > file' }).root();
process.stdout.write(marshalDefinition(st));
