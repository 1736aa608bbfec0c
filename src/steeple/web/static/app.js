// The live-stream chat page: wires the socket, the rooms, the host session and the view.
// It speaks only the public ChurchApps protocol, like any other client.

import { Api, ApiError } from "./api.js";
import { HostSession } from "./host.js";
import { ChatRoom } from "./room.js";
import { SlowModeView } from "./slowmode.js";
import { LiveSocket, backoffDelay, socketUrl } from "./socket.js";
import { MessageList, Toast, ViewerPanel } from "./view.js";

const DEMO = { churchId: "demo", serviceId: "live" };
const NAME_KEY = "steeple.name";
const MINE_KEY = "steeple.mine";
const MINE_LIMIT = 200;
const ANONYMOUS = "Anonymous "; // the server numbers these: Anonymous_1, Anonymous_2…
const $ = (id) => document.getElementById(id);
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

class ChatPage {
  constructor() {
    this.route = parseRoute(location.pathname);
    this.api = new Api();
    this.host = new HostSession();
    this.toast = new Toast($("toast"));
    this.rooms = {};
    this.lists = {};
    this.ready = new Set();
    this.active = "public";
    this.mine = new Set(readJson(sessionStorage, MINE_KEY, []));
    this.name = localStorage.getItem(NAME_KEY) || "";
    this.socket = null;
    this.generation = 0;
    this.viewers = new ViewerPanel($("viewer-list"), $("viewer-more"), {
      onBlock: (viewer, room) => this.toggleBlock(viewer, room),
    });
    this.slowMode = new SlowModeView({
      notice: $("slow-mode"), button: $("send"), countdown: $("send-countdown"),
      control: $("slow-mode-control"), select: $("slow-mode-select"),
      onChoose: (seconds) => this.chooseSlowMode(seconds),
    });
  }

  // --- start-up -------------------------------------------------------------------------

  async start() {
    this.bindUi();
    if (this.host.restore(location, history)) this.api.token = this.host.token;
    this.renderIdentity();
    const { churchId, serviceId } = this.route;
    $("room-label").textContent = `${churchId} · ${serviceId}`;
    document.title = `Live chat · ${serviceId} · Steeple`;
    let config, conversation;
    try {
      config = await this.retry(() => this.api.get("/stream/config").catch((error) => {
        if (error.status === 0) throw error;
        return null; // an older server: assume the socket shares the page's origin
      }));
      conversation = await this.retry(
        () => this.api.currentConversation(churchId, "streamingLive", serviceId));
    } catch (error) {
      this.showBanner(`This room cannot be opened: ${error.message}`);
      this.setStatus("offline");
      return;
    }
    this.addRoom("public", conversation);
    this.renderSlowMode();
    this.connect(socketUrl(config, location));
    if (this.host.signedIn) this.openHostRoom();
  }

