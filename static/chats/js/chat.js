// The chat page: one socket to ws/chats/<id>/, replies streamed as they are written,
// the message tools (swipe, regenerate, continue, edit, delete, hide, branch) and the
// settings panel. No framework, no inline code (CSP).
//
// User text reaches the page only through textContent, or as HTML that the server
// rendered and sanitised (the message fragment views); nothing typed by a user or a
// model is ever parsed as markup here.
(function () {
  "use strict";

  const root = document.getElementById("chat");
  if (!root) return;

  const RECONNECT_MIN_MS = 500;
  const RECONNECT_MAX_MS = 15000;
  const TYPING_SEND_EVERY_MS = 3000;
  const TYPING_SHOW_MS = 4000;
  const RESYNC_EVERY_MS = 1000;
  const NEAR_BOTTOM_PX = 160;

  const $ = (selector, scope) => (scope || root).querySelector(selector);
  const log = $("[data-log]");
  const list = $("[data-messages]");
  const emptyNote = $("[data-empty]");
  const olderBox = $("[data-older]");
  const statusEl = $("[data-status]");
  const errorBox = $("[data-error]");
  const typingEl = $("[data-typing]");
  const composer = $("[data-composer]");
  const input = $("[data-composer-text]");
  const sendButton = $("[data-send]");
  const stopButton = $("[data-stop]");
  const liveTemplate = document.querySelector("template[data-live-template]");
  const encoder = new TextEncoder();

  // ------------------------------------------------------------ small helpers

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  async function api(url, options) {
    const { method = "GET", body } = options || {};
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
    const response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    if (!response.ok) {
      const message = data && data.error ? data.error.message : `The request failed (${response.status}).`;
      throw new Error(message);
    }
    return data;
  }

  // Only for HTML the server rendered and sanitised (the fragment views).
  function serverFragment(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function bytes(text) {
    return encoder.encode(text).length;
  }

  function codePoints(text) {
    return Array.from(text).length;
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
  }

  function chatUrl(id) {
    return root.dataset.chatUrl.replace(/\/0\/$/, `/${id}/`);
  }

  function fragmentUrl(id) {
    return root.dataset.fragmentUrl.replace(/\/0\/fragment\/$/, `/${id}/fragment/`);
  }

  function setStatus(text, state) {
    statusEl.textContent = text;
    statusEl.classList.toggle("is-ok", state === "ok");
    statusEl.classList.toggle("is-bad", state === "bad");
  }

  function showError(message) {
    $("[data-error-text]", errorBox).textContent = message;
    errorBox.hidden = false;
  }

  function hideError() {
    errorBox.hidden = true;
  }

  $("[data-error-close]", errorBox).addEventListener("click", hideError);

  // ------------------------------------------------------------ messages on the page

  function messageEl(id) {
    return document.getElementById(`message-${id}`);
  }

  function storedMessages() {
    return Array.from(list.querySelectorAll(".msg[data-message-id]"));
  }

  function lastPosition() {
    return storedMessages().reduce((most, el) => Math.max(most, Number(el.dataset.position) || 0), 0);
  }

  function firstPosition() {
    const first = storedMessages()[0];
    return first ? Number(first.dataset.position) : 0;
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
  }

  // A reader at the newest message stays there when the view changes size (a phone
  // keyboard opening, the window resized, the composer growing).
  let pinned = true;
  log.addEventListener("scroll", () => { pinned = nearBottom(); }, { passive: true });
  if ("ResizeObserver" in window) {
    new ResizeObserver(() => {
      if (pinned) log.scrollTop = log.scrollHeight;
    }).observe(log);
  }

  // Change the list, keeping the view pinned to the newest message if it was there.
  function changeList(change) {
    const wasPinned = nearBottom();
    change();
    emptyNote.hidden = list.children.length > 0;
    if (wasPinned) log.scrollTop = log.scrollHeight;
  }

  function insertInOrder(el) {
    const position = Number(el.dataset.position);
    const after = storedMessages().find((other) => Number(other.dataset.position) > position);
    if (after) {
      list.insertBefore(el, after);
      return;
    }
    // New messages go above the bubbles still waiting for the server (sending, writing).
    const waiting = list.querySelector(".msg--pending, .msg--live");
    list.insertBefore(el, waiting);
  }

  // Put a server-rendered message in place: over its old self, over the bubble that
  // stood for it (a message being sent, a reply being written), or in position order.
  function placeMessage(el) {
    const id = el.dataset.messageId;
    const clientId = el.dataset.clientId;
    let existing = messageEl(id) || list.querySelector(`[data-awaiting="${id}"]`);
    if (!existing && clientId) {
      existing = Array.from(list.querySelectorAll(".msg--pending")).find(
        (pending) => pending.dataset.pendingId === clientId,
      );
    }
    if (existing && existing.querySelector(".msg__editor") && !existing.dataset.saving) {
      existing.dataset.stale = "1"; // someone else changed it; shown once the editor closes
      return;
    }
    if (!existing && !olderBox.hidden && Number(el.dataset.position) < firstPosition()) return; // not loaded yet
    changeList(() => {
      if (existing) existing.replaceWith(el);
      else insertInOrder(el);
    });
  }

  const versions = new Map(); // message id -> the latest refresh asked for; older answers are dropped

  async function refreshMessage(id) {
    const version = (versions.get(id) || 0) + 1;
    versions.set(id, version);
    let response;
    try {
      response = await fetch(fragmentUrl(id), { credentials: "same-origin" });
    } catch (error) {
      return;
    }
    if (versions.get(id) !== version) return;
    if (response.status === 404) {
      removeMessage(id);
      return;
    }
    if (!response.ok) return;
    const html = await response.text();
    if (versions.get(id) !== version) return;
    const el = serverFragment(html).querySelector(".msg");
    if (el) placeMessage(el);
  }

  function removeMessage(id) {
    const el = messageEl(id);
    if (el) changeList(() => el.remove());
  }

  async function loadHistory(query) {
    const response = await fetch(`${root.dataset.historyUrl}?${query}`, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`Loading messages failed (${response.status}).`);
    return serverFragment(await response.text()).querySelector("[data-history]");
  }

  async function catchUp(after) {
    try {
      const history = await loadHistory(`after=${after}`);
      history.querySelectorAll(".msg").forEach((el) => placeMessage(el));
    } catch (error) {
      showError(error.message);
    }
  }

  let loadingOlder = false;

  async function loadOlder() {
    const first = firstPosition();
    if (loadingOlder || !first || olderBox.hidden) return;
    loadingOlder = true;
    try {
      const history = await loadHistory(`before=${first}`);
      const height = log.scrollHeight;
      const top = log.scrollTop;
      const anchor = list.firstElementChild;
      history.querySelectorAll(".msg").forEach((el) => {
        if (!messageEl(el.dataset.messageId)) list.insertBefore(el, anchor);
      });
      log.scrollTop = top + (log.scrollHeight - height); // keep what the reader was looking at
      olderBox.hidden = history.dataset.hasOlder !== "1";
    } catch (error) {
      showError(error.message);
    } finally {
      loadingOlder = false;
    }
  }

  $("[data-load-older]").addEventListener("click", loadOlder);
  if ("IntersectionObserver" in window) {
    new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) loadOlder();
    }, { root: log, rootMargin: "200px 0px 0px 0px" }).observe(olderBox);
  }

  // ------------------------------------------------------------ the reply being written

  let live = null; // {id, mode, targetId, el, textEl, text, size}
  let lastResync = 0;

  function setGenerating(on) {
    stopButton.hidden = !on;
    sendButton.hidden = on;
    root.classList.toggle("is-generating", on);
  }

  function avatarFor(characterId) {
    const template = document.querySelector(`template[data-avatar="${characterId}"]`);
    return template ? template.content.firstElementChild.cloneNode(true) : null;
  }

  function startLive(event, text) {
    if (live && live.id === event.generation_id) return;
    if (live) dropLive();
    const character = event.character || {};
    live = { id: event.generation_id, mode: event.mode, targetId: event.target_message_id, text: "", size: 0 };
    const target = live.targetId ? messageEl(live.targetId) : null;
    if (event.mode === "send" || !target) {
      const bubble = liveTemplate.content.firstElementChild.cloneNode(true);
      $("[data-live-name]", bubble).textContent = character.name || "…";
      if (!$("[data-offline-banner]").hidden) {
        const state = $("[data-live-state]", bubble);
        state.textContent = "offline demo · writing…";
        state.classList.add("badge--demo");
      }
      const avatar = avatarFor(character.id);
      const slot = $("[data-live-avatar]", bubble);
      if (avatar) {
        avatar.classList.add("msg__avatar");
        slot.replaceWith(avatar);
      } else {
        slot.textContent = (character.name || "?").slice(0, 1).toUpperCase();
      }
      live.el = bubble;
      live.textEl = $("[data-live-text]", bubble);
      if (event.mode === "send") changeList(() => list.appendChild(bubble));
    } else {
      // Regenerate writes over the shown reply; continue writes after it.
      const content = $(".msg__content", target);
      target.classList.add("msg--live");
      live.el = target;
      if (event.mode === "regenerate") {
        content.hidden = true;
        live.textEl = document.createElement("div");
        live.textEl.className = "msg__content msg__content--plain";
        content.after(live.textEl);
        const label = $("[data-swipe-label]", target);
        if (label) label.textContent = "…";
      } else {
        live.textEl = document.createElement("span");
        live.textEl.className = "msg__live-tail";
        content.appendChild(live.textEl);
      }
    }
    setGenerating(true);
    if (text) setLiveText(text);
  }

  function setLiveText(text) {
    changeList(() => {
      live.text = text;
      live.size = bytes(text);
      live.textEl.textContent = text;
    });
  }

  function appendLive(text) {
    changeList(() => {
      live.text += text;
      live.size += bytes(text);
      live.textEl.append(text);
    });
  }

  // Tokens carry `offset`, where they start in the live text (the server counts UTF-8
  // bytes: Redis APPEND). One already in the text (from a snapshot) is skipped; one
  // past its end means some were missed, so the live text is fetched again.
  function onToken(event) {
    if (!live || event.generation_id !== live.id) {
      resync();
      return;
    }
    const text = event.text || "";
    if (typeof event.offset === "number") {
      if (event.offset < live.size) return; // already shown
      // (the slack tolerates servers that count the token in characters, not bytes)
      if (event.offset > live.size + bytes(text) - codePoints(text)) resync();
    }
    appendLive(text);
  }

  function finishLive(message) {
    const finished = live;
    live = null;
    setGenerating(false);
    if (!finished) return;
    const label = finished.el && $("[data-live-state]", finished.el);
    if (label) label.textContent = "saving…";
    if (finished.el) finished.el.removeAttribute("aria-busy");
    if (message && finished.el && finished.el.classList.contains("msg--live") && !finished.el.dataset.messageId) {
      finished.el.dataset.awaiting = String(message.id); // replaced by the stored message
    }
    if (message) refreshMessage(message.id);
    else if (finished.el && !finished.el.dataset.messageId) changeList(() => finished.el.remove());
  }

  function dropLive() {
    const dropped = live;
    live = null;
    setGenerating(false);
    if (!dropped || !dropped.el) return;
    if (dropped.el.dataset.messageId) {
      refreshMessage(dropped.el.dataset.messageId); // the target as stored
    } else {
      changeList(() => dropped.el.remove());
    }
  }

  // ------------------------------------------------------------ messages being sent

  const pending = new Map(); // client id -> {text, el, sent}

  function pendingBubble(clientId, text) {
    const el = document.createElement("article");
    el.className = "msg msg--user msg--pending";
    el.dataset.pendingId = clientId;
    const avatar = document.createElement("span");
    avatar.className = "char-avatar char-avatar--sm msg__avatar";
    avatar.setAttribute("aria-hidden", "true");
    avatar.textContent = "…";
    const body = document.createElement("div");
    body.className = "msg__body";
    const head = document.createElement("header");
    head.className = "msg__head";
    const name = document.createElement("strong");
    name.className = "msg__name";
    name.textContent = "You";
    const state = document.createElement("span");
    state.className = "badge";
    state.dataset.pendingState = "";
    state.textContent = "sending…";
    head.append(name, " ", state);
    const content = document.createElement("div");
    content.className = "msg__content msg__content--plain";
    content.textContent = text;
    body.append(head, content);
    el.append(avatar, body);
    return el;
  }

  function sendMessage(text) {
    const clientId = newClientId();
    const el = pendingBubble(clientId, text);
    pending.set(clientId, { text, el, sent: false });
    changeList(() => list.appendChild(el));
    log.scrollTop = log.scrollHeight;
    flushPending();
  }

  function flushPending() {
    if (!socketOpen()) return;
    pending.forEach((item, clientId) => {
      if (item.sent || item.failed) return;
      item.sent = true;
      sendEvent({ type: "send", content: item.text, client_id: clientId });
    });
  }

  function failOldestPending(message) {
    for (const [clientId, item] of pending) {
      if (!item.sent || item.failed) continue;
      item.failed = true;
      item.el.classList.add("msg--failed");
      const state = $("[data-pending-state]", item.el);
      state.textContent = "not sent";
      state.classList.add("badge--warn");
      state.title = message;
      const retry = document.createElement("button");
      retry.type = "button";
      retry.className = "btn btn--ghost btn--sm";
      retry.textContent = "Try again";
      retry.addEventListener("click", () => {
        pending.delete(clientId);
        item.el.remove();
        sendMessage(item.text);
      });
      $(".msg__body", item.el).append(retry);
      return;
    }
  }

  // ------------------------------------------------------------ the socket

  let socket = null;
  let attempts = 0;
  let reconnectTimer = null;
  let gaveUp = false;

  function socketOpen() {
    return socket !== null && socket.readyState === WebSocket.OPEN;
  }

  function sendEvent(event) {
    if (!socketOpen()) {
      showError("Not connected right now — reconnecting. Try again in a moment.");
      return false;
    }
    socket.send(JSON.stringify(event));
    return true;
  }

  function resync() {
    const now = Date.now();
    if (now - lastResync < RESYNC_EVERY_MS || !socketOpen()) return;
    lastResync = now;
    sendEvent({ type: "resume", last_position: lastPosition() });
  }

  function connect() {
    reconnectTimer = null;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}${root.dataset.socketPath}`);
    setStatus(attempts ? "Reconnecting…" : "Connecting…");
    socket.addEventListener("open", () => {
      attempts = 0;
      setStatus("Live", "ok");
      lastResync = Date.now();
      socket.send(JSON.stringify({ type: "resume", last_position: lastPosition() }));
      pending.forEach((item) => { item.sent = false; }); // the server ignores a client id it has seen
      flushPending();
    });
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      handle(event);
    });
    socket.addEventListener("close", (closed) => {
      socket = null;
      if (closed.code === 4401 || closed.code === 4404) {
        gaveUp = true;
        setStatus("Disconnected", "bad");
        showError(
          closed.code === 4401
            ? "You are signed out. Log in again to go on chatting."
            : "This chat is not available any more.",
        );
        return;
      }
      const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempts) * (0.75 + Math.random() * 0.5);
      attempts += 1;
      setStatus(`Offline — retrying in ${Math.ceil(delay / 1000)} s`, "bad");
      reconnectTimer = window.setTimeout(connect, delay);
    });
  }

  function reconnectNow() {
    if (gaveUp || socket !== null || reconnectTimer === null) return;
    window.clearTimeout(reconnectTimer);
    connect();
  }

  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") reconnectNow();
  });

  // ------------------------------------------------------------ server events

  let typingHideTimer = null;
  let lastTypingSent = 0;

  const handlers = {
    ack(event) {
      const item = pending.get(event.client_id);
      if (item) {
        const state = $("[data-pending-state]", item.el);
        if (state) state.textContent = "sent";
        pending.delete(event.client_id);
      }
      hideError();
      if (event.message) refreshMessage(event.message.id);
    },
    message_created(event) {
      refreshMessage(event.message.id);
    },
    generation_started(event) {
      startLive(event, "");
    },
    token: onToken,
    done(event) {
      if (live && event.generation_id === live.id) finishLive(event.message);
      else if (event.message) refreshMessage(event.message.id);
      const record = event.record || {};
      if (record.error) showError(`The reply broke off: ${record.error}`);
    },
    error(event) {
      if (event.generation_id && live && event.generation_id === live.id) dropLive();
      else if (!event.generation_id && pending.size) failOldestPending(event.message);
      showError(event.message || "Something went wrong.");
    },
    message_updated(event) {
      refreshMessage(event.message.id);
    },
    message_deleted(event) {
      removeMessage(event.message_id);
    },
    typing() {
      if (Date.now() - lastTypingSent < TYPING_SEND_EVERY_MS + 500) return; // our own, echoed
      typingEl.textContent = "Typing on another device…";
      typingEl.hidden = false;
      window.clearTimeout(typingHideTimer);
      typingHideTimer = window.setTimeout(() => { typingEl.hidden = true; }, TYPING_SHOW_MS);
    },
    snapshot(event) {
      const after = lastPosition();
      if ((event.messages || []).length) catchUp(after);
      const state = event.live;
      if (state && state.generation_id) {
        if (live && live.id === state.generation_id) {
          if (bytes(state.text || "") >= live.size) setLiveText(state.text || "");
        } else {
          startLive(state, state.text || "");
        }
      } else if (live) {
        // It ended while we were away: the stored result is in the catch-up or the target.
        const ended = live;
        live = null;
        setGenerating(false);
        if (ended.el && ended.el.dataset.messageId) refreshMessage(ended.el.dataset.messageId);
        else if (ended.el) changeList(() => ended.el.remove());
      }
    },
  };

  function handle(event) {
    const handler = handlers[event.type];
    if (handler) handler(event);
  }

  // ------------------------------------------------------------ the composer

  function autosize() {
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight + 2}px`;
  }

  const coarse = window.matchMedia("(pointer: coarse)");

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    if (live) return;
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    autosize();
    sendMessage(text);
  });
  input.addEventListener("keydown", (event) => {
    // Enter sends on a keyboard; on touch screens it is a new line (the button sends).
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || coarse.matches) return;
    event.preventDefault();
    composer.requestSubmit();
  });
  input.addEventListener("input", () => {
    autosize();
    const now = Date.now();
    if (now - lastTypingSent > TYPING_SEND_EVERY_MS && socketOpen()) {
      lastTypingSent = now;
      socket.send(JSON.stringify({ type: "typing" }));
    }
  });
  stopButton.addEventListener("click", async () => {
    if (socketOpen()) {
      sendEvent({ type: "stop" });
      return;
    }
    try {
      await api(`${root.dataset.apiUrl}stop/`, { method: "POST" });
    } catch (error) {
      showError(error.message);
    }
  });

  // ------------------------------------------------------------ message tools

  function openEditor(el) {
    if ($(".msg__editor", el)) return;
    const raw = $("template[data-raw]", el).content.textContent;
    const content = $(".msg__content", el);
    const editor = document.createElement("form");
    editor.className = "msg__editor";
    const area = document.createElement("textarea");
    area.value = raw;
    area.rows = Math.min(16, Math.max(3, raw.split("\n").length + 1));
    area.setAttribute("aria-label", "Edit the message");
    const buttons = document.createElement("div");
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "btn btn--primary btn--sm";
    save.textContent = "Save";
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "btn btn--ghost btn--sm";
    cancel.textContent = "Cancel";
    buttons.append(save, cancel);
    editor.append(area, buttons);
    content.hidden = true;
    content.after(editor);
    area.focus();

    function close() {
      editor.remove();
      content.hidden = false;
      delete el.dataset.saving;
      if (el.dataset.stale) refreshMessage(el.dataset.messageId);
    }
    cancel.addEventListener("click", close);
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
    });
    editor.addEventListener("submit", (event) => {
      event.preventDefault();
      if (sendEvent({ type: "edit", message_id: Number(el.dataset.messageId), content: area.value })) {
        el.dataset.saving = "1"; // the server's message_updated replaces the editor
        save.disabled = true;
        save.textContent = "Saving…";
      }
    });
  }

  async function branchFrom(messageId) {
    try {
      const chat = await api(root.dataset.branchUrl, { method: "POST", body: { message_id: messageId } });
      window.location.assign(chatUrl(chat.id));
    } catch (error) {
      showError(error.message);
    }
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (!button || !list.contains(button)) return;
    const el = button.closest(".msg[data-message-id]");
    if (!el) return;
    const menu = button.closest("details");
    if (menu) menu.removeAttribute("open");
    const id = Number(el.dataset.messageId);
    const action = button.dataset.action;
    const busy = live !== null;
    if (busy && ["swipe-left", "swipe-right", "regenerate", "continue"].includes(action)) {
      showError("A reply is being written; wait for it or press Stop.");
      return;
    }
    if (action === "swipe-left" || action === "swipe-right") {
      sendEvent({ type: "swipe", message_id: id, direction: action === "swipe-left" ? "left" : "right" });
    } else if (action === "regenerate" || action === "continue") {
      sendEvent({ type: action, message_id: id });
    } else if (action === "edit") {
      openEditor(el);
    } else if (action === "hide") {
      sendEvent({ type: "hide", message_id: id, hidden: el.dataset.hidden !== "1" });
    } else if (action === "delete") {
      if (window.confirm("Delete this message (and all its swipes)?")) sendEvent({ type: "delete", message_id: id });
    } else if (action === "branch") {
      branchFrom(id);
    }
  });

  document.addEventListener("click", (event) => {
    list.querySelectorAll("details.msg__menu[open]").forEach((menu) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // ------------------------------------------------------------ the settings panel

  const panel = document.getElementById("chat-panel");
  const panelToggle = $("[data-panel-toggle]");
  const backdrop = $(".chat__backdrop");
  const wide = window.matchMedia("(min-width: 1001px)");
  const PANEL_KEY = "tavern.chat.panel";

  function panelOpen() {
    return wide.matches ? !root.classList.contains("is-panel-closed") : root.classList.contains("is-panel-open");
  }

  function setPanel(open, remember) {
    if (wide.matches) {
      root.classList.remove("is-panel-open");
      root.classList.toggle("is-panel-closed", !open);
      if (remember) {
        try {
          window.localStorage.setItem(PANEL_KEY, open ? "open" : "closed");
        } catch (error) {
          // private mode: not remembered
        }
      }
    } else {
      root.classList.remove("is-panel-closed");
      root.classList.toggle("is-panel-open", open);
      backdrop.hidden = !open;
      if (open) panel.focus({ preventScroll: true });
    }
    panelToggle.setAttribute("aria-expanded", String(open));
  }

  function initialPanel() {
    let stored = null;
    try {
      stored = window.localStorage.getItem(PANEL_KEY);
    } catch (error) {
      stored = null;
    }
    setPanel(wide.matches && stored !== "closed", false);
  }

  panel.tabIndex = -1;
  panelToggle.addEventListener("click", () => setPanel(!panelOpen(), true));
  root.querySelectorAll("[data-panel-close]").forEach((closer) => {
    closer.addEventListener("click", () => setPanel(false, true));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !wide.matches && panelOpen()) setPanel(false, false);
  });
  wide.addEventListener("change", initialPanel);
  initialPanel();

  const savedNote = $("[data-saved]");
  let savedTimer = null;

  function saved(text) {
    savedNote.textContent = text;
    window.clearTimeout(savedTimer);
    if (text === "Saved") savedTimer = window.setTimeout(() => { savedNote.textContent = ""; }, 2500);
  }

  async function saveSettings(data) {
    saved("Saving…");
    try {
      const chat = await api(root.dataset.apiUrl, { method: "PATCH", body: data });
      saved("Saved");
      applyChat(chat);
    } catch (error) {
      saved("");
      showError(error.message);
    }
  }

  function applyChat(chat) {
    $("[data-offline-banner]").hidden = Boolean(chat.connection);
    const connectionSelect = $("[data-setting=connection_id]");
    const option = connectionSelect.selectedOptions[0];
    $("[data-connection-name]").textContent =
      chat.connection && option ? option.textContent.split(" · ")[0] : "Offline demo";
    $("[data-chat-title]").textContent = chat.title;
    document.title = document.title.replace(/^.*( · Tavern)$/, `${chat.title}$1`);
  }

  root.querySelectorAll("[data-setting]").forEach((control) => {
    control.addEventListener("change", () => {
      const name = control.dataset.setting;
      let value = control.value;
      if (name.endsWith("_id")) value = value === "" ? null : Number(value);
      if (name === "title") {
        value = value.trim();
        if (!value) return;
      }
      saveSettings({ [name]: value });
    });
  });

  const noteForm = $("[data-note-form]");
  noteForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(noteForm);
    saveSettings({
      author_note: form.get("author_note"),
      author_note_depth: Number(form.get("author_note_depth") || 0),
      author_note_frequency: Number(form.get("author_note_frequency") || 0),
    });
  });

  const books = $("[data-lorebooks]");
  if (books) {
    books.addEventListener("change", () => {
      const ids = Array.from(books.querySelectorAll("input:checked")).map((box) => Number(box.value));
      saveSettings({ lorebook_ids: ids });
    });
  }

  const participantsUrl = root.dataset.participantsUrl;
  root.querySelectorAll("[data-participant]").forEach((row) => {
    const characterId = Number(row.dataset.participant);
    row.addEventListener("click", async (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      try {
        if (button.hasAttribute("data-trigger")) {
          if (live) {
            showError("A reply is being written; wait for it or press Stop.");
            return;
          }
          sendEvent({ type: "trigger", character_id: characterId });
          if (!wide.matches) setPanel(false, false);
        } else if (button.hasAttribute("data-mute")) {
          await api(`${participantsUrl}${characterId}/`, {
            method: "PATCH",
            body: { is_muted: button.dataset.mute === "1" },
          });
          window.location.reload();
        } else if (button.hasAttribute("data-leave")) {
          if (!window.confirm("Remove this character from the chat? Their messages stay.")) return;
          await api(`${participantsUrl}${characterId}/`, { method: "DELETE" });
          window.location.reload();
        }
      } catch (error) {
        showError(error.message);
      }
    });
  });

  const addForm = $("[data-add-participant]");
  if (addForm) {
    addForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api(participantsUrl, {
          method: "POST",
          body: { character_id: Number(new FormData(addForm).get("character_id")) },
        });
        window.location.reload();
      } catch (error) {
        showError(error.message);
      }
    });
  }

  // ------------------------------------------------------------ the prompt inspector

  const inspector = document.querySelector("[data-inspector]");

  function element(tag, text, className) {
    const el = document.createElement(tag);
    if (text !== undefined && text !== null) el.textContent = String(text);
    if (className) el.className = className;
    return el;
  }

  function renderPreview(data) {
    const summary = $("[data-inspector-summary]", inspector);
    const body = $("[data-inspector-body]", inspector);
    body.replaceChildren();
    const report = data.report;
    if (!data.speaker || !report) {
      summary.textContent = "Nobody would reply now (a manual group chat waits for you to pick a speaker).";
      return;
    }
    summary.textContent =
      `Next reply: ${data.speaker.name} through ${data.connection}. ` +
      `${report.used.toLocaleString()} of ${report.budget.toLocaleString()} prompt tokens used; ` +
      `${report.history_included} history message${report.history_included === 1 ? "" : "s"} included, ` +
      `${report.history_left_out} left out.`;

    body.append(element("h3", "Sections"));
    const wrap = element("div", null, "table-wrap");
    const table = element("table", null, "table");
    const head = element("tr");
    ["Section", "Tokens", "Included", "Why"].forEach((title, index) => {
      head.append(element("th", title, index === 1 ? "num" : ""));
    });
    table.append(element("thead"));
    table.tHead.append(head);
    const rows = element("tbody");
    (report.sections || []).forEach((section) => {
      const row = element("tr", null, section.included ? "" : "is-cut");
      row.append(
        element("td", section.name),
        element("td", section.tokens, "num"),
        element("td", section.included ? "yes" : "cut"),
        element("td", section.reason || ""),
      );
      rows.append(row);
    });
    table.append(rows);
    wrap.append(table);
    body.append(wrap);

    if ((report.lore_included || []).length) {
      body.append(element("h3", "Lorebook entries"), element("p", report.lore_included.join(", ")));
    }
    if (report.memories_included) {
      body.append(element("p", `${report.memories_included} long-term memories recalled.`, "muted"));
    }
    body.append(element("h3", `Messages sent (${data.messages.length})`));
    data.messages.forEach((message, index) => {
      const item = element("details", null, "inspector__message");
      const label = `${index + 1}. ${message.role}${message.name ? ` (${message.name})` : ""} — ${message.content.length.toLocaleString()} characters`;
      item.append(element("summary", label), element("pre", message.content));
      body.append(item);
    });
  }

  $("[data-inspect]").addEventListener("click", async () => {
    $("[data-inspector-summary]", inspector).textContent = "Building the prompt…";
    $("[data-inspector-body]", inspector).replaceChildren();
    if (typeof inspector.showModal === "function") inspector.showModal();
    else inspector.setAttribute("open", "");
    try {
      renderPreview(await api(root.dataset.previewUrl));
    } catch (error) {
      $("[data-inspector-summary]", inspector).textContent = error.message;
    }
  });
  $("[data-inspector-close]", inspector).addEventListener("click", () => inspector.close());

  // ------------------------------------------------------------ start

  log.scrollTop = log.scrollHeight;
  autosize();
  connect();
})();
