// The live-stream chat page's controller: wires the socket, the rooms (room.js, the
// model), the host session and the view (chatview.js, which alone touches the DOM).
// It speaks only the public ChurchApps protocol, like any other client. Importing it
// starts nothing: the page's module script (main.js) calls startChatPage.

import { Api, ApiError } from "./api.js";
import { ChatView } from "./chatview.js";
import { HostSession } from "./host.js";
import { ChatRoom } from "./room.js";
import { LiveSocket, backoffDelay, socketUrl } from "./socket.js";

const DEMO = { churchId: "demo", serviceId: "live" };
const NAME_KEY = "steeple.name";
const MINE_KEY = "steeple.mine";
const MINE_LIMIT = 200;
const ANONYMOUS = "Anonymous "; // the server numbers these: Anonymous_1, Anonymous_2…
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function parseRoute(pathname) {
  const match = /^\/stream\/([^/]+)\/([^/]+)\/?$/i.exec(pathname);
  if (!match) return { ...DEMO };
  return { churchId: decodeURIComponent(match[1]), serviceId: decodeURIComponent(match[2]) };
}

function readJson(storage, key, fallback) {
  try {
    return JSON.parse(storage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}

/** Start the chat page in `win` (its document, location and storage); returns the page. */
export function startChatPage(win = window) {
  const page = new ChatPage(win);
  page.start();
  return page;
}

export class ChatPage {
  constructor(win) {
    this.win = win;
    this.route = parseRoute(win.location.pathname);
    this.api = new Api();
    this.host = new HostSession();
    this.rooms = {};
    this.ready = new Set();
    this.active = "public";
    this.mine = new Set(readJson(win.sessionStorage, MINE_KEY, []));
    this.name = win.localStorage.getItem(NAME_KEY) || "";
    this.socket = null;
    this.generation = 0;
    this.view = new ChatView(win.document, win, {
      rename: (name) => this.rename(name),
      send: () => this.sendMessage(),
      block: (viewer, room) => this.toggleBlock(viewer, room),
      chooseSlowMode: (seconds) => this.chooseSlowMode(seconds),
      openRoom: (church, service) => this.openRoom(church, service),
      signIn: (token) => this.signIn(token),
      signOut: () => this.signOut(),
      showRoom: (key) => this.setActive(key),
      currentName: () => this.effectiveName(),
      route: () => this.route,
      signedIn: () => this.host.signedIn,
    });
  }

  // --- start-up -------------------------------------------------------------------------

  async start() {
    this.view.bind();
    if (this.host.restore(this.win.location, this.win.history)) this.api.token = this.host.token;
    this.renderIdentity();
    const { churchId, serviceId } = this.route;
    this.view.showRoomLabel(this.route);
    let config, conversation;
    try {
      config = await this.retry(() => this.api.get("/stream/config").catch((error) => {
        if (error.status === 0) throw error;
        return null; // an older server: assume the socket shares the page's origin
      }));
      conversation = await this.retry(
        () => this.api.currentConversation(churchId, "streamingLive", serviceId));
    } catch (error) {
      this.view.showBanner(`This room cannot be opened: ${error.message}`);
      this.view.setStatus("offline");
      return;
    }
    this.addRoom("public", conversation);
    this.renderSlowMode();
    this.connect(socketUrl(config, this.win.location));
    if (this.host.signedIn) this.openHostRoom();
  }

  /** Retry what failed because the server was unreachable or erring; 4xx are final. */
  async retry(work) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        if (error instanceof ApiError && error.status >= 400 && error.status < 500) throw error;
        this.view.setStatus("reconnecting");
        await sleep(250 + backoffDelay(attempt));
      }
    }
  }

  connect(url) {
    const socket = new LiveSocket(url);
    this.socket = socket;
    socket.on("message", (data, frame) => this.roomOf(frame)?.apply(data));
    socket.on("deleteMessage", (data) => {
      for (const room of Object.values(this.rooms)) room.remove(data && data.id);
    });
    socket.on("attendance", (data, frame) => this.roomOf(frame)?.setAttendance(data));
    socket.on("blockedIp", (data, frame) => this.roomOf(frame)?.setBlocked(data));
    socket.on("roomSettings", (data, frame) => this.roomOf(frame)?.setSettings(data));
    socket.onSocketId((id) => this.attachAll(id));
    socket.onState((state) => {
      if (state === "waiting") this.view.setStatus("reconnecting");
      else if (state === "connecting" && !socket.hadId) this.view.setStatus("connecting");
    });
    this.win.addEventListener("pagehide", () => socket.stop());
    this.win.addEventListener("pageshow", (event) => { if (event.persisted) socket.start(); });
    socket.start();
  }

  roomOf(frame) {
    return Object.values(this.rooms).find((room) => room.matches(frame)) || null;
  }

  // --- rooms ----------------------------------------------------------------------------

  addRoom(key, conversation) {
    const room = new ChatRoom(this.api, key, conversation);
    const list = this.view.addList(key, {
      isMine: (message) => this.isMine(message),
      onDelete: (id) => this.deleteMessage(id),
    });
    room.subscribe((event) => this.onRoomEvent(room, list, event));
    this.rooms[key] = room;
    return room;
  }

  onRoomEvent(room, list, event) {
    list.handle(event);
    const shown = room.key === this.active;
    if (event.type === "add" && !shown && this.ready.has(room.key)) this.view.bumpBadge(room.key);
    if (event.type === "attendance" && room.key === "public") {
      this.view.showWatching(room.totalViewers);
    }
    if ((event.type === "attendance" || event.type === "blocked") && shown) this.renderViewers();
    if (event.type === "blocked" && room.key === "public") this.renderBlocked();
    if (event.type === "settings" && shown) this.renderSlowMode();
    if (shown) this.renderEmpty();
  }

  /** A (new) socket: join every room, then fetch only what was missed. */
  async attachAll(socketId) {
    const generation = ++this.generation;
    this.view.showSocketId(socketId);
    this.view.setStatus("syncing");
    const results = await Promise.all(
      Object.values(this.rooms).map((room) => this.attach(room, socketId)));
    if (generation !== this.generation) return;
    if (results.every(Boolean)) this.view.setStatus("live");
  }

  /**
   * Join one room for this socket. A failure that passes (unreachable, 5xx, 429) is
   * retried with capped, jittered backoff on the same socket until it succeeds, the
   * room is closed or a new socketId supersedes it: one failed re-join must not leave
   * the page deaf. "Not an open socket" means this socket is gone: its successor's
   * socketId joins again. Other refusals are final.
   */
  async attach(room, socketId) {
    for (let attempt = 0; ; attempt += 1) {
      const again = this.ready.has(room.key);
      try {
        await room.attach(socketId, this.effectiveName() || ANONYMOUS);
        this.ready.add(room.key);
        if (again) this.refreshSettings(room); // a roomSettings frame may have been missed
        return true;
      } catch (error) {
        const passing = error.status === 0 || error.status === 429 || error.status >= 500;
        if (!passing) return this.refused(room, error);
        this.view.setStatus("reconnecting");
        await sleep(Math.max(1000 * (error.retryAfter || 0), backoffDelay(attempt)));
        if (this.superseded(room, socketId)) return false;
      }
    }
  }

  superseded(room, socketId) {
    return this.rooms[room.key] !== room || !this.socket || this.socket.socketId !== socketId ||
      this.socket.state !== "open";
  }

  refused(room, error) {
    if (room.key === "host") {
      this.view.toast.show(`Host chat is unavailable: ${error.message}`);
      this.closeHostRoom();
      return true;
    }
    if (error.status === 400 && /not an open socket/.test(error.message)) return false;
    this.view.showBanner(`Could not join the chat: ${error.message}`);
    return false;
  }

  async openHostRoom() {
    let answer;
    try {
      answer = await this.api.hostRoom(this.route.serviceId);
    } catch (error) {
      this.view.toast.show(error.missing ? "Host chat is not available on this server yet."
        : `Host chat is unavailable: ${error.message}`);
      return;
    }
    if (!answer || !answer.room) {
      this.view.toast.show("This token cannot host this church's chat (it needs Chat__Host).");
      return;
    }
    let conversation;
    try {
      conversation = await this.api.currentConversation(
        this.route.churchId, "streamingLiveHost", answer.room);
    } catch (error) {
      this.view.toast.show(`Host chat is unavailable: ${error.message}`);
      return;
    }
    if (this.rooms.host) return;
    const room = this.addRoom("host", conversation);
    this.view.showTabs(true);
    if (this.socket && this.socket.state === "open") await this.attach(room, this.socket.socketId);
  }

  closeHostRoom() {
    const room = this.rooms.host;
    if (!room) return;
    delete this.rooms.host;
    this.view.removeList("host");
    this.ready.delete("host");
    this.view.showTabs(false);
    this.setActive("public");
    if (this.socket && this.socket.socketId) {
      const path = `/messaging/connections/${encodeURIComponent(room.churchId)}/` +
        `${encodeURIComponent(room.id)}/${encodeURIComponent(this.socket.socketId)}`;
      this.api.delete(path).catch(() => {});
    }
  }

  // --- actions --------------------------------------------------------------------------

  async sendMessage() {
    const content = this.view.draft();
    const room = this.rooms[this.active];
    if (!content || !room) return;
    const slowed = room.slowModeSeconds > 0 && !this.host.canHost(room.churchId);
    if (slowed && this.view.slowMode.waiting) return; // the button shows how long is left
    this.view.clearDraft();
    try {
      const saved = await room.send(content, this.effectiveName() || ANONYMOUS);
      if (slowed) this.view.slowMode.wait(room.slowModeSeconds);
      for (const message of saved) {
        this.rememberMine(message.id);
        room.apply(message);
      }
    } catch (error) {
      this.view.restoreDraft(content);
      if (error.status === 429) this.view.slowMode.wait(error.retryAfter || 1);
      this.view.toast.show(error.status === 403 ? "You cannot post in this chat right now."
        : error.status === 0 ? "Not sent: the server cannot be reached."
          : error.status === 429 ? `Not sent yet: ${error.message}`
            : `Not sent: ${error.message}`);
    }
  }

  async chooseSlowMode(seconds) {
    const room = this.rooms.public;
    if (!room) return;
    try {
      room.setSettings(await this.api.setSlowMode(room.churchId, room.id, seconds));
    } catch (error) {
      this.view.toast.show(error.missing ? "Slow mode is not available on this server."
        : error.denied ? "Only a host (Chat__Host or Content__Edit) may change slow mode."
          : `Could not change slow mode: ${error.message}`);
    }
    this.renderSlowMode();
  }

  async refreshSettings(room) {
    try {
      room.setSettings(await this.api.roomSettings(room.churchId, room.id));
    } catch {
      // an older server without settings, or a blip: frames keep the room current
    }
  }

  rememberMine(id) {
    this.mine.add(id);
    const recent = Array.from(this.mine).slice(-MINE_LIMIT);
    this.win.sessionStorage.setItem(MINE_KEY, JSON.stringify(recent));
    this.view.markMine(id);
  }

  isMine(message) {
    if (this.mine.has(message.id)) return true;
    const personId = this.host.claims && this.host.claims.personId;
    return Boolean(personId) && message.personId === personId;
  }

  async deleteMessage(id) {
    try {
      await this.api.deleteMessage(id);
      for (const room of Object.values(this.rooms)) room.remove(id);
    } catch (error) {
      this.view.toast.show(error.denied ? "Only a host with Content__Edit may delete messages."
        : error.missing ? "Deleting messages is not available on this server."
          : `Could not delete: ${error.message}`);
    }
  }

  async toggleBlock(viewer, room) {
    const entry = { conversationId: room.id, serviceId: this.route.serviceId,
      ipAddress: viewer.ipAddress };
    try {
      await this.api.toggleBlock([entry]);
    } catch (error) {
      this.view.toast.show(error.missing ? "Blocking is not available on this server yet."
        : error.denied ? "Only a host with Content__Edit may block viewers."
          : `Could not block: ${error.message}`);
    }
  }

  async rename(name) {
    this.name = name;
    this.win.localStorage.setItem(NAME_KEY, name);
    this.renderIdentity();
    this.view.focusDraft();
    if (!this.socket || this.socket.state !== "open") return; // joins will carry the name
    try {
      await this.api.setName(this.socket.socketId, name);
    } catch (error) {
      this.view.toast.show(`Could not change your name: ${error.message}`);
    }
  }

  effectiveName() {
    return this.name || (this.host.signedIn ? this.host.displayName : "");
  }

  signIn(token) {
    if (!this.host.signIn(token)) {
      this.view.toast.show("That does not look like a sign-in token.");
      return;
    }
    this.api.token = this.host.token;
    this.renderIdentity();
    if (this.socket && this.socket.state === "open") this.attachAll(this.socket.socketId);
    this.openHostRoom();
  }

  signOut() {
    this.closeHostRoom();
    this.host.signOut();
    this.api.token = null;
    this.renderIdentity();
    if (this.socket && this.socket.state === "open") this.attachAll(this.socket.socketId);
  }

  openRoom(church, service) {
    this.win.location.assign(`/stream/${encodeURIComponent(church)}/${encodeURIComponent(service)}`);
  }

  // --- what the view shows --------------------------------------------------------------

  setActive(key) {
    if (!this.rooms[key]) key = "public";
    this.active = key;
    this.view.showActive(key);
    this.renderSlowMode();
    this.renderViewers();
    this.renderEmpty();
    this.renderBlocked();
    this.view.scrollActive();
  }

  renderIdentity() {
    this.view.renderIdentity(this.effectiveName(), this.host.signedIn);
    this.renderViewers();
    this.renderSlowMode();
  }

  renderSlowMode() {
    const room = this.rooms[this.active];
    if (room) this.view.renderSlowMode(room, room.key === "public" && this.host.canHost(room.churchId));
  }

  renderViewers() {
    const room = this.rooms[this.active];
    if (room) this.view.renderViewers(room, this.host.signedIn);
  }

  renderEmpty() {
    this.view.renderEmpty(this.rooms[this.active]);
  }

  renderBlocked() {
    const room = this.rooms[this.active];
    this.view.renderBlocked(Boolean(room && room.amBlocked));
  }
}
