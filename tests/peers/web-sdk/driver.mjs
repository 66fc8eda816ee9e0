// Drives the official `@heygen/liveavatar-web-sdk` (a browser SDK) from Node
// against the embedded simulator, through the SDK's public API only:
// `new LiveAvatarSession(token, { apiUrl })`, `start()`, `keepAlive()`,
// `repeatAudio(base64)` and `stop()`.
//
// Run by tests/peers/test_web_sdk.py as
//   node driver.mjs
// with, in the environment:
//   PEER_DIR        the folder `npm ci` installed the SDK in (.peers/web-sdk)
//   API_URL         the simulator's base URL (the SDK's `apiUrl` option)
//   SESSION_TOKEN   a LiveAvatar session token minted by the test
//   AUDIO_FILE      a file holding base64 PCM16 24 kHz mono: what repeatAudio sends
//   SPEAK_WHEN      "connected": call repeatAudio once the socket reported
//                   `session.state_updated: connected`, and stop once the
//                   avatar has said it; "started": call it as soon as `start()`
//                   resolved (what the SDK itself allows), and stop once
//                   `connected` came
//   The audio is base64: the SDK slices the string it is given into chunks
//   (19 200 then 48 000 characters, multiples of 4) and sends each as an
//   `agent.speak` `audio`, which the service wants base64.
// It prints one JSON line on stdout: what the SDK decided and did.
//
// What is stubbed, and why (Node has no WebRTC and no global WebSocket):
// - `globalThis.WebSocket` is the `ws` package's client (pinned in
//   package.json); the SDK's LITE socket is a real socket to the simulator.
//   The driver subclasses it only to record the server's events, since the SDK
//   surfaces none but `agent.speak_started`/`_ended`.
// - `globalThis.RTCPeerConnection` is an inert class (no methods but
//   `getSenders`/`getReceivers`, both empty) and `globalThis.MediaStream` a
//   trackless stand-in: livekit-client probes the first when the SDK builds
//   its `Room`, and the SDK builds the second before joining the room.
// - livekit-client's `Room#connect` resolves without connecting: it records
//   the URL and token it was given, and gives the room's engine a
//   `pcManager.subscriber._pc` (an inert RTCPeerConnection), which the SDK's
//   connection-quality indicator reads once the room is joined. The
//   simulator's rooms are in-process (`heygen-sim://`), not a LiveKit server,
//   and a LITE session needs no media to send audio: the SDK sends LITE
//   commands over the socket.
// - `globalThis.window` is `globalThis`, as in a browser: the quality
//   indicator's webrtc-issue-detector writes to `window`.
// - `webrtc-issue-detector` (an SDK dependency) is loaded from its ESM build,
//   as a bundler would (see bundler_resolve.mjs): its CommonJS build, Node's
//   default, breaks the SDK's `new WebRTCIssueDetector()` outside a bundler.
// Everything else (REST calls, token decoding, the socket protocol, audio
// chunking, stop) is the SDK's own code, unmodified.

import { readFileSync } from "node:fs";
import { register } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

register("./bundler_resolve.mjs", import.meta.url);

const env = (name) => {
    const value = process.env[name];
    if (!value) {
        throw new Error(`driver: ${name} is not set`);
    }
    return value;
};

const PEER_DIR = env("PEER_DIR");
const API_URL = env("API_URL");
const SESSION_TOKEN = env("SESSION_TOKEN");
const AUDIO_B64 = readFileSync(env("AUDIO_FILE"), "utf8").trim();
const SPEAK_WHEN = env("SPEAK_WHEN");
if (SPEAK_WHEN !== "connected" && SPEAK_WHEN !== "started") {
    throw new Error(`driver: SPEAK_WHEN must be "connected" or "started", not ${SPEAK_WHEN}`);
}
const STEP_TIMEOUT_MS = 15000;

// Import an installed package by its ESM entry ("import" export), as a bundler
// would; the driver lives outside PEER_DIR, so bare specifiers cannot reach it.
async function importPeer(name) {
    const root = join(PEER_DIR, "node_modules", name);
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    const entry = manifest.exports?.["."]?.import ?? manifest.module ?? manifest.main;
    return import(pathToFileURL(join(root, entry)).href);
}

const ws = await importPeer("ws");
const livekit = await importPeer("livekit-client");

const report = {
    mode: null,
    states: [],
    sessionId: null,
    roomConnect: null,
    requests: [],
    serverEvents: [],
    speakEventId: null,
    disconnectReason: null,
    errors: [],
};

