// The job page: polls the job API until the job ends, then links to what it made.
(function () {
  "use strict";

  const box = document.querySelector("[data-job]");
  if (!box) return;
  const url = box.getAttribute("data-job-url");
  const part = (name) => box.querySelector(`[data-job-${name}]`);
  const doing = `${box.getAttribute("data-job-doing")}…`;
  let delay = 500;

  function show(job) {
    const { done, total } = job.progress;
    part("done").textContent = String(done);
    part("total").textContent = String(total);
    part("bar").max = Math.max(total, 1);
    part("bar").value = done;
    if (job.status === "running") part("state").textContent = doing;
    if (job.status === "succeeded") {
      box.querySelector(".job__running").hidden = true;
      part("bar").hidden = true;
      part("result").href = job.result ? job.result.page_url : "";
      part("succeeded").hidden = false;
    } else if (job.status === "failed") {
      box.querySelector(".job__running").hidden = true;
      part("bar").hidden = true;
      part("error").textContent = job.error;
      part("failed").hidden = false;
    }
  }

  async function poll() {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok) {
        const job = await response.json();
        show(job);
        if (job.status === "succeeded" || job.status === "failed") return;
      }
    } catch (error) {
      // A network blip: try again below.
    }
    delay = Math.min(delay * 1.5, 3000);
    window.setTimeout(poll, delay);
  }

  const status = box.getAttribute("data-job-status");
  if (status === "queued" || status === "running") window.setTimeout(poll, delay);
})();
