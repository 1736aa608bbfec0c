// The chat page's view: every DOM look-up and every change to the page is here. It
// holds no chat state: the controller (app.js) tells it what to show and hears, through
// the callbacks it passes in, what the viewer did. Text goes in as text.

import { SlowModeView } from "./slowmode.js";
import { MessageList, Toast, ViewerPanel } from "./view.js";

const STATUS_LABELS = { connecting: "Connecting…", syncing: "Connecting…", live: "Live",
  reconnecting: "Reconnecting…", offline: "Offline" };

export class ChatView {
  /**
   * `actions`: what the viewer can do, as callbacks: rename(name), send(),
   * block(viewer, room), chooseSlowMode(seconds), openRoom(church, service),
   * signIn(token), signOut(), showRoom(key), currentName(), route(), signedIn().
   */
  constructor(doc, win, actions) {
    this.doc = doc;
    this.win = win;
    this.actions = actions;
    this.$ = (id) => doc.getElementById(id);
    this.lists = {};
    this.active = "public";
    this.toast = new Toast(this.$("toast"));
    this.viewers = new ViewerPanel(this.$("viewer-list"), this.$("viewer-more"), {
      onBlock: (viewer, room) => actions.block(viewer, room),
    });
    this.slowMode = new SlowModeView({
      notice: this.$("slow-mode"), button: this.$("send"), countdown: this.$("send-countdown"),
      control: this.$("slow-mode-control"), select: this.$("slow-mode-select"),
      onChoose: (seconds) => actions.chooseSlowMode(seconds),
    });
    this.input = this.$("message-input");
  }

  // --- what the viewer does ---------------------------------------------------------------

