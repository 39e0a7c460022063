// Typed wrappers over the byte-level gRPC client and server: encode and decode with the generated
// schemas, and derive method paths from the generated service descriptors.
import { create, fromBinary, toBinary, type DescMessage, type DescMethod, type DescMethodServerStreaming, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { GrpcCallOptions, GrpcH2Client } from "./grpc-h2-client.js";
import type { GrpcHandler, GrpcServerCall } from "./grpc-h2-server.js";
import { GantryError } from "../util/errors.js";

/** `/package.Service/Method`, the HTTP/2 path and the value advertised in session headers. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/** Calls a unary method with a typed request and response. */
export async function callUnary<I extends DescMessage, O extends DescMessage>(client: GrpcH2Client,
  method: DescMethodUnary<I, O>, input: MessageInitShape<I>, opts?: GrpcCallOptions): Promise<MessageShape<O>> {
  const bytes = await client.unary(methodPath(method), toBinary(method.input, create(method.input, input)), opts);
  return fromBinary(method.output, bytes);
}

/** Calls a server-streaming method: one typed request, the typed responses as they arrive. */
export async function* callServerStream<I extends DescMessage, O extends DescMessage>(client: GrpcH2Client,
  method: DescMethodServerStreaming<I, O>, input: MessageInitShape<I>, opts?: GrpcCallOptions): AsyncGenerator<MessageShape<O>> {
  const call = client.stream(methodPath(method), opts);
  try {
    await call.send(toBinary(method.input, create(method.input, input)));
    call.closeSend();
    for await (const msg of call.responses) yield fromBinary(method.output, msg);
  } finally {
    call.cancel();
  }
}

/** A route serving a unary method: one request in, the implementation's answer out. */
export function unaryRoute<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>,
  impl: (request: MessageShape<I>, call: GrpcServerCall) => Promise<MessageInitShape<O>>): [string, GrpcHandler] {
  const path = methodPath(method);
  return [path, async (call) => {
    let request: MessageShape<I> | undefined;
    for await (const msg of call.requests) {
      if (request !== undefined) throw new GantryError("InvalidArgument", `${path} takes one request message.`);
      request = fromBinary(method.input, msg);
    }
    if (request === undefined) throw new GantryError("InvalidArgument", `${path} got no request message.`);
    const response = await impl(request, call);
    await call.send(toBinary(method.output, create(method.output, response)));
  }];
}
