// The class table refreshes itself: every few seconds it re-reads GET /api/labs/<id>/copies and
// rewrites the rows (text only, never HTML from the server), so check results change in place.
(function () {
  "use strict";
  const table = document.getElementById("class-table");
  if (!table) return;
  const body = table.tBodies[0];
  const status = document.getElementById("class-status");
  const lab = table.dataset.lab;
  const every = Number(table.dataset.refresh) || 3000;

  function cell(text, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    if (text !== null) td.textContent = text;
    return td;
  }

  function render(rows) {
    const out = rows.map((r) => {
      const tr = document.createElement("tr");
      tr.dataset.owner = r.owner;
      tr.append(cell(r.owner));
      const link = cell(null);
      const a = document.createElement("a");
      a.href = "/labs/" + r.id + "/";
      a.textContent = r.slug;
      link.append(a);
      tr.append(link, cell(String(r.version)), cell(r.state || "not deployed"));
      tr.append(cell(r.test ? r.test.passed + " passed, " + r.test.failed + " failed" : "not tested yet", "checks"));
      const details = cell(null, "details");
      for (const c of r.test ? r.test.checks : []) {
        const span = document.createElement("span");
        span.className = c.passed ? "ok" : "fail";
        span.textContent = (c.passed ? "✓ " : "✗ ") + c.check + (c.passed || !c.measured ? "" : " (" + c.measured + ")");
        details.append(span, " ");
      }
      tr.append(details);
      return tr;
    });
    if (!out.length) {
      const tr = document.createElement("tr");
      tr.className = "empty";
      const td = cell("No copies yet.");
      td.colSpan = 6;
      tr.append(td);
      out.push(tr);
    }
    body.replaceChildren(...out);
  }

  async function refresh() {
    try {
      const res = await fetch("/api/labs/" + lab + "/copies", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!res.ok) throw new Error("HTTP " + res.status);
      render(await res.json());
      status.textContent = "Updated " + new Date().toLocaleTimeString();
    } catch (e) {
      status.textContent = "Could not refresh: " + e.message;
    }
    setTimeout(refresh, every);
  }
  setTimeout(refresh, every);
})();
