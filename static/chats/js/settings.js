// Connection settings: the "Test connection" buttons call the REST test endpoint and
// show its answer. No framework, no inline code (CSP).
(function () {
  "use strict";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function show(output, ok, text) {
    const mark = document.createElement("span");
    mark.className = ok ? "ok" : "form-error";
    mark.textContent = ok ? "✓ worked" : "✗ failed";
    const detail = document.createElement("span");
    detail.className = "muted";
    detail.textContent = ` ${text}`;
    output.replaceChildren(mark, detail);
  }

  document.querySelectorAll("[data-test-url]").forEach((button) => {
    const scope = button.closest(".row, .connection-test-box") || document;
    const output = scope.querySelector("[data-test-result]");
    button.addEventListener("click", async () => {
      button.disabled = true;
      const label = button.textContent;
      button.textContent = "Testing…";
      try {
        const response = await fetch(button.getAttribute("data-test-url"), {
          method: "POST",
          credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        });
        const data = await response.json().catch(() => ({}));
        if (!response.ok) {
          show(output, false, data.error ? data.error.message : `The test could not run (${response.status}).`);
        } else {
          const models = (data.models || []).length ? ` · ${data.models.length} models offered` : "";
          const latency = data.latency_ms != null ? ` · ${data.latency_ms} ms` : "";
          show(output, data.ok, `${data.message || ""}${latency}${models}`);
        }
      } catch (error) {
        show(output, false, "The test could not reach the server.");
      } finally {
        button.disabled = false;
        button.textContent = label;
      }
    });
  });
})();
