// One WebSocket for the tab, as a ChurchApps SocketHelper does it: `getId` handshake,
// handlers by action, and reconnection with capped exponential backoff and full jitter
// (after a server restart a thousand tabs must not come back in lock-step).

const ID_TIMEOUT_MS = 5000;
const PROBE_AFTER_MS = 25000;
const PROBE_TIMEOUT_MS = 3000;
const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;

export function backoffDelay(attempt, random = Math.random) {
  return random() * Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
}

export class LiveSocket {
  constructor(url) {
    this.url = url;
    this.socketId = "";
    this.state = "idle"; // idle | connecting | open | waiting | stopped
    this.attempt = 0;
    this.handlers = new Map();
    this.idListeners = [];
    this.stateListeners = [];
    this.ws = null;
    this.timers = {};
    this.hadId = false;
    this.lastFrameAt = 0;
    window.addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.probe();
    });
  }

  /** Calls fn(data, frame) for every frame of `action`; returns an unsubscribe function. */
  on(action, fn) {
    if (!this.handlers.has(action)) this.handlers.set(action, new Set());
    this.handlers.get(action).add(fn);
    return () => this.handlers.get(action).delete(fn);
  }

  /** fn(socketId, isReconnect) whenever a (new) socketId is known. */
  onSocketId(fn) { this.idListeners.push(fn); }
  onState(fn) { this.stateListeners.push(fn); }

  start() {
    if (this.state === "idle" || this.state === "stopped") this.open();
  }

  stop() {
    this.setState("stopped");
    this.clearTimers();
    if (this.ws) this.ws.close(1000, "page closed");
  }

  open() {
    this.clearTimers();
    this.setState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.send("getId");
      this.timers.id = setTimeout(() => this.drop(ws), ID_TIMEOUT_MS);
    };
    ws.onmessage = (event) => this.receive(ws, event.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.state !== "stopped") this.scheduleReconnect();
    };
  }

  send(text) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  receive(ws, raw) {
    if (ws !== this.ws) return;
    this.lastFrameAt = Date.now();
    clearTimeout(this.timers.probeTimeout); // any frame proves the socket is alive
    this.armProbe();
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if (frame.action === "socketId") {
      clearTimeout(this.timers.id);
      this.adoptId(String(frame.data));
      return;
    }
    for (const fn of this.handlers.get(frame.action) || []) {
      try {
        fn(frame.data, frame);
      } catch (error) {
        console.error("handler for", frame.action, "failed", error);
      }
    }
  }

  adoptId(id) {
    if (id === this.socketId && this.state === "open") return; // a probe answer
    const isReconnect = this.hadId;
    this.socketId = id;
    this.hadId = true;
    this.attempt = 0;
    this.setState("open");
    for (const fn of this.idListeners) fn(id, isReconnect);
  }

  drop(ws) {
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(4000, "not answering");
    if (ws === this.ws) {
      this.ws = null;
      this.scheduleReconnect();
    }
  }

  scheduleReconnect() {
    if (this.state === "stopped" || this.state === "waiting") return;
    this.clearTimers();
    this.setState("waiting");
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.timers.retry = setTimeout(() => this.open(), delay);
  }

  reconnectNow() {
    if (this.state !== "waiting") return;
    this.attempt = 0;
    this.open();
  }

  /** A quiet socket may be half-open (a laptop lid closed): ask for the id again. */
  armProbe() {
    clearTimeout(this.timers.probe);
    this.timers.probe = setTimeout(() => this.probe(), PROBE_AFTER_MS);
  }

  probe() {
    const ws = this.ws;
    if (this.state !== "open" || !ws) return;
    this.send("getId");
    clearTimeout(this.timers.probeTimeout);
    this.timers.probeTimeout = setTimeout(() => this.drop(ws), PROBE_TIMEOUT_MS);
  }

  clearTimers() {
    for (const timer of Object.values(this.timers)) clearTimeout(timer);
    this.timers = {};
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    for (const fn of this.stateListeners) fn(state);
  }
}

/** ws(s)://<the host the page came from>:<socket port>/, or the page's own origin. */
export function socketUrl(config, location) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  if (!config || config.sameOrigin || !config.socketPort) return `${scheme}//${location.host}/`;
  return `${scheme}//${location.hostname}:${config.socketPort}/`;
}
