// A Node module-resolution hook (registered by driver.mjs): resolve the listed
// packages, which declare no "exports", to their "module" (ESM) entry, as the
// bundlers that build browser apps do, instead of Node's "main" (CommonJS).
//
// Why: the web SDK does `import WebRTCIssueDetector from "webrtc-issue-detector"`.
// That package has no "exports"; a bundler picks its ESM build, whose default
// export is the class, while Node picks its CommonJS build, whose default is
// the `exports` object, and the SDK's `new WebRTCIssueDetector(...)` throws.
// Only that package is redirected: the fewer differences from plain Node, the
// fewer places where the driver, not the SDK, could be at fault.

import { readFileSync } from "node:fs";
import { join, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const BUNDLER_RESOLVED = new Set(["webrtc-issue-detector"]);

function packageRoot(file) {
    const marker = `${sep}node_modules${sep}`;
    const at = file.lastIndexOf(marker);
    if (at < 0) {
        return null;
    }
    const rest = file.slice(at + marker.length).split(sep);
    const depth = rest[0].startsWith("@") ? 2 : 1;
    return join(file.slice(0, at + marker.length), ...rest.slice(0, depth));
}

export async function resolve(specifier, context, nextResolve) {
    const resolved = await nextResolve(specifier, context);
    if (!BUNDLER_RESOLVED.has(specifier) || !resolved.url.startsWith("file:")) {
        return resolved;
    }
    const root = packageRoot(fileURLToPath(resolved.url));
    if (root === null) {
        return resolved;
    }
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    if (manifest.exports !== undefined || typeof manifest.module !== "string") {
        return resolved;
    }
    return { url: pathToFileURL(join(root, manifest.module)).href, format: "module", shortCircuit: true };
}
