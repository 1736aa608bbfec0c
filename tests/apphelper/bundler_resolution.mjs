// How the apps' bundlers (webpack, Vite, Metro) resolve the package's imports, for Node.
//
// @churchapps/apphelper ships ES modules built for bundlers: its helpers import their
// neighbours without a file extension (`import { SocketHelper } from "./SocketHelper"`).
// A bundler tries `./SocketHelper.js`; Node's own ESM loader refuses. This resolve hook
// retries a relative specifier with `.js`, as a bundler does, and changes nothing else:
// the package's files run as published.
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    if (error?.code !== "ERR_MODULE_NOT_FOUND" || !relative || specifier.endsWith(".js")) {
      throw error;
    }
    return nextResolve(specifier + ".js", context);
  }
}
