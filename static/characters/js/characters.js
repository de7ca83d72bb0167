// Character, lorebook and persona pages: confirmations, greeting lists, live token
// counts, avatar preview and the import drop zone. No framework, no inline code (CSP).
(function () {
  "use strict";

  const TOKEN_DEBOUNCE_MS = 300;
  const TOKEN_BATCH = 100; // the endpoint counts at most this many texts per request

  // ------------------------------------------------------------ small things

  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  document.querySelectorAll("[data-autosubmit]").forEach((control) => {
    control.addEventListener("change", () => {
      if (control.form) control.form.requestSubmit();
    });
  });

  // An open export menu closes when the user clicks elsewhere or presses Escape.
  document.addEventListener("click", (event) => {
    document.querySelectorAll("details.menu[open]").forEach((menu) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach((menu) => menu.removeAttribute("open"));
  });

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // ------------------------------------------------------------ token counts

  const tokens = (function () {
    const form = document.querySelector("[data-token-url]");
    if (!form) return { attach() {}, forget() {} };
    const url = form.getAttribute("data-token-url");
    const total = document.querySelector("[data-token-total]");
    const fields = new Map(); // key -> {element, output, count}
    const pending = new Set();
    let nextKey = 0;
    let timer = null;

    function label(count) {
      return count === 1 ? "1 token" : `${count.toLocaleString()} tokens`;
    }

    function renderTotal() {
      if (!total) return;
      let sum = 0;
      fields.forEach((field) => { sum += field.count || 0; });
      total.textContent = `${label(sum)} in all`;
    }

    async function send(keys) {
      const texts = {};
      keys.forEach((key) => { texts[key] = fields.get(key).element.value; });
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ texts }),
      });
      if (!response.ok) return;
      const data = await response.json();
      keys.forEach((key) => {
        const field = fields.get(key);
        if (!field || typeof data.counts[key] !== "number") return;
        field.count = data.counts[key];
        field.output.textContent = label(field.count);
      });
    }

    async function flush() {
      const keys = Array.from(pending).filter((key) => fields.has(key));
      pending.clear();
      try {
        for (let start = 0; start < keys.length; start += TOKEN_BATCH) {
          await send(keys.slice(start, start + TOKEN_BATCH));
        }
      } catch (error) {
        // Counting is a hint: when offline, leave the last counts in place.
      }
      renderTotal();
    }

    function schedule(key) {
      pending.add(key);
      window.clearTimeout(timer);
      timer = window.setTimeout(flush, TOKEN_DEBOUNCE_MS);
    }

    function attach(element) {
      if (element.dataset.tokenKey) return;
      const key = `t${nextKey++}`;
      element.dataset.tokenKey = key;
      const output = document.createElement("small");
      output.className = "help tokens";
      element.insertAdjacentElement("afterend", output);
      fields.set(key, { element, output, count: 0 });
      element.addEventListener("input", () => schedule(key));
      schedule(key);
    }

    function forget(element) {
      fields.delete(element.dataset.tokenKey);
      renderTotal();
    }

    document.querySelectorAll("[data-token-count]").forEach(attach);
    return { attach, forget };
  })();

  // ------------------------------------------------------------ greeting lists

  document.querySelectorAll("[data-text-list]").forEach((list) => {
    const items = list.querySelector("[data-text-list-items]");
    const template = list.querySelector("template[data-text-list-template]");
    const add = list.querySelector("[data-text-list-add]");
    list.addEventListener("click", (event) => {
      const remove = event.target.closest("[data-text-list-remove]");
      if (!remove) return;
      const item = remove.closest(".text-list__item");
      const textarea = item.querySelector("textarea");
      if (textarea.value.trim() && !window.confirm("Remove this greeting?")) return;
      tokens.forget(textarea);
      item.remove();
      add.focus();
    });
    add.addEventListener("click", () => {
      const fragment = template.content.cloneNode(true);
      const textarea = fragment.querySelector("textarea");
      items.appendChild(fragment);
      tokens.attach(textarea);
      textarea.focus();
    });
  });

  // ------------------------------------------------------------ avatar preview

  document.querySelectorAll(".char-form input[type=file][name=avatar]").forEach((input) => {
    const frame = document.querySelector(".char-form__portrait");
    if (!frame) return;
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      if (!file || !file.type.startsWith("image/")) return;
      const image = document.createElement("img");
      image.alt = "New portrait (not saved yet)";
      image.src = URL.createObjectURL(file);
      frame.replaceChildren(image);
    });
  });

  // ------------------------------------------------------------ import drop zone

  document.querySelectorAll("[data-dropzone]").forEach((zone) => {
    const input = zone.querySelector("input[type=file]");
    const list = zone.querySelector("[data-dropzone-files]");
    if (!input || !list) return;

    function showFiles() {
      list.replaceChildren(
        ...Array.from(input.files).map((file) => {
          const item = document.createElement("li");
          item.textContent = `${file.name} · ${Math.max(1, Math.round(file.size / 1024))} KB`;
          return item;
        })
      );
    }

    input.addEventListener("change", showFiles);
    ["dragenter", "dragover"].forEach((type) => {
      zone.addEventListener(type, (event) => {
        event.preventDefault();
        zone.classList.add("is-over");
      });
    });
    ["dragleave", "drop"].forEach((type) => {
      zone.addEventListener(type, (event) => {
        event.preventDefault();
        zone.classList.remove("is-over");
      });
    });
    zone.addEventListener("drop", (event) => {
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        showFiles();
      }
    });
  });
})();
