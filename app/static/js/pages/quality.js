/* The admin's data-quality map: a quality report (GeoJSON, one feature per finding) drawn over the
   grid's lines, the offending features highlighted; every text is set with textContent. */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("page-config").textContent);
  const L_ = config.labels;
  const map = L.map("quality-map", { preferCanvas: false }).setView(config.center, 14);
  const background = L.layerGroup().addTo(map);
  const findings = L.layerGroup().addTo(map);
  const table = document.getElementById("quality-items");
  const count = document.getElementById("quality-count");
  const source = document.getElementById("quality-source");
  const colour = (severity) => (severity === "error" ? "#d00000" : "#f08c00");
  let rows = [];

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value == null ? "" : String(value);
    if (cls) el.className = cls;
    return el;
  }

  fetch(config.lines, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)).then((fc) => {
    if (!fc) return;
    const layer = L.geoJSON(fc, { style: { color: "#9aa0a6", weight: 2, opacity: 0.8 }, interactive: false });
    layer.addTo(background);
    if (!findings.getLayers().length && layer.getBounds().isValid()) map.fitBounds(layer.getBounds());
  });

  function show(fc, where) {
    findings.clearLayers();
    table.replaceChildren();
    rows = [];
    source.textContent = where;
    const features = (fc && Array.isArray(fc.features)) ? fc.features : [];
    const head = document.createElement("tr");
    [L_.code, L_.layer, L_.id, L_.message].forEach((h) => head.appendChild(text("th", h)));
    table.appendChild(head);
    const errors = features.filter((f) => f.properties && f.properties.severity === "error").length;
    count.textContent = features.length
      ? `${features.length} ${L_.findings}: ${errors} ${L_.error}, ${features.length - errors} ${L_.warning}`
      : L_.none;
    features.forEach((f) => {
      const p = f.properties || {};
      const c = colour(p.severity);
      const drawn = f.geometry ? L.geoJSON(f, {
        style: { color: c, weight: 6, opacity: 0.9 },
        pointToLayer: (_, latlng) => L.circleMarker(latlng, { radius: 9, color: c, weight: 3, fillOpacity: 0.35 }),
      }) : null;
      const label = `${config.codes[p.code] || p.code} · ${p.layer || ""} ${p.id || ""}`;
      if (drawn) {
        const tip = document.createElement("div");
        tip.appendChild(text("strong", label));
        tip.appendChild(text("div", p.message));
        drawn.bindTooltip(tip, { sticky: true });
        drawn.addTo(findings);
      }
      const tr = document.createElement("tr");
      tr.appendChild(text("td", config.codes[p.code] || p.code, `sev-${p.severity === "error" ? "error" : "warning"}`));
      tr.appendChild(text("td", p.layer));
      tr.appendChild(text("td", p.id));
      tr.appendChild(text("td", p.message));
      tr.dataset.code = String(p.code || "");
      tr.addEventListener("click", () => {
        rows.forEach((r) => r.classList.remove("active"));
        tr.classList.add("active");
        if (drawn && drawn.getBounds().isValid()) {
          map.fitBounds(drawn.getBounds(), { maxZoom: 18, padding: [40, 40] });
          drawn.openTooltip(drawn.getBounds().getCenter());
        }
      });
      rows.push(tr);
      table.appendChild(tr);
    });
    if (findings.getLayers().length) {
      const b = L.featureGroup(findings.getLayers()).getBounds();
      if (b.isValid()) map.fitBounds(b, { maxZoom: 17, padding: [20, 20] });
    }
  }

  function loadGrid() {
    count.textContent = L_.loading;
    fetch(config.report, { credentials: "same-origin" }).then((r) => r.json()).then((fc) => show(fc, L_.from_grid));
  }

  document.getElementById("report-grid").addEventListener("click", loadGrid);
  document.getElementById("report-file").addEventListener("change", (ev) => {
    const file = ev.target.files && ev.target.files[0];
    if (!file) return;
    file.text().then((t) => {
      let fc = null;
      try { fc = JSON.parse(t); } catch (e) { fc = null; }
      if (!fc || fc.type !== "FeatureCollection" || !Array.isArray(fc.features)) {
        count.textContent = L_.bad_file;
        count.classList.add("error");
        return;
      }
      count.classList.remove("error");
      show(fc, `${L_.from_file}: ${file.name}`);
    });
  });
  loadGrid();
})();