// Every REST call the SDK makes, with its body (none is expected) and status.
// The SDK does not await its stop request; the driver waits for all of them.
const pending = new Set();
const realFetch = globalThis.fetch;
globalThis.fetch = (url, init = {}) => {
    const entry = {
        method: init.method ?? "GET",
        path: new URL(String(url)).pathname,
        hasBody: init.body !== undefined && init.body !== null,
        status: null,
    };
    report.requests.push(entry);
    const call = realFetch(url, init).then(
        (response) => {
            entry.status = response.status;
            return response;
        },
        (error) => {
            entry.status = `failed: ${error.message}`;
            throw error;
        },
    );
    const settled = call.catch(() => undefined);
    pending.add(settled);
    settled.finally(() => pending.delete(settled));
    return call;
};

let onServerEvent = () => {};
class RecordingWebSocket extends ws.WebSocket {
    constructor(...args) {
        super(...args);
        this.addEventListener("message", (event) => {
            let type = "<not json>";
            try {
                const parsed = JSON.parse(event.data);
                type = parsed.type;
                if (type === "session.state_updated") {
                    type = `${type}:${parsed.state}`;
                } else if (type === "agent.state_updated") {
                    type = `${type}:${parsed.new_state}`;
                }
            } catch {
                // recorded as such
            }
            report.serverEvents.push(type);
            onServerEvent(type);
        });
    }
}
// A browser's `window` is its global object; webrtc-issue-detector (which the
// SDK's quality indicator starts) writes to it.
globalThis.window = globalThis;
globalThis.WebSocket = RecordingWebSocket;
// Inert: no media, no ICE. The SDK's quality indicator polls a joined room's
// subscriber connection for its senders and receivers; it has none.
globalThis.RTCPeerConnection = class RTCPeerConnection {
    connectionState = "new";
    iceConnectionState = "new";
    getSenders() {
        return [];
    }
    getReceivers() {
        return [];
    }
};
globalThis.MediaStream = class MediaStream {
    getVideoTracks() {
        return [];
    }
    getAudioTracks() {
        return [];
    }
    addTrack() {}
    removeTrack() {}
};
// livekit-client assigns `connect` per instance in Room's constructor, so a
// setter on the prototype catches that assignment and keeps the stand-in.
async function connectWithoutMedia(url, token) {
    report.roomConnect = { url, tokenGiven: typeof token === "string" && token.length > 0 };
    // What a joined room has and the SDK reads: a subscriber peer connection.
    this.engine.pcManager = { subscriber: { _pc: new globalThis.RTCPeerConnection() } };
}
Object.defineProperty(livekit.Room.prototype, "connect", {
    configurable: true,
    get() {
        return connectWithoutMedia;
    },
    set(_livekitConnect) {
        // ignored: this Room never joins
    },
});

const sdk = await importPeer("@heygen/liveavatar-web-sdk");

function waitFor(what, predicate, listen) {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(
            () => reject(new Error(`timed out waiting for ${what}`)),
            STEP_TIMEOUT_MS,
        );
        listen((value) => {
            if (predicate(value)) {
                clearTimeout(timer);
                resolve(value);
            }
        });
    });
}

async function main() {
    const session = new sdk.LiveAvatarSession(SESSION_TOKEN, { apiUrl: API_URL });
    report.mode = session.mode;
    session.on(sdk.SessionEvent.SESSION_STATE_CHANGED, (state) => report.states.push(state));
    const disconnected = new Promise((resolve) =>
        session.on(sdk.SessionEvent.SESSION_DISCONNECTED, resolve),
    );
    const connected = waitFor(
        "session.state_updated: connected",
        (type) => type === "session.state_updated:connected",
        (listener) => {
            onServerEvent = listener;
        },
    );

    connected.catch(() => undefined); // no unhandled rejection if start() fails first
    await session.start();
    report.sessionId = session.sessionId;
    await session.keepAlive();
    if (SPEAK_WHEN === "connected") {
        await connected;
    }
    report.speakEventId = session.repeatAudio(AUDIO_B64);
    if (SPEAK_WHEN === "started") {
        // Stop only once the service is ready, so what the simulator saw of
        // the audio is settled (and not cut short by the stop).
        await connected;
    } else {
        // As an app would: let the avatar say it all before stopping. The SDK
        // reports no end of speech in the live profile (it knows only
        // `agent.speak_ended`), so the driver reads the avatar's state.
        let talked = false;
        await waitFor(
            "the avatar to talk, then go idle",
            (type) => {
                talked ||= type === "agent.state_updated:talking";
                return talked && type === "agent.state_updated:idle";
            },
            (listener) => {
                onServerEvent = listener;
            },
        );
    }
    await session.stop();
    report.disconnectReason = await disconnected;
}

try {
    await main();
} catch (error) {
    report.errors.push(String(error?.stack ?? error));
}
// stop() does not await its own REST call (nor does keepAlive()): let them finish.
while (pending.size > 0) {
    await Promise.all([...pending]);
}
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(report.errors.length === 0 ? 0 : 1);