  bind() {
    const $ = this.$;
    $("name-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const name = $("name-input").value.trim().replace(/\s+/g, " ").slice(0, 50);
      if (name) this.actions.rename(name);
    });
    $("message-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.actions.send();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.actions.send();
      }
    });
    this.input.addEventListener("input", () => this.autosize());
    $("rename").addEventListener("click", () => this.editName());
    $("watching").addEventListener("click", () => this.toggleViewers());
    $("viewers-close").addEventListener("click", () => this.toggleViewers(false));
    $("jump").addEventListener("click", () => this.lists[this.active]?.scrollToBottom());
    this.doc.querySelector(".conversation").addEventListener("scroll", () => {
      if (this.lists[this.active]?.nearBottom()) $("jump").hidden = true;
    });
    for (const tab of this.doc.querySelectorAll(".tab")) {
      tab.addEventListener("click", () => this.actions.showRoom(tab.dataset.room));
    }
    this.bindRoomDialog();
    this.bindHostDialog();
  }

  bindRoomDialog() {
    const $ = this.$;
    const dialog = $("room-dialog");
    $("room-button").addEventListener("click", () => {
      const { churchId, serviceId } = this.actions.route();
      $("church-input").value = churchId;
      $("service-input").value = serviceId;
      dialog.showModal();
    });
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "open") return;
      this.actions.openRoom($("church-input").value.trim(), $("service-input").value.trim());
    });
  }

  bindHostDialog() {
    const $ = this.$;
    const dialog = $("host-dialog");
    $("host-button").addEventListener("click", () => {
      $("token-input").value = "";
      $("sign-out").hidden = !this.actions.signedIn();
      dialog.showModal();
    });
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "signin") this.actions.signIn($("token-input").value);
      else if (dialog.returnValue === "signout") this.actions.signOut();
    });
  }

  editName() {
    const $ = this.$;
    $("name-input").value = this.actions.currentName();
    $("name-form").hidden = false;
    $("message-form").hidden = true;
    $("whoami").hidden = true;
    $("name-input").focus();
  }

  // --- the message box --------------------------------------------------------------------

  /** The message being written, trimmed ("" if there is none). */
  draft() {
    return this.input.value.trim();
  }

  clearDraft() {
    this.input.value = "";
    this.autosize();
  }

  /** Put back a draft that was not sent, unless the viewer typed anew. */
  restoreDraft(content) {
    if (!this.input.value) this.input.value = content;
    this.autosize();
  }

  focusDraft() {
    this.input.focus();
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 140)}px`;
  }

  // --- rooms ------------------------------------------------------------------------------

  /** The message list of room `key`; `isMine` and `onDelete` come from the controller. */
  addList(key, { isMine, onDelete }) {
    const list = new MessageList(this.$(`messages-${key}`), this.doc.querySelector(".conversation"), {
      isMine, onDelete, onNewBelow: () => { this.$("jump").hidden = false; },
    });
    this.lists[key] = list;
    return list;
  }

  removeList(key) {
    delete this.lists[key];
    this.$(`messages-${key}`).replaceChildren();
  }

  /** A message of mine, now known: shown as mine wherever it is. */
  markMine(id) {
    for (const list of Object.values(this.lists)) {
      const node = list.find(id);
      if (node) {
        node.classList.add("mine");
        list.regroup(node);
        list.scrollToBottom();
      }
    }
  }

  showTabs(shown) {
    this.$("tabs").hidden = !shown;
  }

  showActive(key) {
    this.active = key;
    for (const tab of this.doc.querySelectorAll(".tab")) {
      const on = tab.dataset.room === key;
      tab.classList.toggle("active", on);
      if (on) tab.querySelector(".badge").hidden = true;
    }
    for (const list of this.doc.querySelectorAll(".messages")) {
      list.hidden = list.dataset.room !== key;
    }
    this.input.placeholder = key === "host" ? "Message the other hosts…" : "Say something…";
  }

  scrollActive() {
    this.lists[this.active]?.scrollToBottom();
  }

  bumpBadge(key) {
    const badge = this.doc.querySelector(`.tab[data-room="${key}"] .badge`);
    const count = Number(badge.textContent || "0") + 1;
    badge.textContent = String(count);
    badge.hidden = false;
  }

  // --- rendering --------------------------------------------------------------------------

  showRoomLabel({ churchId, serviceId }) {
    this.$("room-label").textContent = `${churchId} · ${serviceId}`;
    this.doc.title = `Live chat · ${serviceId} · Steeple`;
  }

  showWatching(count) {
    this.$("watching-count").textContent = String(count);
  }

  renderIdentity(name, signedIn) {
    const $ = this.$;
    $("name-form").hidden = Boolean(name);
    $("message-form").hidden = !name;
    $("whoami").hidden = !name;
    $("my-name").textContent = name;
    $("host-button").textContent = signedIn ? "Host ✓" : "Host";
    this.doc.body.classList.toggle("moderator", signedIn);
  }

  renderSlowMode(room, host) {
    this.slowMode.render(room.slowModeSeconds, { host });
  }

  renderViewers(room, signedIn) {
    this.doc.querySelector(".viewers h2").textContent =
      room.key === "host" ? "Hosts here" : "Watching now";
    this.viewers.render(room, signedIn);
  }

  renderEmpty(room) {
    this.$("empty").hidden = !room || !room.loaded || room.messages.length > 0;
  }

  renderBlocked(blocked) {
    const banner = this.$("banner");
    this.input.disabled = blocked;
    this.slowMode.hold(blocked);
    if (blocked) this.showBanner("A host has paused your messages in this chat.");
    else if (banner.dataset.kind === "blocked") this.showBanner("");
    banner.dataset.kind = blocked ? "blocked" : "";
  }

  toggleViewers(force) {
    const wide = this.win.matchMedia("(min-width: 900px)").matches;
    const app = this.doc.querySelector(".app");
    const open = force ?? (wide ? app.classList.contains("hide-viewers")
      : !app.classList.contains("show-viewers"));
    app.classList.toggle("hide-viewers", !open);
    app.classList.toggle("show-viewers", open);
    this.$("watching").setAttribute("aria-expanded", String(open));
  }

  showBanner(text) {
    const banner = this.$("banner");
    banner.textContent = text;
    banner.hidden = !text;
  }

  showSocketId(socketId) {
    this.doc.body.dataset.socketId = socketId;
  }

  setStatus(status) {
    this.doc.body.dataset.status = status;
    this.$("status").textContent = STATUS_LABELS[status] || status;
  }
}