  /** Retry what failed because the server was unreachable or erring; 4xx are final. */
  async retry(work) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        if (error instanceof ApiError && error.status >= 400 && error.status < 500) throw error;
        this.setStatus("reconnecting");
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
      if (state === "waiting") this.setStatus("reconnecting");
      else if (state === "connecting" && !socket.hadId) this.setStatus("connecting");
    });
    window.addEventListener("pagehide", () => socket.stop());
    window.addEventListener("pageshow", (event) => { if (event.persisted) socket.start(); });
    socket.start();
  }

  roomOf(frame) {
    return Object.values(this.rooms).find((room) => room.matches(frame)) || null;
  }

  // --- rooms ----------------------------------------------------------------------------

  addRoom(key, conversation) {
    const room = new ChatRoom(this.api, key, conversation);
    const list = new MessageList($(`messages-${key}`), document.querySelector(".conversation"), {
      isMine: (message) => this.isMine(message),
      onDelete: (id) => this.deleteMessage(id),
      onNewBelow: () => { $("jump").hidden = false; },
    });
    room.subscribe((event) => this.onRoomEvent(room, list, event));
    this.rooms[key] = room;
    this.lists[key] = list;
    return room;
  }

  onRoomEvent(room, list, event) {
    list.handle(event);
    const shown = room.key === this.active;
    if (event.type === "add" && !shown && this.ready.has(room.key)) this.bumpBadge(room.key);
    if (event.type === "attendance" && room.key === "public") {
      $("watching-count").textContent = String(room.totalViewers);
    }
    if ((event.type === "attendance" || event.type === "blocked") && shown) this.renderViewers();
    if (event.type === "blocked" && room.key === "public") this.renderBlocked();
    if (event.type === "settings" && shown) this.renderSlowMode();
    if (shown) this.renderEmpty();
  }

  /** A (new) socket: join every room, then fetch only what was missed. */
  async attachAll(socketId) {
    const generation = ++this.generation;
    document.body.dataset.socketId = socketId;
    this.setStatus("syncing");
    const results = await Promise.all(
      Object.values(this.rooms).map((room) => this.attach(room, socketId)));
    if (generation !== this.generation) return;
    if (results.every(Boolean)) this.setStatus("live");
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
        this.setStatus("reconnecting");
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
      this.toast.show(`Host chat is unavailable: ${error.message}`);
      this.closeHostRoom();
      return true;
    }
    if (error.status === 400 && /not an open socket/.test(error.message)) return false;
    this.showBanner(`Could not join the chat: ${error.message}`);
    return false;
  }

  async openHostRoom() {
    let answer;
    try {
      answer = await this.api.hostRoom(this.route.serviceId);
    } catch (error) {
      this.toast.show(error.missing ? "Host chat is not available on this server yet."
        : `Host chat is unavailable: ${error.message}`);
      return;
    }
    if (!answer || !answer.room) {
      this.toast.show("This token cannot host this church's chat (it needs Chat__Host).");
      return;
    }
    let conversation;
    try {
      conversation = await this.api.currentConversation(
        this.route.churchId, "streamingLiveHost", answer.room);
    } catch (error) {
      this.toast.show(`Host chat is unavailable: ${error.message}`);
      return;
    }
    if (this.rooms.host) return;
    const room = this.addRoom("host", conversation);
    $("tabs").hidden = false;
    if (this.socket && this.socket.state === "open") await this.attach(room, this.socket.socketId);
  }

  closeHostRoom() {
    const room = this.rooms.host;
    if (!room) return;
    delete this.rooms.host;
    delete this.lists.host;
    this.ready.delete("host");
    $("messages-host").replaceChildren();
    $("tabs").hidden = true;
    this.setActive("public");
    if (this.socket && this.socket.socketId) {
      const path = `/messaging/connections/${encodeURIComponent(room.churchId)}/` +
        `${encodeURIComponent(room.id)}/${encodeURIComponent(this.socket.socketId)}`;
      this.api.delete(path).catch(() => {});
    }
  }

  // --- actions --------------------------------------------------------------------------

  async sendMessage() {
    const input = $("message-input");
    const content = input.value.trim();
    const room = this.rooms[this.active];
    if (!content || !room) return;
    const slowed = room.slowModeSeconds > 0 && !this.host.canHost(room.churchId);
    if (slowed && this.slowMode.waiting) return; // the button shows how long is left
    input.value = "";
    this.autosize();
    try {
      const saved = await room.send(content, this.effectiveName() || ANONYMOUS);
      if (slowed) this.slowMode.wait(room.slowModeSeconds);
      for (const message of saved) {
        this.rememberMine(message.id);
        room.apply(message);
      }
    } catch (error) {
      if (!input.value) input.value = content;
      this.autosize();
      if (error.status === 429) this.slowMode.wait(error.retryAfter || 1);
      this.toast.show(error.status === 403 ? "You cannot post in this chat right now."
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
      this.toast.show(error.missing ? "Slow mode is not available on this server."
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
    sessionStorage.setItem(MINE_KEY, JSON.stringify(recent));
    for (const list of Object.values(this.lists)) {
      const node = list.find(id);
      if (node) {
        node.classList.add("mine");
        list.regroup(node);
        list.scrollToBottom();
      }
    }
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
      this.toast.show(error.denied ? "Only a host with Content__Edit may delete messages."
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
      this.toast.show(error.missing ? "Blocking is not available on this server yet."
        : error.denied ? "Only a host with Content__Edit may block viewers."
          : `Could not block: ${error.message}`);
    }
  }

  async rename(name) {
    this.name = name;
    localStorage.setItem(NAME_KEY, name);
    this.renderIdentity();
    $("message-input").focus();
    if (!this.socket || this.socket.state !== "open") return; // joins will carry the name
    try {
      await this.api.setName(this.socket.socketId, name);
    } catch (error) {
      this.toast.show(`Could not change your name: ${error.message}`);
    }
  }

  effectiveName() {
    return this.name || (this.host.signedIn ? this.host.displayName : "");
  }

  signIn(token) {
    if (!this.host.signIn(token)) {
      this.toast.show("That does not look like a sign-in token.");
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

  // --- view -----------------------------------------------------------------------------

  bindUi() {
    $("name-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const name = $("name-input").value.trim().replace(/\s+/g, " ").slice(0, 50);
      if (name) this.rename(name);
    });
    $("message-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendMessage();
    });
    const input = $("message-input");
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.sendMessage();
      }
    });
    input.addEventListener("input", () => this.autosize());
    $("rename").addEventListener("click", () => {
      $("name-input").value = this.effectiveName();
      $("name-form").hidden = false;
      $("message-form").hidden = true;
      $("whoami").hidden = true;
      $("name-input").focus();
    });
    $("watching").addEventListener("click", () => this.toggleViewers());
    $("viewers-close").addEventListener("click", () => this.toggleViewers(false));
    $("jump").addEventListener("click", () => this.lists[this.active]?.scrollToBottom());
    document.querySelector(".conversation").addEventListener("scroll", () => {
      if (this.lists[this.active]?.nearBottom()) $("jump").hidden = true;
    });
    for (const tab of document.querySelectorAll(".tab")) {
      tab.addEventListener("click", () => this.setActive(tab.dataset.room));
    }
    this.bindDialogs();
  }

  bindDialogs() {
    const roomDialog = $("room-dialog");
    $("room-button").addEventListener("click", () => {
      $("church-input").value = this.route.churchId;
      $("service-input").value = this.route.serviceId;
      roomDialog.showModal();
    });
    roomDialog.addEventListener("close", () => {
      if (roomDialog.returnValue !== "open") return;
      const church = encodeURIComponent($("church-input").value.trim());
      const service = encodeURIComponent($("service-input").value.trim());
      location.assign(`/stream/${church}/${service}`);
    });
    const hostDialog = $("host-dialog");
    $("host-button").addEventListener("click", () => {
      $("token-input").value = "";
      $("sign-out").hidden = !this.host.signedIn;
      hostDialog.showModal();
    });
    hostDialog.addEventListener("close", () => {
      if (hostDialog.returnValue === "signin") this.signIn($("token-input").value);
      else if (hostDialog.returnValue === "signout") this.signOut();
    });
  }

  autosize() {
    const input = $("message-input");
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 140)}px`;
  }

  toggleViewers(force) {
    const wide = window.matchMedia("(min-width: 900px)").matches;
    const app = document.querySelector(".app");
    const open = force ?? (wide ? app.classList.contains("hide-viewers")
      : !app.classList.contains("show-viewers"));
    app.classList.toggle("hide-viewers", !open);
    app.classList.toggle("show-viewers", open);
    $("watching").setAttribute("aria-expanded", String(open));
  }

  setActive(key) {
    if (!this.rooms[key]) key = "public";
    this.active = key;
    for (const tab of document.querySelectorAll(".tab")) {
      const on = tab.dataset.room === key;
      tab.classList.toggle("active", on);
      if (on) tab.querySelector(".badge").hidden = true;
    }
    for (const list of document.querySelectorAll(".messages")) {
      list.hidden = list.dataset.room !== key;
    }
    $("message-input").placeholder = key === "host" ? "Message the other hosts…"
      : "Say something…";
    this.renderSlowMode();
    this.renderViewers();
    this.renderEmpty();
    this.renderBlocked();
    this.lists[key]?.scrollToBottom();
  }

  bumpBadge(key) {
    const badge = document.querySelector(`.tab[data-room="${key}"] .badge`);
    const count = Number(badge.textContent || "0") + 1;
    badge.textContent = String(count);
    badge.hidden = false;
  }

  renderIdentity() {
    const name = this.effectiveName();
    $("name-form").hidden = Boolean(name);
    $("message-form").hidden = !name;
    $("whoami").hidden = !name;
    $("my-name").textContent = name;
    $("host-button").textContent = this.host.signedIn ? "Host ✓" : "Host";
    document.body.classList.toggle("moderator", this.host.signedIn);
    this.renderViewers();
    this.renderSlowMode();
  }

  renderSlowMode() {
    const room = this.rooms[this.active];
    if (!room) return;
    this.slowMode.render(room.slowModeSeconds, {
      host: room.key === "public" && this.host.canHost(room.churchId),
    });
  }

  renderViewers() {
    const room = this.rooms[this.active];
    if (!room) return;
    document.querySelector(".viewers h2").textContent =
      room.key === "host" ? "Hosts here" : "Watching now";
    this.viewers.render(room, this.host.signedIn);
  }

  renderEmpty() {
    const room = this.rooms[this.active];
    $("empty").hidden = !room || !room.loaded || room.messages.length > 0;
  }

  renderBlocked() {
    const room = this.rooms[this.active];
    const blocked = Boolean(room && room.amBlocked);
    $("message-input").disabled = blocked;
    this.slowMode.hold(blocked);
    if (blocked) this.showBanner("A host has paused your messages in this chat.");
    else if ($("banner").dataset.kind === "blocked") this.showBanner("");
    $("banner").dataset.kind = blocked ? "blocked" : "";
  }

  showBanner(text) {
    $("banner").textContent = text;
    $("banner").hidden = !text;
  }

  setStatus(status) {
    document.body.dataset.status = status;
    const labels = { connecting: "Connecting…", syncing: "Connecting…", live: "Live",
      reconnecting: "Reconnecting…", offline: "Offline" };
    $("status").textContent = labels[status] || status;
  }
}

new ChatPage().start();
