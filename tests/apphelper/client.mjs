// A ChurchApps app in Node: the published @churchapps/apphelper SocketHelper and
// NotificationService and the @churchapps/helpers ApiHelper, configured the way the apps
// configure them, driven by the pytest side against a Steeple node.
//
//   node client.mjs <messaging API base, e.g. http://127.0.0.1:8084/messaging> <socket URL>
//   node client.mjs --stage <stage>   (the URLs from the apps' environment variables, read
//                                      by CommonEnvironmentHelper.init(stage), as the apps do)
//
// Commands arrive on stdin, one JSON object per line ({"do": "connect"}, ...); everything
// the client observes leaves on stdout, one JSON object per line ({"event": ...}). The
// app-side steps (joining a room, re-joining after a reconnect) are written the way the
// B1App live-stream chat does them with this generation of the package.
import { register } from "node:module";
import { createInterface } from "node:readline";
import WebSocket from "ws";

register("./bundler_resolution.mjs", import.meta.url);
globalThis.WebSocket = WebSocket; // a browser global the package expects; Node 20 lacks it

const { ApiHelper, CommonEnvironmentHelper, ErrorHelper, UserHelper } = await import(
  "@churchapps/helpers"
);
const { SocketHelper } = await import("@churchapps/apphelper/dist/helpers/SocketHelper.js");
const { NotificationService } = await import(
  "@churchapps/apphelper/dist/helpers/NotificationService.js"
);

const [messagingApi, socketUrl] = urls(process.argv.slice(2));
const FRAME_ACTIONS = ["message", "attendance", "deleteMessage", "notification", "privateMessage"];
const joinedRooms = new Map(); // conversationId -> {churchId, displayName}
let signedIn = null; // {churchId, personId}

function urls([first, second]) {
  if (first !== "--stage") return [first, second];
  CommonEnvironmentHelper.init(second);
  return [CommonEnvironmentHelper.MessagingApi, CommonEnvironmentHelper.MessagingApiSocket];
}

function emit(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + "\n");
}

function configure() {
  // What an app's EnvironmentHelper.init does: the socket URL on CommonEnvironmentHelper,
  // the REST base in ApiHelper.apiConfigs under the key the helpers use, "MessagingApi".
  CommonEnvironmentHelper.MessagingApi = messagingApi;
  CommonEnvironmentHelper.MessagingApiSocket = socketUrl;
  ApiHelper.apiConfigs = [{ keyName: "MessagingApi", url: messagingApi, jwt: "", permissions: [] }];
  ErrorHelper.init(
    () => ({ application: "steeple-interop", userId: "", churchId: "", originUrl: "" }),
    (log) => emit("apiError", { status: log.errorType, url: log.message, details: log.details })
  );
  for (const action of FRAME_ACTIONS) {
    SocketHelper.addHandler(action, "steeple-interop-" + action, (data) => emit(action, { data }));
  }
}

function socketIdArrived() {
  // SocketHelper stores the id when the socketId frame comes; listen on its socket for it.
  const socket = SocketHelper.socket;
  if (SocketHelper.socketId) return Promise.resolve(SocketHelper.socketId);
  return new Promise((resolve, reject) => {
    const seen = () => {
      if (!SocketHelper.socketId) return;
      socket.removeEventListener("message", seen);
      resolve(SocketHelper.socketId);
    };
    socket.addEventListener("message", seen);
    socket.addEventListener("close", () => reject(new Error("socket closed before its id")));
  });
}

async function connect() {
  await SocketHelper.init();
  const socket = SocketHelper.socket;
  const socketId = await socketIdArrived();
  socket.addEventListener("close", (e) => emit("closed", { socketId, code: e.code }));
  emit("connected", { socketId, state: SocketHelper.getConnectionState() });
}

async function joinRoom(churchId, conversationId, displayName) {
  const connection = { conversationId, churchId, displayName, socketId: SocketHelper.socketId };
  const rows = await ApiHelper.postAnonymous("/connections", [connection], "MessagingApi");
  const catchup = await ApiHelper.getAnonymous(
    `/messages/catchup/${churchId}/${conversationId}`,
    "MessagingApi"
  );
  joinedRooms.set(conversationId, { churchId, displayName });
  return { rows, catchup };
}

async function joinLive({ churchId, serviceId, displayName }) {
  const conversation = await ApiHelper.getAnonymous(
    `/conversations/current/${churchId}/streamingLive/${serviceId}`,
    "MessagingApi"
  );
  const { rows, catchup } = await joinRoom(churchId, conversation.id, displayName);
  emit("joined", { conversation, connections: rows, catchup });
}

async function reconnect() {
  // The package does not reconnect by itself (its onclose does nothing); an app that
  // finds the socket closed calls init() again and re-joins its rooms with the new id.
  const before = SocketHelper.getConnectionState();
  await connect();
  if (signedIn) SocketHelper.setPersonChurch(signedIn);
  const rejoined = [];
  for (const [conversationId, { churchId, displayName }] of joinedRooms) {
    const { catchup } = await joinRoom(churchId, conversationId, displayName);
    rejoined.push({ conversationId, catchup });
  }
  emit("reconnected", { before, socketId: SocketHelper.socketId, rejoined });
}

function signIn({ jwt, churchId, personId }) {
  // UserHelper.setupApiHelper is what the login flow calls with the chosen userChurch.
  UserHelper.setupApiHelper({ jwt, apis: [{ keyName: "MessagingApi", jwt, permissions: [] }] });
  signedIn = { churchId, personId };
  emit("signedIn", { authenticated: ApiHelper.isAuthenticated });
}

async function startNotifications() {
  const service = NotificationService.getInstance();
  const context = { person: { id: signedIn.personId }, userChurch: { church: { id: signedIn.churchId } } };
  await service.initialize(context);
  const socket = SocketHelper.socket;
  const socketId = await socketIdArrived();
  socket.addEventListener("close", (e) => emit("closed", { socketId, code: e.code }));
  service.subscribe((counts) => emit("counts", { counts }));
  emit("notificationsReady", { socketId, ready: service.isReady() });
}

async function joinAlertsSignedIn() {
  // The alerts join SocketHelper.createAlertConnection builds, posted with the token.
  const connection = {
    conversationId: "alerts",
    churchId: signedIn.churchId,
    displayName: "Test",
    socketId: SocketHelper.socketId,
    personId: signedIn.personId,
  };
  const rows = await ApiHelper.post("/connections", [connection], "MessagingApi");
  emit("alertsJoined", { connections: rows });
}

async function send({ churchId, conversationId, content, displayName }) {
  const body = [{ churchId, conversationId, content, displayName }];
  const saved = await ApiHelper.postAnonymous("/messages/send", body, "MessagingApi");
  emit("sent", { messages: saved });
}

async function refresh() {
  await NotificationService.getInstance().refresh();
  emit("refreshed", { counts: NotificationService.getInstance().getCounts() });
}

const COMMANDS = {
  connect,
  joinLive,
  reconnect,
  signIn,
  startNotifications,
  joinAlertsSignedIn,
  send,
  refresh,
  state: async () => emit("state", { state: SocketHelper.getConnectionState() }),
};

async function run(line) {
  const command = JSON.parse(line);
  if (command.do === "exit") {
    SocketHelper.disconnect();
    process.exit(0);
  }
  try {
    await COMMANDS[command.do](command);
  } catch (error) {
    emit("failed", { command: command.do, message: String(error?.message ?? error) });
  }
}

// SocketHelper posts its alerts join without awaiting it; a browser only logs a refusal.
process.on("unhandledRejection", (reason) =>
  emit("unhandledRejection", { message: String(reason?.message ?? reason) })
);
configure();
const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  queue = queue.then(() => run(line));
});
lines.on("close", () => queue.then(() => process.exit(0)));
emit("ready", { messagingApi, socketUrl });
